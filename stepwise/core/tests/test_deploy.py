"""The production settings: `check --deploy` is clean, and missing secrets stop the start."""

from __future__ import annotations

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from stepwise.settings import DEV_AUDIT_KEY, DEV_SECRET_KEY

PROJECT_DIR = Path(__file__).resolve().parents[3]
REQUIRED = (
    "STEPWISE_SECRET_KEY",
    "STEPWISE_AUDIT_KEY",
    "STEPWISE_FIELD_KEYS",
    "STEPWISE_ALLOWED_HOSTS",
)


def production_secrets() -> dict[str, str]:
    return {
        "STEPWISE_SECRET_KEY": secrets.token_urlsafe(50),
        "STEPWISE_AUDIT_KEY": secrets.token_urlsafe(32),
        "STEPWISE_FIELD_KEYS": Fernet.generate_key().decode(),
        "STEPWISE_ALLOWED_HOSTS": "stepwise.example.org",
    }


def production_env(values: dict[str, str]) -> dict[str, str]:
    """This process's environment without any Stepwise setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPWISE_")}
    env["DJANGO_SETTINGS_MODULE"] = "stepwise.settings_production"
    env["STEPWISE_VAR_DIR"] = os.environ.get("STEPWISE_VAR_DIR", str(PROJECT_DIR / "var"))
    env.update(values)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (fixed arguments, this interpreter)
        [sys.executable, "-m", "stepwise", *args],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("as_files", [False, True], ids=["env", "files"])
def test_check_deploy_reports_no_issues(tmp_path: Path, as_files: bool) -> None:
    values = production_secrets()
    if as_files:
        for name in ("STEPWISE_SECRET_KEY", "STEPWISE_AUDIT_KEY", "STEPWISE_FIELD_KEYS"):
            secret_file = tmp_path / name.lower()
            secret_file.write_text(values.pop(name) + "\n")
            values[f"{name}_FILE"] = str(secret_file)

    done = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(values))

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_production_refuses_to_start_without_secrets() -> None:
    done = manage("check", env=production_env({}))

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "STEPWISE_SECRET_KEY is required in production" in done.stderr


def load_production_settings(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str]
) -> dict[str, Any]:
    """Run the production settings module afresh in this process with `values` set."""
    for name in REQUIRED:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return runpy.run_module("stepwise.settings_production")


@pytest.mark.parametrize("missing", REQUIRED)
def test_each_secret_is_required(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    values = production_secrets()
    values[missing] = "  "

    with pytest.raises(ImproperlyConfigured, match=missing):
        load_production_settings(monkeypatch, values)


@pytest.mark.parametrize(
    ("name", "dev_value"),
    [("STEPWISE_SECRET_KEY", DEV_SECRET_KEY), ("STEPWISE_AUDIT_KEY", DEV_AUDIT_KEY)],
)
def test_development_keys_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, dev_value: str
) -> None:
    values = production_secrets()
    values[name] = dev_value

    with pytest.raises(ImproperlyConfigured, match="development key"):
        load_production_settings(monkeypatch, values)


def test_secrets_may_come_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    values = production_secrets()
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(values.pop("STEPWISE_SECRET_KEY") + "\n")
    values["STEPWISE_SECRET_KEY_FILE"] = str(secret_file)
    values["STEPWISE_PROXY_SSL_HEADER"] = "X-Forwarded-Proto"

    loaded = load_production_settings(monkeypatch, values)

    assert loaded["SECRET_KEY"] == secret_file.read_text().strip()
    assert loaded["DEBUG"] is False
    assert loaded["REQUIRE_MFA"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["SECURE_HSTS_SECONDS"] >= 31536000
    assert loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"]
    assert loaded["ALLOWED_HOSTS"] == ["stepwise.example.org"]
