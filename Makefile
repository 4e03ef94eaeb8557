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
# A full run (no --only) writes its tables into README.md too.
BENCH_ARGS ?= --update-readme

.PHONY: run test lint bench

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

# The benchmarks (benchmarks/README.md): PostgreSQL only, on a database of their own that
# they create on DATABASE_URL's server. BENCH_SCALE=smoke|changning|shanghai (default shanghai).
bench: $(INSTALLED)
	@case "$$DATABASE_URL" in \
	  postgres://*|postgresql://*|pgsql://*) ;; \
	  *) echo "make bench 需要 PostgreSQL：请设置 DATABASE_URL=postgres://用户@主机:5432/库名（基准测试在该服务器上另建数据库，不改动这个库）。" >&2; exit 2;; \
	esac
	BENCH_SCALE="$(BENCH_SCALE)" $(BIN)/python -m benchmarks.run $(BENCH_ARGS)
