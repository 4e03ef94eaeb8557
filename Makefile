# Two commands set everything up on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    migrate, load the demo and serve it on http://127.0.0.1:8000
#   make test   the whole test suite (extra pytest arguments: make test PYTEST_ARGS="-k seed")
# With DATABASE_URL=postgres://... in the environment both use PostgreSQL.
# Production (README, 生产部署): make serve [LOCAL=1], make backup, make restore FILE=...

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Touched after each install: requirements.txt is installed again only when it is newer.
INSTALLED := $(VENV)/.requirements-installed
ADDRESS ?= 127.0.0.1:8000
PYTEST_ARGS ?=
# A full run (no --only) writes its tables into README.md too.
BENCH_ARGS ?= --update-readme
# make serve LOCAL=1: a trial of the production server on this machine over plain HTTP.
LOCAL ?=
# make serve MIGRATE=0: the app servers after the first leave `migrate` to it.
MIGRATE ?= 1
BACKUP_DIR ?= backups
FILE ?=

.PHONY: run test lint bench serve backup restore

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

# The production server: gunicorn on ADDRESS with DEBUG off, against PostgreSQL, after the
# deployment check, migrate, the cache table and collectstatic (deploy/serve.sh).
serve: $(INSTALLED)
	BIN="$(BIN)" ADDRESS="$(ADDRESS)" LOCAL="$(LOCAL)" MIGRATE="$(MIGRATE)" deploy/serve.sh

# A dump of DATABASE_URL's PostgreSQL database into BACKUP_DIR, named <database>-<time>.dump.
backup: $(INSTALLED)
	$(BIN)/python manage.py backup_database --dir "$(BACKUP_DIR)"

# A dump of `make backup` restored into DATABASE_URL's database, which must be empty.
restore: $(INSTALLED)
	@test -n "$(FILE)" || { echo "用法：make restore FILE=backups/<库名>-<时间>.dump（DATABASE_URL 指向一个空数据库）。" >&2; exit 2; }
	$(BIN)/python manage.py restore_database "$(FILE)"

# The load and fault tests (benchmarks/load/, README 负载与故障测试), outside `make test`:
# locust, in a venv of its own (requirements-load.txt), drives the server of
# `make serve LOCAL=1`. `make load` needs DATABASE_URL=postgres://... (it makes its own
# database on that server); `make fault` makes its own PostgreSQL cluster (root).
LOAD_VENV := .venv-load
LOAD_INSTALLED := $(LOAD_VENV)/.requirements-installed
LOAD_ARGS ?= --update-readme
FAULT_ARGS ?= --update-readme

.PHONY: load fault

$(LOAD_VENV)/bin/python:
	$(PYTHON) -m venv $(LOAD_VENV)

$(LOAD_INSTALLED): requirements-load.txt | $(LOAD_VENV)/bin/python
	$(LOAD_VENV)/bin/python -m pip install --disable-pip-version-check -q -r requirements-load.txt
	touch $@

load: $(INSTALLED) $(LOAD_INSTALLED)
	@case "$$DATABASE_URL" in \
	  postgres://*|postgresql://*|pgsql://*) ;; \
	  *) echo "make load 需要 PostgreSQL：请设置 DATABASE_URL=postgres://用户@主机:5432/库名（负载测试在该服务器上另建数据库，不改动这个库）。" >&2; exit 2;; \
	esac
	$(BIN)/python -m benchmarks.load.run $(LOAD_ARGS)

fault: $(INSTALLED) $(LOAD_INSTALLED)
	$(BIN)/python -m benchmarks.load.fault $(FAULT_ARGS)
