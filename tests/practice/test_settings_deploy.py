"""Production settings, checked in a fresh process with only the environment a deployment would set."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "practice.example.org",
    # Never connected to: the checks below do not open the database.
    "DATABASE_URL": "postgres://practice:secret@db.invalid:5432/practice",
}


def run_manage(*args: str, **overrides: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", *PRODUCTION}}
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="practice.settings")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_no_warnings_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_does_warn_when_a_protection_is_turned_off():
    # Proves the check above can fail: without HSTS, Django's deploy check warns.
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


def test_production_defaults_are_safe():
    code = (
        "from django.conf import settings as s; "
        "print(s.PRACTICE_REQUIRE_2FA, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_AGE, s.PRACTICE_SESSION_IDLE_TIMEOUT)"
    )
    result = run_manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "31536000", "43200", "1800"]


def test_the_local_demo_may_run_without_two_factor():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.PRACTICE_REQUIRE_2FA)",
        DEBUG="1",
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "a" * 80}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(60)}, "SECRET_KEY is too weak"),
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"DATABASE_URL": "mysql://practice@db.invalid/practice"}, "DATABASE_URL must point at PostgreSQL"),
        ({"PRACTICE_REQUIRE_2FA": "sometimes"}, "PRACTICE_REQUIRE_2FA must be one of"),
        ({"DATABASE_POOL_MAX_SIZE": "-1"}, "DATABASE_POOL_MAX_SIZE must be 0"),
        ({"CONN_MAX_AGE": "forever"}, "CONN_MAX_AGE must be a whole number"),
        ({"CSRF_TRUSTED_ORIGINS": "practice.example.org"}, "CSRF_TRUSTED_ORIGINS entries must start with"),
    ],
)
def test_bad_production_settings_refuse_to_start_with_a_clear_message(overrides, message):
    result = run_manage("check", **overrides)
    assert result.returncode != 0
    assert message in result.stderr


def test_database_pooling_is_set_from_the_environment():
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(d['OPTIONS'].get('pool', {}).get('max_size'), d['CONN_MAX_AGE'], d['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    pooled = run_manage("shell", "--no-imports", "-c", code, DATABASE_POOL_MAX_SIZE="4")
    assert pooled.stdout.split() == ["4", "0", "False"], pooled.stderr
    bouncer = run_manage("shell", "--no-imports", "-c", code, DATABASE_DISABLE_SERVER_SIDE_CURSORS="1")
    assert bouncer.stdout.split() == ["None", "60", "True"], bouncer.stderr


def test_postgresql_connections_run_without_jit_unless_turned_off_for_pgbouncer():
    code = "from django.conf import settings as s; print(repr(s.DATABASES['default']['OPTIONS'].get('options')))"
    assert run_manage("shell", "--no-imports", "-c", code).stdout.strip() == "'-c jit=off'"
    bouncer = run_manage("shell", "--no-imports", "-c", code, DATABASE_JIT_OFF="0")
    assert bouncer.stdout.strip() == "None", bouncer.stderr


@pytest.mark.django_db
def test_the_database_session_has_jit_off():
    """What the setting is for: PostgreSQL compiled short admin queries for half a second (see settings)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
