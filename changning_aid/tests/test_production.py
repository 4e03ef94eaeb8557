"""The production server (`make serve`): gunicorn with DEBUG off, WhiteNoise's static files,
the database connections, the optional replica, the storage of uploads, LOCAL=1.

Settings are read in fresh processes with a production environment, as in test_deploy.py;
one test starts gunicorn itself with the project's configuration and talks HTTP to it.
"""

import gzip
import http.client
import json
import re
import socket
import subprocess
import sys
import time

import pytest

from changning_aid.tests.test_deploy import PROJECT_DIR, manage, production_environment

PRINT = "from django.conf import settings as s; import json; print(json.dumps({}, default=str))"


def production_settings(expression, **overrides):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        PRINT.format(expression),
        env=production_environment(**overrides),
    )
    return result


def settings_of(expression, **overrides):
    result = production_settings(expression, **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_serves_static_files_through_whitenoise_with_hashed_names():
    middleware, static = settings_of("[s.MIDDLEWARE, s.STORAGES['staticfiles']['BACKEND']]")
    assert middleware[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert static == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_keeps_database_connections_and_checks_them_before_reuse():
    default, routers, aliases = settings_of(
        "[{k: s.DATABASES['default'][k] for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', "
        "'ATOMIC_REQUESTS')}, s.DATABASE_ROUTERS, sorted(s.DATABASES)]",
        DATABASE_URL="postgres://aid@db.example:5432/changning_aid",
    )
    assert default == {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True, "ATOMIC_REQUESTS": True}
    assert routers == ["changning_aid.db_router.ReportReplicaRouter"]
    assert aliases == ["default"]


def test_a_replica_url_adds_a_read_only_replica_mirrored_under_the_tests():
    (replica,) = settings_of(
        "[s.DATABASES['replica']]",
        DATABASE_URL="postgres://aid@db.example:5432/changning_aid",
        DATABASE_REPLICA_URL="postgres://aid_read@replica.example:5432/changning_aid",
        CONN_MAX_AGE="300",
    )
    assert replica["HOST"] == "replica.example" and replica["USER"] == "aid_read"
    assert replica["OPTIONS"]["options"] == "-c jit=off -c default_transaction_read_only=on"
    assert replica["CONN_MAX_AGE"] == 300 and replica["CONN_HEALTH_CHECKS"] is True
    assert replica["TEST"]["MIRROR"] == "default"
    assert not replica.get("ATOMIC_REQUESTS")


def test_a_replica_needs_postgresql_on_both_sides():
    result = production_settings(
        "s.DEBUG",
        DATABASE_URL="sqlite://:memory:",
        DATABASE_REPLICA_URL="postgres://aid_read@replica.example:5432/changning_aid",
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL 只能与 PostgreSQL 的 DATABASE_URL 一起使用" in result.stderr


def test_check_deploy_is_clean_with_a_replica_configured():
    env = production_environment(
        # Nobody listens there: the deployment check's database reading is skipped.
        DATABASE_URL="postgres://aid@127.0.0.1:9/changning_aid",
        DATABASE_REPLICA_URL="postgres://aid@127.0.0.1:9/changning_aid",
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_uploads_go_to_the_storage_the_environment_names():
    (default,) = settings_of("[s.STORAGES['default']]")
    assert default == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"file_permissions_mode": 0o640, "directory_permissions_mode": 0o750},
    }
    (default,) = settings_of(
        "[s.STORAGES['default']]",
        MEDIA_STORAGE="storages.backends.s3.S3Storage",
        MEDIA_STORAGE_OPTIONS='{"bucket_name": "changning-aid", "endpoint_url": "https://oss.example"}',
    )
    assert default == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "changning-aid", "endpoint_url": "https://oss.example"},
    }


# ---- LOCAL=1 ------------------------------------------------------------------------------

SECURITY = (
    "[s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.DEBUG, s.SESSION_COOKIE_HTTPONLY]"
)


def test_local_relaxes_only_the_https_redirect_and_the_secure_cookies():
    production = settings_of(SECURITY, ALLOWED_HOSTS="127.0.0.1,localhost")
    local = settings_of(SECURITY, ALLOWED_HOSTS="127.0.0.1,localhost", LOCAL="on")
    year, header = 365 * 24 * 60 * 60, ["HTTP_X_FORWARDED_PROTO", "https"]
    assert production == [True, True, True, year, header, False, True]
    assert local == [False, False, False, year, header, False, True]


def test_local_refuses_a_host_name_other_than_the_loopback():
    result = production_settings("s.DEBUG", LOCAL="on")  # ALLOWED_HOSTS=aid.example.gov.cn
    assert result.returncode != 0
    assert "LOCAL=on 只用于在本机试运行" in result.stderr


def test_make_serve_local_refuses_an_address_other_than_the_loopback():
    result = subprocess.run(
        ["deploy/serve.sh"],
        cwd=PROJECT_DIR,
        env={**production_environment(), "LOCAL": "1", "ADDRESS": "0.0.0.0:8000"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "LOCAL=1 只用于在本机试运行" in result.stderr


def test_make_serve_refuses_sqlite():
    result = subprocess.run(
        ["deploy/serve.sh"],
        cwd=PROJECT_DIR,
        env={**production_environment(), "BIN": str(PROJECT_DIR / ".venv" / "bin")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "make serve 需要 PostgreSQL" in result.stderr


# ---- gunicorn -----------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, *, https=True, **headers):
    """GET `path` as the proxy passes it on: for https://aid.example.gov.cn, unless not `https`."""
    headers = {"Host": "aid.example.gov.cn", **headers}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def gunicorn(tmp_path):
    """gunicorn with the project's configuration and a production environment, after
    `collectstatic`; the database is an empty SQLite file (the pages below need none)."""
    port = free_port()
    env = production_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
    )
    collected = manage("collectstatic", "--no-input", "--verbosity", "0", env=env)
    assert collected.returncode == 0, collected.stderr
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "changning_aid/gunicorn.conf.py",
                "changning_aid.wsgi:application",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield port, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_gunicorn_serves_the_pages_with_debug_off_and_the_static_files(gunicorn):
    port, log = gunicorn
    # Plain HTTP is redirected to HTTPS: TLS ends at the proxy.
    status, headers, _ = get(port, "/accounts/login/", https=False)
    assert status == 301
    assert headers["Location"] == "https://aid.example.gov.cn/accounts/login/"

    status, headers, body = get(port, "/accounts/login/?next=/cases/310105199001011234/")
    page = body.decode()
    assert status == 200
    assert "登录" in page
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "; Secure" in headers["Set-Cookie"]
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page

    status, headers, body = get(port, stylesheet[1], **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert "长宁区社区救助顾问服务站点管理系统" in gzip.decompress(body).decode()
    assert get(port, "/static/css/app.css")[0] == 200  # the unhashed name, briefly cached
    assert get(port, "/static/css/missing.css")[0] == 404

    # DEBUG is off: a missing page is the site's own 404, not Django's debug page.
    status, _, body = get(port, "/no-such-page/")
    assert status == 404
    assert "页面不存在" in body.decode() and "URLconf" not in body.decode()

    # The access log has the path, never the query string.
    for _attempt in range(50):
        written = log.read_text()
        if written.count('"GET ') >= 6:
            break
        time.sleep(0.1)
    assert '"GET /accounts/login/" 200' in written
    assert "310105199001011234" not in written
