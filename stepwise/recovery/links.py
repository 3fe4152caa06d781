"""What other apps hold for recovery: where a response item's work is done (the plan
review lives with the treatment plan), and the places a screen may be collected (a
sober-living residency). Apps above register them when they load."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepwise.patients.models import Patient
    from stepwise.recovery.models import RelapseEvent

ResponseLink = Callable[["RelapseEvent"], str]
_LINKS: dict[str, ResponseLink] = {}


def register_response_link(item: str, link: ResponseLink) -> None:
    _LINKS[item] = link


def response_link(item: str, event: RelapseEvent) -> str:
    link = _LINKS.get(item)
    return link(event) if link else ""


# Where a screen may be collected besides the program (a sober-living residency): the
# app that holds the place says whether the place is the patient's and what to call it.
SettingLabel = Callable[["Patient", "uuid.UUID"], "str | None"]
_SETTINGS: dict[str, SettingLabel] = {}


def register_screen_setting(name: str, label: SettingLabel) -> None:
    _SETTINGS[name] = label


def screen_setting_label(name: str, patient: Patient, setting_id: uuid.UUID) -> str | None:
    """What to call the place, or None when it is unknown or not the patient's."""
    label = _SETTINGS.get(name)
    return label(patient, setting_id) if label else None
