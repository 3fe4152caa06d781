"""The plan pages through the real client: a counselor starts, writes and signs the
plan, a relapse review from its link, the history of versions; a refused save keeps
what was typed; who may use each route; what the plan page, the chart's panel and
the worklist's section cost in queries."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, Program
from stepwise.care.services import stay_transition
from stepwise.core.models import Facility
from stepwise.notes.services.individual import NoteDraft, note_create, note_sign
from stepwise.notes.tests.support import DAP
from stepwise.plans.models import PlanVersion, TreatmentPlan, VersionStatus
from stepwise.plans.panels import plan_panel, reviews_due_section
from stepwise.plans.rules.content import Objective
from stepwise.plans.services.drafts import draft_item_add
from stepwise.plans.services.versions import review_start
from stepwise.plans.store import content_of
from stepwise.plans.tests.support import TODAY, WORDS, admitted, relapse_of, signed


def base(patient: Any) -> str:
    return f"/plans/patients/{patient.public_id}/"


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_a_counselor_writes_and_signs_the_plan_then_reviews_it_after_a_relapse(cast, episode):
    client = cast.client_for("owner")
    url = base(cast.patient)
    assert "Start the treatment plan" in client.get(url).content.decode()
    started = client.post(f"{url}start/")
    assert started.status_code == 302 and started["Location"] == f"{url}draft/"
    editor = client.get(f"{url}draft/").content.decode()
    assert "Draft version 1" in editor and "Add a problem" in editor

    added = client.post(
        f"{url}draft/problem/new/", {"dimension": "5", "statement": "Cravings after work"}
    )
    assert added.status_code == 302
    version = PlanVersion.objects.get()
    problem = content_of(version).problems[0]
    assert added["Location"] == f"{url}draft/#item-{problem.key}"
    client.post(f"{url}draft/goal/new/?parent={problem.key}", {"statement": "Stay abstinent"})
    goal = content_of(version).problems[0].goals[0]
    # A refused save keeps what was typed and names the field.
    refused = client.post(
        f"{url}draft/objective/new/?parent={goal.key}",
        {"statement": "Attends 3 meetings", "status": "open"},
    )
    html = refused.content.decode()
    assert (
        refused.status_code == 422
        and "Attends 3 meetings" in html
        and "This field is required." in html
    )
    target = (TODAY + timedelta(days=30)).isoformat()
    client.post(
        f"{url}draft/objective/new/?parent={goal.key}",
        {"statement": "Attends 3 meetings a week", "target_on": target, "status": "open"},
    )
    no_type = client.post(
        f"{url}draft/intervention/new/?parent={goal.key}",
        {"kind": "session", "sessions_per_week": "3", "responsible_role": "counselor"},
    )
    assert no_type.status_code == 422 and "Choose the session type." in no_type.content.decode()
    client.post(
        f"{url}draft/intervention/new/?parent={goal.key}",
        {
            "kind": "session",
            "session_type": "group_therapy",
            "sessions_per_week": "3",
            "responsible_role": "counselor",
        },
    )
    not_yet = client.get(f"{url}sign/").content.decode()
    assert "Before it is signed, the draft still needs" in not_yet
    assert "in their own words" in not_yet and "Sign version 1</button>" not in not_yet
    assert client.post(f"{url}sign/").status_code == 422
    client.post(f"{url}draft/details/", {"patient_words": WORDS})
    ready = client.get(f"{url}sign/").content.decode()
    assert "First version of the plan: 1 problem, 1 goal, 1 objective, 1 intervention." in ready
    assert "Next review by <strong>2026-12-02</strong> (every 30 days" in ready
    done = client.post(f"{url}sign/")
    assert done.status_code == 302 and done["Location"] == url
    page = client.get(url).content.decode()
    assert "Version 1" in page and "Group therapy, 3 times a week (Counselor)" in page
    assert escape(WORDS) in page and "Not yet addressed in a signed note." in page

    # A relapse's response links here with its event: trigger and source come filled in.
    event = relapse_of(cast)
    form = client.get(f"{url}review/?trigger=relapse&source={event}").content.decode()
    assert 'value="relapse" selected' in form and f'value="{event}"' in form
    no_why = client.post(f"{url}review/", {"trigger": "relapse", "source": str(event)})
    assert no_why.status_code == 422
    client.post(
        f"{url}review/", {"trigger": "relapse", "source": str(event), "why": "Used on Saturday"}
    )
    v2 = PlanVersion.objects.get(status=VersionStatus.DRAFT)
    assert (v2.number, v2.trigger, v2.source_type, v2.source_id) == (
        2,
        "relapse",
        "relapse_event",
        event,
    )
    objective = next(iter(content_of(v2).objectives()))
    edit = f"{url}draft/objective/{objective.key}/"
    assert "Attends 3 meetings a week" in client.get(edit).content.decode()
    client.post(
        edit, {"statement": "Attends 5 meetings a week", "target_on": target, "status": "revised"}
    )
    client.post(f"{url}sign/")
    page = client.get(url).content.decode()
    assert "Version 2" in page and "Relapse: Used on Saturday" in page
    assert (
        escape(
            'Objective 1.1.1 "Attends 5 meetings a week": status from open to revised; wording was "Attends 3 meetings a week".'
        )
        in page
    )
    v1 = PlanVersion.objects.get(number=1)
    old = client.get(f"{url}versions/{v1.public_id}/").content.decode()
    assert "Replaced by a later version" in old and "Attends 3 meetings a week" in old
    # A signed version's item pages send back: there is no draft any more.
    assert client.get(edit)["Location"] == url


def test_an_item_is_removed_from_the_draft_with_what_sits_under_it(cast, episode):
    v1 = signed(cast)
    review_start(cast.actors["owner"], v1.plan, trigger="scheduled", why="Monthly")
    client = cast.client_for("owner")
    draft = PlanVersion.objects.get(status="draft")
    problem = content_of(draft).problems[1]
    page = client.get(f"{base(cast.patient)}draft/problem/{problem.key}/").content.decode()
    assert "1 goal(s), 1 objective(s), 1 intervention(s)" in page
    gone = client.post(f"{base(cast.patient)}draft/items/{problem.key}/remove/")
    assert gone.status_code == 302
    assert len(content_of(draft).problems) == 1


def test_the_patients_signature_is_recorded_once_after_signing(cast, episode):
    v1 = signed(cast)
    client = cast.client_for("owner")
    url = f"{base(cast.patient)}versions/{v1.public_id}/patient-signature/"
    refused = client.post(url, {"signature": "declined", "reason": ""})
    assert refused.status_code == 422 and "Say why the patient declined" in refused.content.decode()
    done = client.post(url, {"signature": "signed", "name": "Ana Rivera", "on": TODAY.isoformat()})
    assert done.status_code == 302
    again = client.post(url, {"signature": "declined", "reason": "No"})
    assert again.status_code == 409
    assert 'Signed "Ana Rivera" on 2026-11-02' in client.get(base(cast.patient)).content.decode()


def test_the_director_sets_the_review_interval(cast):
    client = cast.client_for("director")
    page = client.get("/plans/settings/").content.decode()
    assert "Evening IOP (ASAM 2.1)" in page
    refused = client.post("/plans/settings/", {"review_interval_days": "3"})
    assert refused.status_code == 422
    saved = client.post(
        "/plans/settings/", {"review_interval_days": "30", f"program_{cast.iop.public_id}": "14"}
    )
    assert saved.status_code == 302
    assert cast.iop.plan_review_interval.review_interval_days == 14


# --- who may use each route ----------------------------------------------------------------

WHO = ("owner", "colleague", "readonly", "outsider")
ALLOWED = "allowed"


@pytest.fixture
def records(cast: Any, episode: Any) -> dict[str, str]:
    """Ana's plan: version 1 signed, version 2 a draft under review."""
    v1 = signed(cast)
    v2 = review_start(cast.actors["owner"], v1.plan, trigger="scheduled", why="Monthly")
    content = content_of(v2)
    problem = content.problems[0]
    objective = next(iter(content.objectives()))
    url = base(cast.patient)
    return {
        "plan": url,
        "version": f"{url}versions/{v1.public_id}/",
        "start": f"{url}start/",
        "draft": f"{url}draft/",
        "details": f"{url}draft/details/",
        "item_new": f"{url}draft/goal/new/?parent={problem.key}",
        "item_edit": f"{url}draft/objective/{objective.key}/",
        "item_remove": f"{url}draft/items/{objective.key}/remove/",
        "patient_signature": f"{url}versions/{v2.public_id}/patient-signature/",
        "sign": f"{url}sign/",
        "review": f"{url}review/",
        "settings": "/plans/settings/",
    }


