"""Residences in the JSON API v1."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["residences"])
