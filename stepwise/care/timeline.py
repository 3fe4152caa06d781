"""Turns a patient's episodes into the chart's timeline: admissions, stays,
transitions with their reasons, and discharges with their TEDS reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stepwise.care import rules
from stepwise.care.models import Episode, Stay

REASON_LABELS = dict(rules.DISCHARGE_REASONS)
REFERRAL_LABELS = dict(rules.REFERRAL_SOURCES)
TRANSITION_LABELS = {kind.value: label for kind, label in rules.TRANSITION_LABELS.items()}


@dataclass(frozen=True)
class TimelineEvent:
    kind: str  # admission | transition | discharge
    at: datetime
    title: str
    detail: str = ""
    by: str = ""
    # The facility's time zone: times are shown as the staff there lived them.
    zone: str = "UTC"


@dataclass
class EpisodeTimeline:
    episode: Episode
    stays: list[Stay]
    events: list[TimelineEvent] = field(default_factory=list)
    length: timedelta | None = None
    is_readmission: bool = False

    @property
    def current_stay(self) -> Stay | None:
        return self.stays[-1] if self.stays and self.stays[-1].ended_at is None else None


def _who(user: object) -> str:
    if user is None:
        return ""
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "username", ""))


def episode_timeline(episode: Episode, now: datetime) -> EpisodeTimeline:
    """Build one episode's timeline from its prefetched stays (no queries)."""
    stays = list(episode.stays.all())
    events: list[TimelineEvent] = []
    for index, stay in enumerate(stays):
        program = stay.program
        where = f"{program.name} · {program.level_display} · {program.facility.name}"
        if index == 0:
            referral = REFERRAL_LABELS.get(episode.referral_source, "")
            detail = f"Referral: {referral}" if episode.referral_source != -9 else ""
            events.append(
                TimelineEvent(
                    "admission",
                    stay.started_at,
                    f"Admitted to {where}",
                    detail,
                    _who(stay.entered_by),
                    program.facility.time_zone,
                )
            )
        else:
            label = TRANSITION_LABELS.get(stay.entry_kind, stay.entry_kind)
            before = stays[index - 1].program
            events.append(
                TimelineEvent(
                    "transition",
                    stay.started_at,
                    f"{label}: {before.name} ({before.asam_level}) → {program.name} ({program.asam_level})",
                    stay.entry_reason,
                    _who(stay.entered_by),
                    program.facility.time_zone,
                )
            )
    if episode.discharged_at is not None and episode.discharge_reason is not None:
        reason = REASON_LABELS.get(episode.discharge_reason, "")
        events.append(
            TimelineEvent(
                "discharge",
                episode.discharged_at,
                f"Discharged: {reason} (TEDS reason {episode.discharge_reason})",
                episode.discharge_note,
                _who(episode.discharged_by),
                stays[-1].program.facility.time_zone if stays else "UTC",
            )
        )
    end = episode.discharged_at or now
    return EpisodeTimeline(
        episode=episode,
        stays=stays,
        events=events,
        length=end - episode.admitted_at,
        is_readmission=episode.previous_episode_id is not None,
    )