# The counselor on the care team (owner), a nurse not on it (colleague), the privacy
# officer who reads charts and writes nothing (readonly), a director elsewhere.
WRITE = {"owner": 200, "colleague": 403, "readonly": 403, "outsider": 404}
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    "plan": ("get", {"owner": 200, "colleague": 403, "readonly": 200, "outsider": 404}),
    "version": ("get", {"owner": 200, "colleague": 403, "readonly": 200, "outsider": 404}),
    "start": ("post", {**WRITE, "owner": ALLOWED}),
    "draft": ("get", WRITE),
    "details": ("get", WRITE),
    "item_new": ("get", WRITE),
    "item_edit": ("get", WRITE),
    "item_remove": ("post", {**WRITE, "owner": ALLOWED}),
    "patient_signature": ("get", WRITE),
    "sign": ("get", WRITE),
    "review": ("get", {**WRITE, "owner": ALLOWED}),
    "settings": ("get", {"owner": 403, "colleague": 403, "readonly": 403, "outsider": 200}),
}


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_each_route_is_open_to_whom_it_should_be(cast, records, route):
    method, expected = EXPECTED[route]
    for who in WHO:
        response = getattr(cast.client_for(who), method)(records[route], {})
        want = expected[who]
        if want == ALLOWED:
            assert response.status_code in (200, 302, 409, 422), (who, route)
        else:
            assert response.status_code == want, (who, route, response.status_code)
        if response.status_code in (403, 404):
            assert "Rivera" not in response.content.decode(), (who, route)


