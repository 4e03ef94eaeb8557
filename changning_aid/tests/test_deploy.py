"""Production settings: `check --deploy` passes, the headers, no demo logins without DEBUG."""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.checks import Error
from django.db import connection
from django.http import HttpResponse
from django.urls import reverse

from accounts.choices import Role
from changning_aid.checks import (
    check_no_demo_users,
    check_no_demo_users_deploy,
    check_settings,
    demo_usernames_in,
)
from stations.tests.factories import make_district, make_street, make_user

PROJECT_DIR = Path(django_settings.BASE_DIR)
TEMPLATE_DIRS = [PROJECT_DIR / "templates"] + [
    path for path in PROJECT_DIR.glob("*/templates") if ".venv" not in path.parts
]


def production_environment(**overrides):
    """The environment of a production server: DEBUG off, real keys, a host name."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
        and not key.startswith(("OTP_", "HTTPS", "TRUSTED_PROXIES", "CSRF_"))
    }
    env.update(
        {
            # No .env beside manage.py decides for us, and a database nobody uses.
            "ENV_FILE": os.devnull,
            "DATABASE_URL": "sqlite://:memory:",
            "DEBUG": "off",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "aid.example.gov.cn",
            "CSRF_TRUSTED_ORIGINS": "https://aid.example.gov.cn",
            "FIELD_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(16)).decode(),
            "FIELD_HASH_KEY": base64.b64encode(os.urandom(32)).decode(),
            **overrides,
        }
    )
    return env


def manage(*args, env, timeout=180):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_environment())
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_with_development_shortcuts():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_environment(HTTPS="off"),
    )
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


PRINT_SETTINGS = """
from django.conf import settings as s
print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS,
      s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE,
      s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY,
      s.SECURE_CONTENT_TYPE_NOSNIFF, s.CSRF_TRUSTED_ORIGINS, s.OTP_REQUIRED_ROLES, sep="|")
