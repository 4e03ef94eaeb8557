# Two commands set everything up on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    migrate, load the demo and serve it on http://127.0.0.1:8000
#   make test   the whole test suite (extra pytest arguments: make test PYTEST_ARGS="-k seed")
# With DATABASE_URL=postgres://... in the environment both use PostgreSQL.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Touched after each install: requirements.txt is installed again only when it is newer.
INSTALLED := $(VENV)/.requirements-installed
ADDRESS ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: run test lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

# The development server with the demo; seed_demo refuses to run unless DEBUG is on.
run: export DEBUG := on
# The demo logins use the password alone unless OTP_REQUIRED_ROLES is set (README).
run: export OTP_REQUIRED_ROLES ?=
run: $(INSTALLED)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "请在浏览器打开 http://$(ADDRESS)/accounts/login/ ，用上面的演示账号登录（按 Ctrl+C 停止）。"
	$(BIN)/python manage.py runserver $(ADDRESS)

test: $(INSTALLED)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