def test_the_director_oversees_every_plan(cast, records):
    director = cast.client_for("director")
    for route in ("plan", "version", "draft", "sign", "settings"):
        assert director.get(records[route]).status_code == 200, route


# --- what the pages cost -------------------------------------------------------------------


def _grow(cast: Any, version: PlanVersion) -> None:
    """More of everything: objectives and signed notes that rated them."""
    for n in range(4):
        goal = content_of(version).problems[0].goals[0]
        draft_item_add(
            cast.actors["owner"],
            version,
            Objective(f"Objective {n}", TODAY + timedelta(days=n + 5)),
            parent=goal.key,
        )


def _rated_notes(cast: Any, keys: list[uuid.UUID]) -> None:
    owner = cast.actors["owner"]
    for key in keys:
        progress = {str(key): "progressing"}
        note_sign(owner, note_create(owner, cast.patient, NoteDraft("dap", DAP, progress=progress)))


# The session and the member (4), the patient and the care team (2), the plans (1), the
# open episode (1), the versions (1), the patient's zone (1), the contents (4), the
# notes' ratings (1) and the audit row (7).
PLAN_PAGE_QUERIES = 22
# A version: the session and the member (4), the patient and the care team (2), the
# version (1), its neighbours (1), the zone (1), the contents (4), the ratings (1), the
# audit row (7).
VERSION_PAGE_QUERIES = 21
# The draft editor: as the plan page, without the open episode and the ratings.
DRAFT_PAGE_QUERIES = 20


def test_the_plan_page_costs_the_same_however_big_the_plan(
    cast, episode, django_assert_num_queries
):
    client = cast.client_for("owner")
    url = base(cast.patient)
    small = signed(cast)
    with django_assert_num_queries(PLAN_PAGE_QUERIES):
        assert client.get(url).status_code == 200
    v2 = review_start(cast.actors["owner"], small.plan, trigger="scheduled", why="Bigger")
    _grow(cast, v2)
    client.post(f"{url}sign/")
    _rated_notes(cast, [o.key for o in content_of(v2).objectives()])
    with django_assert_num_queries(PLAN_PAGE_QUERIES):
        html = client.get(url).content.decode()
    assert "Objective 3" in html and html.count("Progress: <strong") == 7
    version = f"{url}versions/{v2.public_id}/"
    draft = f"{url}draft/"
    review_start(cast.actors["owner"], small.plan, trigger="scheduled", why="Again")
    assert queries_for(client, version) == VERSION_PAGE_QUERIES
    assert queries_for(client, f"{url}versions/{small.public_id}/") == VERSION_PAGE_QUERIES
    assert queries_for(client, draft) == DRAFT_PAGE_QUERIES
    _grow(cast, PlanVersion.objects.get(status="draft"))
    assert queries_for(client, draft) == DRAFT_PAGE_QUERIES


