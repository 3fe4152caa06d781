"""What the scheduling services share: settings in force, the organization check,
local times for messages, and who may run a session."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from stepwise.care.models import Program, ProgramStaff
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.configuration import settings_stored
from stepwise.core.errors import AccessDenied, NotFound
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.scheduling.models import SchedulingSettings, Session

CATEGORY = "scheduling"


def settings_of(organization_id: int) -> SchedulingSettings:
    """The stored settings, or the defaults (unsaved) when none are stored."""
    return settings_stored(SchedulingSettings, organization_id)


def same_org(actor: Actor, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != actor.organization_id:
            raise NotFound()


def zone_of(program: Program) -> ZoneInfo:
    """The zone of the program's facility: its days, weeks and sessions run in it."""
    return ZoneInfo(program.facility.time_zone)


def local_text(at: datetime, zone: ZoneInfo) -> str:
    """'Mon 2026-12-07 18:00' in the facility's zone, for messages."""
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def may_run(actor: Actor, session: Session) -> bool:
    """The session's facilitator, the program's staff, and facility-wide roles run it
    (take attendance, see its roster, write its group note)."""
    if session.facilitator_id == actor.user_id or sees_all_patients(actor.role):
        return True
    return ProgramStaff.objects.filter(
        organization_id=actor.organization_id, program_id=session.program_id, user_id=actor.user_id
    ).exists()


def require_run(actor: Actor, session: Session) -> None:
    same_org(actor, session)
    require_permission(actor, Permission.SESSION_RUN, category=CATEGORY)
    if not may_run(actor, session):
        raise AccessDenied("Only the facilitator and the program's staff run this session.")
