"""A plan revised for a relapse settles the relapse response's plan review when the
revision is signed, naming the signed version as its evidence."""

from __future__ import annotations

from datetime import timedelta

from stepwise.core.models import AuditEvent
from stepwise.plans.services.versions import review_start, version_sign
from stepwise.plans.tests.support import TODAY, signed
from stepwise.recovery.models import ResponseItem
from stepwise.recovery.services.relapse import UseDetails, relapse_record


def test_signing_a_relapse_revision_settles_the_plan_review(cast, episode):
    owner = cast.actors["owner"]
    v1 = signed(cast)
    use = UseDetails(used_on=TODAY - timedelta(days=1), kind="relapse", substances=[7], route=2)
    event = relapse_record(owner, cast.patient, use)
    item = ResponseItem.objects.get(event=event, item="plan_review")
    assert item.state == "open"
    v2 = review_start(
        owner, v1.plan, trigger="relapse", why="Used fentanyl on Sunday", source_id=event.public_id
    )
    item.refresh_from_db()
    assert item.state == "open"  # a review started is not yet a plan revised
    version_sign(owner, v2)
    item.refresh_from_db()
    assert (item.state, item.evidence_type, item.evidence_id) == (
        "done",
        "plan_version",
        v2.public_id,
    )
    assert item.note == "Treatment plan revised (version 2)"
    signing = AuditEvent.objects.filter(category="plans", detail__status="active").latest("id")
    assert signing.detail["relapse_response"] == "plan_review done"


def test_another_trigger_settles_nothing(cast, episode):
    owner = cast.actors["owner"]
    v1 = signed(cast)
    use = UseDetails(used_on=TODAY - timedelta(days=1), kind="lapse", substances=[7], route=2)
    event = relapse_record(owner, cast.patient, use)
    v2 = review_start(owner, v1.plan, trigger="scheduled", why="Monthly review")
    version_sign(owner, v2)
    assert ResponseItem.objects.get(event=event, item="plan_review").state == "open"


def test_the_relapse_page_links_to_a_review_that_names_the_relapse(cast, episode):
    owner = cast.actors["owner"]
    signed(cast)
    use = UseDetails(used_on=TODAY - timedelta(days=1), kind="relapse", substances=[7], route=2)
    event = relapse_record(owner, cast.patient, use)
    client = cast.client_for("owner")
    page = client.get(f"/recovery/patients/{cast.patient.public_id}/relapses/{event.public_id}/")
    review = f"/plans/patients/{cast.patient.public_id}/review/?trigger=relapse&amp;source={event.public_id}"
    assert review in page.content.decode()
    assert client.get(review.replace("&amp;", "&")).status_code == 200
