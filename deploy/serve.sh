#!/usr/bin/env bash
# `make serve`: the production server. DEBUG off, PostgreSQL from DATABASE_URL, gunicorn
# (changning_aid/gunicorn.conf.py) listening on ADDRESS (default 127.0.0.1:8000) behind the
# reverse proxy that ends TLS, static files from STATIC_ROOT through WhiteNoise.
#
# Before gunicorn: the deployment check (refuses to start on a security setting left out or
# an active demo login), `migrate` (MIGRATE=0: another app server runs it), the cache table
# and `collectstatic`. Settings come from the environment or `.env` (README, 生产部署).
#
# LOCAL=1: the same production settings tried on this machine over plain HTTP, with only the
# redirect to HTTPS and the Secure flag of the cookies off (settings.LOCAL). ADDRESS must be a
# loopback address; without a SECRET_KEY a throwaway one is made for this run (the keys of
# FIELD_ENCRYPTION_KEYS never are: data encrypted under a lost key is lost).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
ADDRESS=${ADDRESS:-127.0.0.1:8000}
MIGRATE=${MIGRATE:-1}
export DEBUG=off

is_on() { case "${1,,}" in "" | 0 | off | no | false) return 1 ;; *) return 0 ;; esac; }

if is_on "${LOCAL:-}"; then
    case "${ADDRESS%:*}" in
    127.0.0.1 | localhost | "[::1]") ;;
    *)
        echo "LOCAL=1 只用于在本机试运行：ADDRESS 只能是 127.0.0.1、localhost 或 [::1]（现为 ${ADDRESS}）。" >&2
        exit 2
        ;;
    esac
    export LOCAL=on ALLOWED_HOSTS="127.0.0.1,localhost,[::1]"
    if [[ -z "${SECRET_KEY:-}" ]] && ! grep -qs '^SECRET_KEY=.' "${ENV_FILE:-.env}"; then
        SECRET_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')
        export SECRET_KEY
        echo "本次试运行使用临时生成的 SECRET_KEY（重启后需重新登录）。"
    fi
    # The relaxed settings are what the deployment check warns of: only errors stop a trial.
    fail_level=ERROR
else
    export LOCAL=off
    fail_level=WARNING
fi

"$BIN/python" manage.py check --deploy --fail-level "$fail_level"
if ! "$BIN/python" manage.py shell --no-imports -c \
    'import sys; from django.db import connection; sys.exit(connection.vendor != "postgresql")'; then
    echo "make serve 需要 PostgreSQL：请设置 DATABASE_URL=postgres://用户:密码@主机:5432/库名（环境变量或 .env）。" >&2
    exit 2
fi
if is_on "$MIGRATE"; then
    "$BIN/python" manage.py migrate --no-input
fi
"$BIN/python" manage.py createcachetable
"$BIN/python" manage.py collectstatic --no-input --verbosity 0

if is_on "${LOCAL:-}"; then
    echo "请在浏览器打开 http://${ADDRESS}/accounts/login/（按 Ctrl+C 停止）。"
fi
export GUNICORN_BIND="$ADDRESS"
exec "$BIN/gunicorn" -c changning_aid/gunicorn.conf.py changning_aid.wsgi:application
