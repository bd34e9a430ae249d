"""Production mode refuses insecure values; a bad value names its variable; check --deploy is clean."""

import os
import secrets
import subprocess
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "CENCOMM_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "CENCOMM_MASTER_KEY": urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "ALLOWED_HOSTS": "hub.example.org",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
}


def manage(env_changes: dict[str, str | None], *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CENCOMM_", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"))
    }
    for key, value in env_changes.items():
        if value is not None:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_settings_pass_check_deploy():
    result = manage(GOOD, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DEBUG": "true"}, "DEBUG"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 50}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"CENCOMM_MASTER_KEY": None}, "CENCOMM_MASTER_KEY"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"REDIS_URL": None}, "REDIS_URL"),
    ],
)
def test_production_refuses_insecure_values(change, named):
    result = manage({**GOOD, **change}, "check")
    assert result.returncode != 0
    assert named in result.stderr


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://u@host:notaport/db"}, "DATABASE_URL"),
        ({"DEBUG": "yes"}, "DEBUG"),
        ({"PORT": "eighty"}, "PORT"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"CENCOMM_ENV": "prod"}, "CENCOMM_ENV"),
        ({"CENCOMM_MASTER_KEY": "dG9vIHNob3J0"}, "CENCOMM_MASTER_KEY"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_message_naming_it(change, named):
    result = manage(change, "check")
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line and named in last_line


def test_secret_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "master.key"
    key_file.write_text(GOOD["CENCOMM_MASTER_KEY"])
    env = {**GOOD, "CENCOMM_MASTER_KEY": None, "CENCOMM_MASTER_KEY_FILE": str(key_file)}
    assert manage(env, "check", "--deploy").returncode == 0
    env["CENCOMM_MASTER_KEY_FILE"] = str(tmp_path / "missing.key")
    result = manage(env, "check")
    assert result.returncode != 0 and "CENCOMM_MASTER_KEY_FILE" in result.stderr
