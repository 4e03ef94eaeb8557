"""E-mail settings from the environment: a configured server, the console in development,
nothing otherwise."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k, None)"
    " for k in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_USE_TLS',"
    " 'EMAIL_USE_SSL', 'NOTIFICATION_EMAIL')}))"
)


def email_settings(**environment):
    """The e-mail settings of a fresh process with only the given variables set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EMAIL_", "NOTIFICATION_", "DJANGO_"))
        and key not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")
    }
    env.update(
        {
            "ENV_FILE": "/dev/null",
            "DATABASE_URL": "sqlite://:memory:",
            "SECRET_KEY": "a-long-random-production-secret-0123456789",
            "DEBUG": "off",
            **environment,
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}),
        ({"DEBUG": "on"}, {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            {"EMAIL_URL": "smtp+tls://notice:secret@smtp.example.gov.cn:587"},
            {
                "EMAIL_BACKEND": SMTP,
                "EMAIL_HOST": "smtp.example.gov.cn",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "notice",
                "EMAIL_USE_TLS": True,
                "NOTIFICATION_EMAIL": True,
            },
        ),
        (
            {"EMAIL_HOST": "smtp.example.gov.cn", "EMAIL_USE_SSL": "on"},
            {"EMAIL_BACKEND": SMTP, "EMAIL_PORT": 465, "EMAIL_USE_SSL": True},
        ),
    ],
)
def test_email_is_sent_through_a_configured_server_or_the_console_in_development(
    environment, expected
):
    found = email_settings(**environment)
    assert {key: found[key] for key in expected} == expected
    assert found["NOTIFICATION_EMAIL"] is (environment != {})


def test_notification_email_can_be_turned_off():
    found = email_settings(EMAIL_URL="smtp://smtp.example.gov.cn", NOTIFICATION_EMAIL="off")
    assert found["EMAIL_BACKEND"] == SMTP and found["NOTIFICATION_EMAIL"] is False
