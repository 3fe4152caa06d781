"""Scoped reads of patients: always within the actor's organization."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.patients.models import Patient

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")


def patients_of(actor: Actor) -> QuerySet[Patient]:
    return Patient.objects.filter(organization_id=actor.organization_id)


def patient_get(actor: Actor, public_id: uuid.UUID | str) -> Patient:
    """The patient if it belongs to the actor's organization; NotFound otherwise."""
    key = public_id_or_404(public_id)
    patient = patients_of(actor).filter(public_id=key).first()
    if patient is None:
        raise NotFound()
    return patient


def parse_search_date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date, no time)
        except ValueError:
            continue
    return None


def patient_search(actor: Actor, query: str) -> QuerySet[Patient]:
    """Patients matching a name, a date of birth or a record number, in name order.

    Every word must start a word of the patient's names; a date matches the
    date of birth; anything else may also be the start of a record number.
    """
    found = patients_of(actor)
    # NUL cannot be stored or compared in PostgreSQL text; it never matches a name.
    text = query.replace("\x00", "").strip()
    if not text:
        return found.order_by("family_name", "given_name", "id")
    born = parse_search_date(text)
    if born is not None:
        return found.filter(date_of_birth=born).order_by("family_name", "given_name", "id")
    words = [w for w in re.split(r"[\s,]+", text.lower()) if w]
    by_name = Q()
    for word in words:
        by_name &= Q(search_name__startswith=word) | Q(search_name__contains=f" {word}")
    by_mrn = Q(mrn__istartswith=text)
    return found.filter(by_name | by_mrn).order_by("family_name", "given_name", "id")


def staff_choices(actor: Actor) -> list[tuple[int, str]]:
    """Active staff of the actor's organization, for the care-team form."""
    staff = (
        get_user_model()
        .objects.filter(
            memberships__organization_id=actor.organization_id, memberships__is_active=True
        )
        .order_by("last_name", "first_name", "username")
        .values_list("id", "first_name", "last_name", "username", "memberships__role")
    )
    return [
        (pk, f"{first} {last} ({role})".strip() if first else f"{username} ({role})")
        for pk, first, last, username, role in staff
    ]


def patient_matches(
    actor: Actor, *, given_name: str, family_name: str, date_of_birth: date
) -> list[Patient]:
    """Patients who may be the same person: the same date of birth and family name
    (given names vary: nicknames, preferred names), exact given-name matches first.
    Shown for confirmation, never merged silently."""
    given = given_name.strip().lower()
    found = list(
        patients_of(actor).filter(
            date_of_birth=date_of_birth, family_name__iexact=family_name.strip()
        )[:20]
    )
    return sorted(
        found,
        key=lambda p: (
            given not in {p.given_name.lower(), p.preferred_name.lower()},
            p.family_name,
            p.given_name,
        ),
    )