def test_the_chart_panel_costs_a_fixed_number_of_queries(cast, episode, django_assert_num_queries):
    owner = cast.actors["owner"]
    with django_assert_num_queries(1):
        panel = plan_panel(owner, cast.patient)
    assert panel.context["plan"].plan is None
    v1 = signed(cast)
    with django_assert_num_queries(4):
        panel = plan_panel(owner, cast.patient)
    assert len(panel.context["plan"].objectives) == 3
    v2 = review_start(owner, v1.plan, trigger="scheduled", why="Bigger")
    _grow(cast, v2)
    cast.client_for("owner").post(f"{base(cast.patient)}sign/")
    _rated_notes(cast, [o.key for o in content_of(v2).objectives()])
    with django_assert_num_queries(4):
        panel = plan_panel(owner, cast.patient)
    assert len(panel.context["plan"].objectives) == 7
    assert all(o.progress.count == 1 for o in panel.context["plan"].objectives)
    chart = cast.client_for("owner").get(f"/patients/{cast.patient.public_id}/").content.decode()
    assert "Treatment plan" in chart and "Version 2 in force" in chart


def test_the_worklist_section_costs_one_query_however_many_reviews(cast, django_assert_num_queries):
    owner, director = cast.actors["owner"], cast.actors["director"]
    patients = [cast.patient, *(cast.new_patient(f"RR-1{n}", f"Given{n}", "Due") for n in range(4))]
    for patient in patients:
        admitted(cast, patient)
        signed(cast, patient)
    now = timezone.now()
    with django_assert_num_queries(1):
        assert reviews_due_section(owner, now) is None  # due in 30 days: not yet
    TreatmentPlan.objects.filter(patient=cast.patient).update(review_due_on=TODAY)
    with django_assert_num_queries(1):
        one = reviews_due_section(owner, now)
    assert one is not None and [d.state for d in one.context["reviews"]] == ["due"]
    TreatmentPlan.objects.update(review_due_on=TODAY - timedelta(days=3))
    with django_assert_num_queries(1):
        many = reviews_due_section(director, now)
    assert many is not None and len(many.context["reviews"]) == 5
    assert {d.state for d in many.context["reviews"]} == {"overdue"}
    # The colleague (a nurse on no one's care team) sees none.
    assert reviews_due_section(cast.actors["colleague"], now) is None
    worklist = cast.client_for("owner").get("/worklist/").content.decode()
    assert "Treatment plan reviews due" in worklist and "Overdue since 2026-10-30" in worklist


def _program_in(cast: Any, facility: str, zone: str) -> Program:
    place = Facility.objects.create(organization=cast.org, name=facility, time_zone=zone)
    return Program.objects.create(
        organization=cast.org,
        facility=place,
        name=f"{facility} IOP",
        asam_level="2.1",
        teds_service=6,
    )


def test_a_review_is_due_on_the_day_of_the_facility_that_treats_the_patient(
    cast, django_assert_num_queries
):
    """At 20:00 UTC on TODAY it is already tomorrow on Kiritimati (UTC+14) and still
    TODAY in Pago Pago (UTC-11): each plan is judged by its own episode's facility,
    not by the organization's first facility (the atoll's, by name)."""
    atoll = _program_in(cast, "Atoll", "Pacific/Kiritimati")
    samoa = _program_in(cast, "Samoa", "Pacific/Pago_Pago")
    tomorrow = TODAY + timedelta(days=1)
    kiri, pago, late, moved = (
        cast.new_patient(f"RR-2{n}", name, "Zone")
        for n, name in enumerate(["Kai", "Pua", "Lia", "Moe"])
    )
    for patient, program in ((kiri, atoll), (pago, samoa), (late, samoa), (moved, samoa)):
        admitted(cast, patient, program)
    episode = Episode.objects.get(patient=moved)
    when = timezone.now() - timedelta(hours=2)
    prepare_exit(cast.actors["owner"], episode, samoa, when, ends_episode=False)
    stay_transition(
        cast.actors["owner"], episode, atoll, kind="transfer", reason="Moved islands", at=when
    )
    for patient in (kiri, pago, late, moved):
        signed(cast, patient)
    TreatmentPlan.objects.filter(patient__in=[kiri, pago, moved]).update(review_due_on=tomorrow)
    TreatmentPlan.objects.filter(patient=late).update(review_due_on=TODAY)
    now = timezone.now()
    assert now.astimezone(ZoneInfo("Pacific/Kiritimati")).date() == tomorrow
    assert now.astimezone(ZoneInfo("Pacific/Pago_Pago")).date() == TODAY
    with django_assert_num_queries(1):
        section = reviews_due_section(cast.actors["owner"], now)
    assert section is not None
    found = {d.patient.mrn: d.state for d in section.context["reviews"]}
    # Due tomorrow in Pago Pago: not yet. Due TODAY there: due, not overdue.
    assert found == {kiri.mrn: "due", moved.mrn: "due", late.mrn: "due"}
