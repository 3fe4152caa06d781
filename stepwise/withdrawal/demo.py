"""The demo's detox staff complete the safe-discharge bundle before a patient leaves,
through the same service the nurses use."""

from __future__ import annotations

from datetime import datetime, timedelta

from stepwise.care.models import Episode, Program
from stepwise.core.actor import Actor
from stepwise.withdrawal.services.discharge import bundle_item_record


def complete_bundle_before_leaving(
    actor: Actor, episode: Episode, program: Program, at: datetime, ends_episode: bool
) -> None:
    if not program.is_withdrawal_management:
        return
    patient = episode.patient
    done_at = at - timedelta(hours=2)
    bundle_item_record(actor, patient, item="naloxone_kit", state="done", at=done_at)
    bundle_item_record(actor, patient, item="overdose_education", state="done", at=done_at)
    bundle_item_record(
        actor, patient, item="moud_offer", state="done", moud_answer="accepted", at=done_at
    )
    if ends_episode:
        bundle_item_record(
            actor,
            patient,
            item="next_care",
            state="done",
            appointment_at=at + timedelta(days=3),
            appointment_with="Riverside Outpatient Clinic intake",
            at=done_at,
        )
