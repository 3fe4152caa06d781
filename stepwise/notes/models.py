"""Clinical notes of therapy sessions: individual notes (DAP, BIRP or SOAP), group
notes (one shared narrative and a short entry per attending member), and addenda.

A note is drafted, signed, and co-signed by a supervisor where the organization asks
for it. A signed note is never changed (save() refuses it too): it is corrected by an
addendum, and a mistaken one is marked entered in error with a reason, never deleted.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from stepwise.care.models import Episode
from stepwise.core.models import TenantScoped
from stepwise.notes import rules
from stepwise.patients.models import Patient
from stepwise.scheduling.models import Session


class NoteFormat(models.TextChoices):
    DAP = "dap", rules.FORMATS["dap"].label
    BIRP = "birp", rules.FORMATS["birp"].label
    SOAP = "soap", rules.FORMATS["soap"].label


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AWAITING_COSIGN = "awaiting_cosign", "Signed, awaiting co-signature"
    SIGNED = "signed", "Signed"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class SignedNoteChanged(ValueError):
    """Raised by save() when the text of a signed note would change."""


def _signature_constraints(prefix: str) -> list[models.BaseConstraint]:
    """The states of a note and the signature fields each one has."""
    draft = models.Q(status=NoteStatus.DRAFT, signed_at__isnull=True, signed_by__isnull=True)
    signed_by_author = models.Q(signed_at__isnull=False, signed_by__isnull=False)
    awaiting = (
        models.Q(status=NoteStatus.AWAITING_COSIGN, needs_cosign=True, cosigned_at__isnull=True)
        & signed_by_author
    )
    signed = (
        models.Q(status=NoteStatus.SIGNED)
        & signed_by_author
        & (
            models.Q(needs_cosign=False, cosigned_at__isnull=True)
            | models.Q(needs_cosign=True, cosigned_at__isnull=False, cosigned_by__isnull=False)
        )
    )
    return [
        models.CheckConstraint(
            condition=models.Q(status__in=NoteStatus.values), name=f"{prefix}_status_valid"
        ),
        models.CheckConstraint(
            condition=draft | awaiting | signed | models.Q(status=NoteStatus.ENTERED_IN_ERROR),
            name=f"{prefix}_signature_matches_status",
        ),
        # Entered in error exactly when marked so, with who, when and why.
        models.CheckConstraint(
            condition=models.Q(
                status=NoteStatus.ENTERED_IN_ERROR,
                error_marked_at__isnull=False,
                error_marked_by__isnull=False,
            )
            & ~models.Q(error_reason="")
            | ~models.Q(status=NoteStatus.ENTERED_IN_ERROR)
            & models.Q(error_marked_at__isnull=True, error_reason=""),
            name=f"{prefix}_error_has_reason",
        ),
        models.CheckConstraint(
            condition=models.Q(cosigned_at__isnull=True) | models.Q(needs_cosign=True),
            name=f"{prefix}_cosigned_only_if_needed",
        ),
    ]


class SignedNote(TenantScoped):
    """What individual and group notes share: the author, the goals addressed, the
    status and the signatures."""

    # The fields that hold what the note says: frozen once the note is signed.
    FROZEN: ClassVar[tuple[str, ...]] = ()

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Short names of the treatment-plan goals the session addressed (until the plans
    # exist; then these become links to their goals).
    goals = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set when signed: whether a supervisor's co-signature is required.
    needs_cosign = models.BooleanField(default=False)
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    error_reason = models.TextField(blank=True)
    error_marked_at = models.DateTimeField(null=True, blank=True)
    error_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_draft(self) -> bool:
        return self.status == NoteStatus.DRAFT

    @property
    def is_signed(self) -> bool:
        """Signed by its author (co-signed or not): its text is final."""
        return self.status in (NoteStatus.SIGNED, NoteStatus.AWAITING_COSIGN)

    @property
    def awaits_cosign(self) -> bool:
        return self.status == NoteStatus.AWAITING_COSIGN

    @property
    def in_error(self) -> bool:
        return self.status == NoteStatus.ENTERED_IN_ERROR

    # Immutability: the text as loaded is kept, and save() compares against it.

    @classmethod
    def from_db(cls, *args: Any, **kwargs: Any) -> Any:
        instance = super().from_db(*args, **kwargs)
        instance._remember()
        return instance

    def _remember(self) -> None:
        loaded = self.__dict__
        self._stored_status = loaded.get("status")
        self._stored_text = {
            name: copy.deepcopy(loaded[name]) for name in self._frozen_attnames() if name in loaded
        }

    def _frozen_attnames(self) -> list[str]:
        return [self._meta.get_field(name).attname for name in self.FROZEN]  # type: ignore[union-attr]

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._remember()

    def _stored(self) -> tuple[str | None, dict[str, Any]]:
        """The status and text as stored: remembered when loaded, else read (a row
        built by hand with the id of a stored one)."""
        if hasattr(self, "_stored_status"):
            return self._stored_status, getattr(self, "_stored_text", {})
        names = self._frozen_attnames()
        row = type(self)._default_manager.filter(pk=self.pk).values("status", *names).first()
        if row is None:
            return None, {}
        return row.pop("status"), row

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored_status, stored_text = self._stored() if self.pk is not None else (None, {})
        if stored_status not in (None, NoteStatus.DRAFT):
            changed = [
                name for name, value in stored_text.items() if self.__dict__.get(name) != value
            ]
            if changed:
                raise SignedNoteChanged(
                    f"A signed note is not changed; add an addendum (changed: {', '.join(changed)})."
                )
            if self.status not in _NEXT_STATUSES.get(str(stored_status), ()):
                raise SignedNoteChanged(
                    f"A note that is {stored_status} cannot become {self.status}."
                )
        super().save(*args, **kwargs)
        self._remember()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        stored_status = self._stored()[0] if self.pk is not None else None
        if stored_status not in (None, NoteStatus.DRAFT) or self.signed_at:
            raise SignedNoteChanged("A signed note is never deleted; mark it entered in error.")
        return super().delete(*args, **kwargs)


# Where a note may go once it left the draft: co-signed, or marked entered in error;
# never back to a draft.
_NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    NoteStatus.AWAITING_COSIGN: (
        NoteStatus.AWAITING_COSIGN,
        NoteStatus.SIGNED,
        NoteStatus.ENTERED_IN_ERROR,
    ),
    NoteStatus.SIGNED: (NoteStatus.SIGNED, NoteStatus.ENTERED_IN_ERROR),
    NoteStatus.ENTERED_IN_ERROR: (NoteStatus.ENTERED_IN_ERROR,),
}


class ClinicalNote(SignedNote):
    """An individual note about one patient, in one of the formats, its text kept by
    section key ({"data": "...", "assessment": "...", "plan": "..."})."""

    FROZEN = ("patient", "episode", "session", "format", "sections", "goals", "occurred_at")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="clinical_notes")
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, null=True, blank=True, related_name="clinical_notes"
    )
    # The session it documents (an individual therapy appointment), if any.
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, null=True, blank=True, related_name="clinical_notes"
    )
    format = models.CharField(max_length=10, choices=NoteFormat.choices)
    sections = models.JSONField(default=dict)
    # When the service took place, and the zone it is shown in (the patient's facility).
    occurred_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64, default="UTC")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            *_signature_constraints("clinicalnote"),
            models.CheckConstraint(
                condition=models.Q(format__in=NoteFormat.values), name="clinicalnote_format_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "patient", "occurred_at"], name="clinicalnote_chart_idx"
            ),
            models.Index(
                fields=["organization", "status"],
                condition=models.Q(status=NoteStatus.AWAITING_COSIGN),
                name="clinicalnote_cosign_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_format_display()} note {self.public_id}"

    @property
    def definition(self) -> rules.NoteFormatDefinition:
        return rules.FORMATS[self.format]

    def section_texts(self) -> list[tuple[rules.Section, str]]:
        """Each section of the format in order, with its text."""
        return [(s, str(self.sections.get(s.key, ""))) for s in self.definition.sections]


class GroupNote(SignedNote):
    """The note of one group session: a narrative every attending member shares, and
    one short entry per attending member (GroupNoteEntry) that only that member's
    chart shows. One live note per session; one marked entered in error may be
    replaced by another."""

    FROZEN = ("session", "narrative", "goals")

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="group_notes")
    narrative = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            *_signature_constraints("groupnote"),
            models.UniqueConstraint(
                fields=["session"],
                condition=~models.Q(status=NoteStatus.ENTERED_IN_ERROR),
                name="groupnote_one_live_per_session",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "session"], name="groupnote_session_idx"),
            models.Index(
                fields=["organization", "status"],
                condition=models.Q(status=NoteStatus.AWAITING_COSIGN),
                name="groupnote_cosign_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Group note {self.public_id}"


class GroupNoteEntry(TenantScoped):
    """The individualized part of a group note about one member who attended. Shown
    only in that member's chart, never to another member's."""

    group_note = models.ForeignKey(GroupNote, on_delete=models.PROTECT, related_name="entries")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="group_note_entries"
    )
    text = models.TextField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group_note", "patient"], name="groupnoteentry_one_per_member"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "patient"], name="groupnoteentry_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"Entry {self.public_id} of group note {self.group_note_id}"

    def _note_status(self) -> str | None:
        """The stored status of its group note (read, never taken from a cached copy)."""
        return (
            GroupNote.objects.filter(pk=self.group_note_id).values_list("status", flat=True).first()
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._note_status() not in (None, NoteStatus.DRAFT):
            raise SignedNoteChanged("A signed group note is not changed; add an addendum.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._note_status() not in (None, NoteStatus.DRAFT):
            raise SignedNoteChanged("A signed group note is never changed; add an addendum.")
        return super().delete(*args, **kwargs)


class Addendum(TenantScoped):
    """A later addition to a signed note, final when written. To a group note it is
    either shared (no patient: every member's chart shows it) or about one member
    (that member's chart only)."""

    clinical_note = models.ForeignKey(
        ClinicalNote, on_delete=models.PROTECT, null=True, blank=True, related_name="addenda"
    )
    group_note = models.ForeignKey(
        GroupNote, on_delete=models.PROTECT, null=True, blank=True, related_name="addenda"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(clinical_note__isnull=False, group_note__isnull=True)
                | models.Q(clinical_note__isnull=True, group_note__isnull=False),
                name="addendum_to_one_note",
            ),
            models.CheckConstraint(
                condition=models.Q(clinical_note__isnull=True) | models.Q(patient__isnull=True),
                name="addendum_member_only_on_group",
            ),
            models.CheckConstraint(condition=~models.Q(text=""), name="addendum_has_text"),
        ]
        indexes = [
            models.Index(fields=["organization", "clinical_note"], name="addendum_note_idx"),
            models.Index(
                fields=["organization", "group_note", "patient"], name="addendum_group_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum {self.public_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise SignedNoteChanged("An addendum is final when written; add another one.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SignedNoteChanged("An addendum is never deleted.")


class ProgressRating(models.TextChoices):
    PROGRESSING = "progressing", rules.PROGRESS_RATINGS["progressing"]
    NO_CHANGE = "no_change", rules.PROGRESS_RATINGS["no_change"]
    REGRESSED = "regressed", rules.PROGRESS_RATINGS["regressed"]
    MET = "met", rules.PROGRESS_RATINGS["met"]


class ObjectiveProgress(TenantScoped):
    """A note's rating of one treatment-plan objective the session addressed: of an
    individual note, or of one member's entry of a group note (that member's chart
    only). The objective is named by its key, which stays the same through the plan's
    versions; its wording is kept as it read when the note was written. Frozen with
    its note once signed."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    objective_key = models.UUIDField()
    objective_text = models.TextField()
    clinical_note = models.ForeignKey(
        ClinicalNote,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="objective_progress",
    )
    group_note_entry = models.ForeignKey(
        GroupNoteEntry,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="objective_progress",
    )
    rating = models.CharField(max_length=12, choices=ProgressRating.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(clinical_note__isnull=False, group_note_entry__isnull=True)
                | models.Q(clinical_note__isnull=True, group_note_entry__isnull=False),
                name="objectiveprogress_of_one_note",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__in=ProgressRating.values),
                name="objectiveprogress_rating_valid",
            ),
            models.UniqueConstraint(
                fields=["clinical_note", "objective_key"],
                condition=models.Q(clinical_note__isnull=False),
                name="objectiveprogress_once_per_note",
            ),
            models.UniqueConstraint(
                fields=["group_note_entry", "objective_key"],
                condition=models.Q(group_note_entry__isnull=False),
                name="objectiveprogress_once_per_entry",
            ),
        ]
        indexes = [
            # The plan: the ratings of a patient's objectives.
            models.Index(
                fields=["organization", "patient", "objective_key"],
                name="objectiveprogress_patient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()}: {self.objective_text[:40]}"

    def _note_status(self) -> str | None:
        """The stored status of the note it belongs to."""
        if self.clinical_note_id is not None:
            return (
                ClinicalNote.objects.filter(pk=self.clinical_note_id)
                .values_list("status", flat=True)
                .first()
            )
        return (
            GroupNote.objects.filter(entries__pk=self.group_note_entry_id or 0)
            .values_list("status", flat=True)
            .first()
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._note_status() not in (None, NoteStatus.DRAFT):
            raise SignedNoteChanged("A signed note is not changed; add an addendum.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._note_status() not in (None, NoteStatus.DRAFT):
            raise SignedNoteChanged("A signed note is never changed; add an addendum.")
        return super().delete(*args, **kwargs)
