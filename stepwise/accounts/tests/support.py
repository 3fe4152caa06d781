"""Helpers of the sign-in tests: a TOTP code as an authenticator app would show it,
and signing in through the real forms."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The app's current code (or a later one: a code is accepted once per time step)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, steps_ahead)
    return f"{value:0{device.digits}d}"


def device_for(user: Any) -> TOTPDevice:
    device: TOTPDevice = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return device


def password_step(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/login/", {"username": username, "password": password}, **extra)


def sign_in(client: Client, user: Any, device: TOTPDevice, password: str = PASSWORD) -> None:
    """Both steps, ending signed in and verified."""
    first = password_step(client, user.get_username(), password)
    assert first.status_code == 302 and first["Location"].startswith("/login/verify/")
    second = client.post(first["Location"], {"code": code_for(device)})
    assert second.status_code == 302, second.content.decode()[:500]
