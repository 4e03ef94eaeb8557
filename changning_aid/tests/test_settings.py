"""Settings switched by the environment: what production refuses and what tests get."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher

PROJECT_DIR = settings.BASE_DIR


def run_check(**environment):
    """`manage.py check` in a fresh process with only the given settings in its environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    # A database nobody uses, so that no .env beside manage.py decides for us.
    env.update({"DATABASE_URL": "sqlite://:memory:", "DEBUG": "off", **environment})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "environment",
    [{"SECRET_KEY": "a-long-random-production-secret-0123456789"}, {"DEBUG": "on"}],
)
def test_starts_with_a_secret_key_or_in_development(environment):
    result = run_check(**environment)
    assert result.returncode == 0, result.stderr


def test_tests_use_a_fast_password_hasher():
    assert get_hasher().algorithm == "md5"


def test_the_ui_speaks_chinese_in_shanghai_time():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ
