"""The demo's treatment plans: one per admission in care, most signed, a few drafts,
a scheduled review and the relapse's review left as drafts; loaded once."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command

from stepwise.care.models import Episode
from stepwise.core.audit import audit_verify
from stepwise.plans.models import PlanVersion, TreatmentPlan
from stepwise.recovery.models import RelapseEvent


def test_the_demo_plans_are_signed_and_the_relapse_review_is_open(db: Any) -> None:
    call_command("demo_load", stdout=io.StringIO())
    org = {"organization__slug": "riverside"}
    open_episodes = set(Episode.objects.filter(status="open", **org).values_list("pk", flat=True))
    plans = TreatmentPlan.objects.filter(**org)
    assert set(plans.values_list("episode_id", flat=True)) == open_episodes
    signed = plans.filter(last_signed_at__isnull=False).count()
    drafts_only = plans.filter(last_signed_at__isnull=True).count()
    assert drafts_only >= 2 and signed == len(open_episodes) - drafts_only
    # Every signed plan has its review date and a medication intervention shows up.
    assert not plans.filter(last_signed_at__isnull=False, review_due_on__isnull=True).exists()
    relapse = RelapseEvent.objects.get(status="confirmed", **org)
    review = PlanVersion.objects.get(plan__patient=relapse.patient, status="draft")
    assert (review.number, review.trigger) == (2, "relapse")
    assert (review.source_type, review.source_id) == ("relapse_event", relapse.public_id)
    assert PlanVersion.objects.filter(status="draft", trigger="scheduled", **org).count() == 1

    versions = PlanVersion.objects.count()
    call_command("demo_plans", stdout=io.StringIO())
    assert PlanVersion.objects.count() == versions
    assert audit_verify() == []
