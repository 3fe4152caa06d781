"""The scheduling settings: only the clinical director changes them, inside the ranges
the table enforces, and every change is audited with the old and new values."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from stepwise.core.errors import AccessDenied, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.scheduling.models import SchedulingSettings
from stepwise.scheduling.services.common import settings_of
from stepwise.scheduling.services.configuration import RANGES, scheduling_settings_save

pytestmark = pytest.mark.django_db


def test_the_director_changes_some_settings_and_the_others_keep_theirs(cast):
    row = scheduling_settings_save(cast.actors["director"], horizon_weeks=8, cosign_required=True)
    assert (row.horizon_weeks, row.cosign_required) == (8, True)
    assert row.absences_for_outreach == 2 and row.outreach_due_hours == 24
    assert row.changed_by == cast.users["director"]
    assert settings_of(cast.org.pk).horizon_weeks == 8
    event = AuditEvent.objects.get(action="settings_change")
    assert event.detail == {"horizon_weeks": [12, 8], "cosign_required": [False, True]}
    assert event.object_type == "scheduling_settings"
    assert event.object_id == str(cast.org.public_id)
    assert event.data_class == "system"


def test_saving_the_same_values_writes_no_audit_row(cast):
    director = cast.actors["director"]
    scheduling_settings_save(director, horizon_weeks=12, absences_for_outreach=2)
    assert not AuditEvent.objects.filter(action="settings_change").exists()


@pytest.mark.parametrize("setting", RANGES, ids=lambda s: s.name)
def test_each_range_takes_its_bounds_and_refuses_beyond_them(cast, setting):
    director = cast.actors["director"]
    for value in (setting.low, setting.high):
        assert getattr(
            scheduling_settings_save(director, **{setting.name: value}), setting.name
        ) == (value)
    for value in (setting.low - 1, setting.high + 1):
        with pytest.raises(ValidationFailed) as refused:
            scheduling_settings_save(director, **{setting.name: value})
        message = refused.value.errors[setting.name]
        assert message == (
            f"{setting.label}: allowed {setting.low} to {setting.high} {setting.unit}."
        )
    assert getattr(settings_of(cast.org.pk), setting.name) == setting.high


@pytest.mark.parametrize("setting", RANGES, ids=lambda s: s.name)
def test_the_ranges_are_the_tables_constraints(cast, setting):
    """A value the service refuses is one the database refuses too, and the reverse."""
    for value in (setting.low - 1, setting.high + 1):
        with pytest.raises(IntegrityError), transaction.atomic():
            SchedulingSettings.objects.create(organization=cast.org, **{setting.name: value})
    for value in (setting.low, setting.high):
        with transaction.atomic():
            SchedulingSettings.objects.create(organization=cast.org, **{setting.name: value})
            transaction.set_rollback(True)


def test_every_field_is_checked_at_once_and_nothing_is_saved(cast):
    with pytest.raises(ValidationFailed) as refused:
        scheduling_settings_save(
            cast.actors["director"],
            horizon_weeks=1,
            outreach_due_hours=True,  # a checkbox's value is not a number of hours
            cosign_required="yes",
            reminders=3,
        )
    errors = refused.value.errors
    assert set(errors) == {"horizon_weeks", "outreach_due_hours", "cosign_required", "reminders"}
    assert "whole number, 1 to 168 hours" in errors["outreach_due_hours"]
    assert errors["cosign_required"] == "Co-signature required: yes or no."
    assert errors["reminders"].startswith("Unknown setting; allowed: horizon_weeks")
    assert not SchedulingSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="settings_change").exists()


@pytest.mark.parametrize("who", ["owner", "colleague", "readonly", "admin"])
def test_only_the_clinical_director_changes_them(cast, who):
    with pytest.raises(AccessDenied):
        scheduling_settings_save(cast.actors[who], horizon_weeks=4)
    assert not SchedulingSettings.objects.exists()
    denied = AuditEvent.objects.get(action="access_denied")
    assert denied.detail == {"permission": "clinical.settings"}


def test_another_organization_keeps_its_own_settings(cast):
    scheduling_settings_save(cast.actors["outsider"], horizon_weeks=20)
    assert settings_of(cast.org.pk).horizon_weeks == 12
    assert settings_of(cast.other_org.pk).horizon_weeks == 20
