"""What leaving a stay needs of the aftercare plan ("a patient leaves every level of
care with an aftercare plan").

Moving to another program needs a plan started (a draft is enough); a discharge, or a
move into continuing care (out of structured care, where check-ins begin), needs one
reviewed with the patient during this episode. Leavings nobody can plan for (the TEDS reasons below)
are never refused: the care team gets a task to bring the plan to the patient, except
after a death.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stepwise.aftercare.rules.plan import Status

# TEDS reasons for discharge (care.rules.DISCHARGE_REASONS) that are not planned:
# dropped out (which includes leaving against professional advice), terminated by the
# facility, incarcerated.
UNPLANNED = frozenset({2, 3, 5})
DEATH = 6


class Need(StrEnum):
    STARTED = "started"  # a transition: a plan that is not ended
    REVIEWED = "reviewed"  # a discharge or a move into continuing care: reviewed lately
    RECORD_ONLY = "record_only"  # not refused; a task if the plan is not active
    EXEMPT = "exempt"  # death: nothing to hand on


@dataclass(frozen=True)
class Leaving:
    to_next_program: bool
    discharge_reason: int | None = None
    into_continuing_care: bool = False


def need_for(leaving: Leaving) -> Need:
    if leaving.to_next_program or leaving.discharge_reason is None:
        return Need.REVIEWED if leaving.into_continuing_care else Need.STARTED
    if leaving.discharge_reason == DEATH:
        return Need.EXEMPT
    if leaving.discharge_reason in UNPLANNED:
        return Need.RECORD_ONLY
    return Need.REVIEWED


def exit_refusal(
    need: Need, status: str | None, *, ended_on: str = "", reviewed_before: str = ""
) -> str | None:
    """Why the leaving is refused, naming what is missing and how to fix it; None when
    the plan is enough (or the leaving is never refused). `reviewed_before` is the day
    of the plan's last review when that was before this episode's admission."""
    if need in (Need.RECORD_ONLY, Need.EXEMPT):
        return None
    where = "Open “Aftercare plan” from the patient's chart"
    if status is None:
        if need is Need.STARTED:
            return (
                f"No aftercare plan yet. {where} and start one with the patient before "
                "the move (a draft is enough to move between programs)."
            )
        return (
            f"No aftercare plan yet. {where}, write it with the patient and mark it "
            "reviewed with them before they leave structured care."
        )
    if status == Status.ENDED:
        return (
            f"The patient ended their aftercare plan{f' on {ended_on}' if ended_on else ''}. "
            f"{where} and restart it with them before they leave this program."
        )
    if need is Need.REVIEWED and status == Status.DRAFT:
        return (
            f"The aftercare plan is still a draft. {where}, go through it with the patient "
            "and record the review (“Reviewed with the patient”) before they leave "
            "structured care."
        )
    if need is Need.REVIEWED and reviewed_before:
        return (
            f"The aftercare plan was last reviewed with the patient on {reviewed_before}, "
            f"before this admission. {where}, go through it with them again and record "
            "the review before they leave structured care."
        )
    return None


def needs_task(need: Need, status: str | None) -> bool:
    """An unplanned leaving without an active plan: someone must bring the plan to
    the patient."""
    return need is Need.RECORD_ONLY and status != Status.ACTIVE