"""


def test_production_switches_on_https_hsts_secure_cookies_and_the_second_factor():
    result = manage("shell", "-c", PRINT_SETTINGS, env=production_environment())
    assert result.returncode == 0, result.stderr
    values = result.stdout.strip().splitlines()[-1].split("|")
    assert values == [
        "False",
        "True",
        "('HTTP_X_FORWARDED_PROTO', 'https')",
        str(365 * 24 * 60 * 60),
        "True",
        "True",
        "True",
        "True",
        "DENY",
        "same-origin",
        "True",
        "['https://aid.example.gov.cn']",
        "['system_admin', 'audit_admin', 'bureau']",
    ]


def test_the_second_factor_roles_come_from_the_environment():
    env = production_environment(OTP_REQUIRED_ROLES="bureau, system_admin")
    result = manage("shell", "-c", PRINT_SETTINGS, env=env)
    assert result.stdout.strip().splitlines()[-1].endswith("['bureau', 'system_admin']")
    env = production_environment(OTP_REQUIRED_ROLES="")
    result = manage("shell", "-c", PRINT_SETTINGS, env=env)
    assert result.stdout.strip().splitlines()[-1].endswith("|[]")


def test_unknown_second_factor_roles_fail_the_system_check(settings):
    settings.OTP_REQUIRED_ROLES = ["bureau", "chief"]
    errors = [error for error in check_settings() if error.id == "changning_aid.E102"]
    assert len(errors) == 1 and "chief" in errors[0].msg


# ---- Content-Security-Policy ----------------------------------------------------------


CSP_DIRECTIVES = {
    "default-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def parse_csp(header):
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value.strip()
    return directives


@pytest.mark.django_db
def test_every_kind_of_page_carries_a_strict_content_security_policy(client, two_streets, login):
    pages = [reverse("login"), reverse("public:directory")]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200
        directives = parse_csp(response["Content-Security-Policy"])
        for name, value in CSP_DIRECTIVES.items():
            assert directives[name] == value, (path, name)
        # A nonce is added when a page uses one; nothing inline is allowed otherwise.
        assert re.fullmatch(r"'self'( 'nonce-[A-Za-z0-9+/=]+')?", directives["script-src"])
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
    login(two_streets.bureau)
    for path in (reverse("stations:overview"), reverse("admin:index")):
        response = client.get(path)
        assert response.status_code == 200
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_a_page_that_uses_the_nonce_allows_exactly_its_scripts(rf):
    from csp.middleware import CSPMiddleware

    middleware = CSPMiddleware(lambda request: HttpResponse("<script nonce=...>"))
    request = rf.get("/")
    middleware.process_request(request)
    nonce = str(request.csp_nonce)
    response = middleware.process_response(request, HttpResponse())
    script_src = parse_csp(response["Content-Security-Policy"])["script-src"]
    assert script_src == f"'self' 'nonce-{nonce}'"


def template_files():
    for folder in TEMPLATE_DIRS:
        yield from folder.rglob("*.html")


def test_no_template_has_inline_styles_or_scripts_without_a_nonce():
    offenders = []
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        if re.search(r"\sstyle\s*=", text):
            offenders.append(f"{path}: style attribute")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag:
                offenders.append(f"{path}: inline {tag}")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: inline event handler")
    assert offenders == []
    assert any(True for _ in template_files())


@pytest.mark.django_db
def test_pages_render_without_style_attributes(client, two_streets, login):
    login(two_streets.bureau)
    for path in (reverse("stations:overview"), reverse("security:overview")):
        body = client.get(path).content.decode()
        assert not re.search(r"<[^>]+\sstyle\s*=", body), path


def test_the_server_error_page_has_no_inline_style(client, settings):
    settings.DEBUG = False
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "style=" not in html
    assert "系统出错" in html and "css/app.css" in html


# ---- No demo logins without DEBUG -----------------------------------------------------


@pytest.mark.django_db
def test_demo_logins_fail_the_deployment_check_without_debug(settings):
    settings.DEBUG = False
    district = make_district()
    street = make_street(district, "华阳路街道", "310105001")
    make_user("street_manager_a", Role.STREET_MANAGER, street=street)  # not a demo name
    assert check_no_demo_users_deploy() == []

    make_user("bureau", Role.BUREAU, district=district)
    make_user("advisor_310105001001", Role.ADVISOR)
    errors = check_no_demo_users_deploy()
    assert len(errors) == 1 and isinstance(errors[0], Error)
    assert errors[0].id == "changning_aid.E110"
    assert "bureau" in errors[0].msg and "advisor_310105001001" in errors[0].msg
    # Told the databases (`migrate`, `check --database`), the database check reports it
    # and the deployment copy stays quiet: one error, not two.
    assert check_no_demo_users_deploy(databases=["default"]) == []
    assert [e.id for e in check_no_demo_users(databases=["default"])] == ["changning_aid.E110"]
    assert check_no_demo_users(databases=None) == []

    settings.DEBUG = True
    assert check_no_demo_users_deploy() == []


@pytest.mark.django_db
def test_deactivated_demo_logins_are_tolerated(settings):
    settings.DEBUG = False
    user = make_user("admin", Role.SYSTEM_ADMIN)
    assert check_no_demo_users_deploy() != []
    user.is_active = False
    user.save()
    assert check_no_demo_users_deploy() == []


@pytest.mark.django_db
def test_a_database_without_the_user_table_is_skipped(monkeypatch):
    monkeypatch.setattr(connection.introspection, "table_names", lambda *args, **kwargs: [])
    assert demo_usernames_in("default") == []


def test_the_check_runs_on_a_seeded_database_and_migrate_keeps_working(tmp_path):
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    development = {**production_environment(DATABASE_URL=database), "DEBUG": "on"}
    for command in (["migrate", "--no-input"], ["seed_demo", "--small"]):
        result = manage(*command, env=development, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr

    production = production_environment(DATABASE_URL=database)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production)
    assert result.returncode != 0
    assert "changning_aid.E110" in result.stderr
    assert "admin" in result.stderr
    # `migrate` runs the database checks: it refuses too, naming the demo logins once.
    result = manage("migrate", "--no-input", env=production)
    assert result.returncode != 0
    assert result.stderr.count("changning_aid.E110") == 1


def test_production_counts_public_ratings_in_a_cache_every_process_shares():
    """The flood limits of the public page hold across server processes: a database cache."""
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = manage("shell", "-c", show, env=production_environment())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == ("django.core.cache.backends.db.DatabaseCache")
