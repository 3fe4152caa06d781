"""Order sets per program: the director keeps them (only comfort and rescue lines,
each valid as an order), physicians place one in a step from the eMAR or the API,
and the default comfort set can be turned off for a unit."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stepwise.api.tests.support import Api
from stepwise.care.models import Program
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction, AuditEvent
from stepwise.withdrawal.models import MedicationOrder, OrderSet, OrderSetLine
from stepwise.withdrawal.order_sets import DEFAULT_KEY, available_set, available_sets
from stepwise.withdrawal.services.medications import order_set_apply
from stepwise.withdrawal.services.order_sets import (
    LineInput,
    default_set_offer,
    order_set_create,
    order_set_retire,
    order_set_update,
)
from stepwise.withdrawal.tests.support import admit_to_detox, heroin_admission, staff

pytestmark = pytest.mark.django_db

NALOXONE = LineInput(
    drug="naloxone",
    dose_mg=Decimal(4),
    route="intranasal",
    frequency="q2h_prn",
    prn_indication="Suspected overdose: slow breathing or unresponsive",
)
TRAZODONE = LineInput(
    drug="trazodone",
    dose_mg=Decimal(50),
    route="oral",
    frequency="qhs_prn",
    prn_indication="Sleeplessness",
    max_daily_mg=Decimal(100),
)
LOFEXIDINE = LineInput(
    drug="lofexidine",
    dose_mg=Decimal("0.54"),
    route="oral",
    frequency="qid",
)


@pytest.fixture
def unit(cast: Any) -> Any:
    staff(cast)
    admit_to_detox(cast, hours_ago=20)
    heroin_admission(cast.actors["nurse"], cast.patient, timezone.now() - timedelta(hours=14))
    return cast


def rescue_set(cast: Any, name: str = "Rescue and lofexidine") -> OrderSet:
    return order_set_create(
        cast.actors["director"],
        cast.detox,
        name=name,
        description="For fentanyl withdrawal",
        lines=[NALOXONE, LOFEXIDINE],
    )


def set_changes() -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=AuditAction.SETTINGS_CHANGE, object_type="order_set"
        ).order_by("id")
    )


# --- the service -----------------------------------------------------------------


def test_the_director_creates_a_set_whose_lines_are_kept_in_order_and_audited(cast):
    order_set = rescue_set(cast)
    assert [(line.position, line.drug) for line in order_set.lines.all()] == [
        (0, "naloxone"),
        (1, "lofexidine"),
    ]
    [event] = set_changes()
    assert event.data_class == "system" and event.patient_public_id is None
    assert event.detail["created"] == [
        "naloxone 4 mg intranasal q2h_prn for Suspected overdose: slow breathing or unresponsive",
        "lofexidine 0.54 mg oral qid",
    ]
    offered = available_sets(cast.detox)
    assert [s.key for s in offered] == [DEFAULT_KEY, str(order_set.public_id)]
    assert offered[1].lines[0].drug_name == "Naloxone"


def test_moud_and_invalid_lines_are_refused_naming_the_line_and_what_is_allowed(cast):
    bad = [
        LineInput(drug="buprenorphine", dose_mg=Decimal(4), route="sublingual", frequency="once"),
        LineInput(drug="clonidine", dose_mg=Decimal("0.1"), route="oral", frequency="q6h_prn"),
        LineInput(drug="ondansetron", dose_mg=Decimal(4), route="intranasal", frequency="q8h"),
    ]
    with pytest.raises(ValidationFailed) as refused:
        order_set_create(cast.actors["director"], cast.detox, name="Mixed", lines=bad)
    errors = refused.value.errors
    assert errors["lines.0.drug"].startswith("Buprenorphine is MOUD: order it on its own")
    assert "Allowed in a set: naloxone, clonidine" in errors["lines.0.drug"]
    assert errors["lines.1.prn_indication"] == (
        "An as-needed order needs its indication (what it is for)."
    )
    assert errors["lines.2.route"] == "Ondansetron is given: oral, intravenous."
    with pytest.raises(ValidationFailed) as empty:
        order_set_create(cast.actors["director"], cast.detox, name=" ", lines=[])
    assert set(empty.value.errors) == {"name", "lines"}
    assert not OrderSet.objects.exists() and set_changes() == []


def test_names_are_unique_among_a_units_active_sets_and_not_the_defaults(cast):
    rescue_set(cast)
    for name in ("rescue AND lofexidine", "Opioid-withdrawal comfort set"):
        with pytest.raises(ValidationFailed) as refused:
            rescue_set(cast, name)
        assert "name" in refused.value.errors
    assert OrderSet.objects.count() == 1


def test_only_the_director_keeps_sets_and_only_for_the_organizations_units(cast):
    staff(cast)
    for who in ("physician", "nurse", "owner", "readonly"):
        with pytest.raises(AccessDenied):
            order_set_create(cast.actors[who], cast.detox, name="X", lines=[NALOXONE])
    with pytest.raises(NotFound):  # not a withdrawal-management program
        order_set_create(cast.actors["director"], cast.residential, name="X", lines=[NALOXONE])
    harbor_detox = Program.objects.create(
        organization=cast.other_org,
        facility=cast.other_facility,
        name="Harbor detox",
        asam_level="3.7-WM",
        teds_service=2,
        is_24_hour=True,
        bed_capacity=4,
    )
    with pytest.raises(NotFound):
        order_set_create(cast.actors["director"], harbor_detox, name="X", lines=[NALOXONE])


def test_changing_a_set_replaces_its_lines_but_no_order_placed_from_it(unit):
    order_set = rescue_set(unit)
    placed = order_set_apply(
        unit.actors["physician"], unit.patient, key=str(order_set.public_id)
    ).orders
    changed = order_set_update(
        unit.actors["director"], order_set, name="Rescue only", lines=[NALOXONE]
    )
    assert [line.drug for line in changed.lines.all()] == ["naloxone"]
    assert [o.drug for o in MedicationOrder.objects.filter(pk__in=[o.pk for o in placed])] == [
        "naloxone",
        "lofexidine",
    ]
    assert {o.order_set for o in placed} == {"Rescue and lofexidine"}
    event = set_changes()[-1]
    assert event.detail["renamed_from"] == "Rescue and lofexidine"
    # Every bound of a dose is kept, before and after: a raised maximum leaves a trace.
    assert event.detail["lines_before"] == [
        "naloxone 4 mg intranasal q2h_prn for Suspected overdose: slow breathing or unresponsive",
        "lofexidine 0.54 mg oral qid",
    ]
    assert event.detail["lines_after"] == [
        "naloxone 4 mg intranasal q2h_prn for Suspected overdose: slow breathing or unresponsive"
    ]
    raised = LineInput(
        "clonidine", Decimal("0.1"), "oral", "q6h_prn", "Restlessness", Decimal("0.6")
    )
    order_set_update(unit.actors["director"], changed, name="Rescue only", lines=[raised])
    order_set_update(
        unit.actors["director"],
        changed,
        name="Rescue only",
        lines=[LineInput(**{**raised.__dict__, "max_daily_mg": Decimal(6)})],
    )
    assert set_changes()[-1].detail["lines_before"] == [
        "clonidine 0.1 mg oral q6h_prn for Restlessness, at most 0.6 mg in 24 h"
    ]
    assert set_changes()[-1].detail["lines_after"] == [
        "clonidine 0.1 mg oral q6h_prn for Restlessness, at most 6 mg in 24 h"
    ]


def test_a_retired_set_is_no_longer_offered_and_cannot_be_changed(unit):
    order_set = rescue_set(unit)
    order_set_retire(unit.actors["director"], order_set)
    assert available_set(unit.detox, str(order_set.public_id)) is None
    with pytest.raises(Conflict):
        order_set_retire(unit.actors["director"], order_set)
    with pytest.raises(Conflict):
        order_set_update(unit.actors["director"], order_set, name="Again", lines=[NALOXONE])
    with pytest.raises(ValidationFailed) as refused:
        order_set_apply(unit.actors["physician"], unit.patient, key=str(order_set.public_id))
    assert refused.value.errors["order_set"] == (
        "Detox offers no such order set. Allowed values: comfort (Opioid-withdrawal comfort set)."
    )
    # The name is free again for a new set.
    rescue_set(unit)


def test_a_unit_may_stop_offering_the_default_set(unit):
    default_set_offer(unit.actors["director"], unit.detox, offered=False)
    assert available_sets(unit.detox) == []
    with pytest.raises(ValidationFailed) as refused:
        order_set_apply(unit.actors["physician"], unit.patient)
    assert refused.value.errors["order_set"].endswith("Allowed values: none.")
    [event] = AuditEvent.objects.filter(object_type="unit_settings")
    assert event.detail == {"offer_default_comfort_set": [True, False]}
    default_set_offer(unit.actors["director"], unit.detox, offered=False)  # no change, no row
    assert AuditEvent.objects.filter(object_type="unit_settings").count() == 1


def test_a_set_of_another_unit_or_by_a_nurse_places_nothing(unit):
    # The patient is in detox; a set of another unit is not offered to them.
    other = Program.objects.create(
        organization=unit.org,
        facility=unit.facility,
        name="Detox East",
        asam_level="3.7-WM",
        teds_service=2,
        is_24_hour=True,
        bed_capacity=4,
    )
    east = order_set_create(unit.actors["director"], other, name="East set", lines=[NALOXONE])
    with pytest.raises(ValidationFailed):
        order_set_apply(unit.actors["physician"], unit.patient, key=str(east.public_id))
    with pytest.raises(AccessDenied):
        order_set_apply(unit.actors["nurse"], unit.patient)
    assert not MedicationOrder.objects.exists()


def test_placing_a_set_is_all_or_nothing(unit):
    order_set = rescue_set(unit)
    # A line that slipped past the set's checks (written straight to the table) is
    # refused when placed, after the good line was written: that one is undone too.
    OrderSetLine.objects.create(
        order_set=order_set,
        position=2,
        drug="ondansetron",
        dose_mg=Decimal(4),
        route="intranasal",
        frequency="q8h",
    )
    with pytest.raises(ValidationFailed) as refused:
        order_set_apply(unit.actors["physician"], unit.patient, key=str(order_set.public_id))
    assert refused.value.errors["route"] == "Ondansetron is given: oral, intravenous."
    assert not MedicationOrder.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ORDER).exists()


def test_the_database_keeps_moud_out_of_sets(unit):
    order_set = rescue_set(unit)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderSetLine.objects.create(
            order_set=order_set,
            position=5,
            drug="buprenorphine",
            dose_mg=Decimal(4),
            route="sublingual",
            frequency="once",
        )


def test_a_medication_the_stay_already_has_is_left_out_and_named(unit):
    physician = unit.actors["physician"]
    first = order_set_apply(physician, unit.patient)
    assert len(first.orders) == 6 and first.skipped == []
    # Lofexidine beside the comfort set's clonidine would be a second alpha-2 agonist;
    # naloxone is new and is ordered.
    placed = order_set_apply(physician, unit.patient, key=str(rescue_set(unit).public_id))
    assert [o.drug for o in placed.orders] == ["naloxone"]
    assert placed.skipped == [
        "Lofexidine: Clonidine is already ordered (two alpha-2 agonists add up)"
    ]
    with pytest.raises(Conflict) as nothing_left:
        order_set_apply(physician, unit.patient)
    assert "Nothing of Opioid-withdrawal comfort set was ordered" in nothing_left.value.message
    assert MedicationOrder.objects.count() == 7


def test_a_set_keeps_one_line_per_medication_a_ceiling_and_one_alpha2_agonist(cast):
    clonidine = LineInput("clonidine", Decimal("0.1"), "oral", "q6h_prn", "Sweating")
    with pytest.raises(ValidationFailed) as refused:
        order_set_create(
            cast.actors["director"],
            cast.detox,
            name="Doubled",
            lines=[
                LineInput(**{**clonidine.__dict__, "max_daily_mg": Decimal("0.6")}),
                clonidine,
                LOFEXIDINE,
                NALOXONE,  # rescue naloxone as needed has no ceiling, and needs none
            ],
        )
    errors = refused.value.errors
    assert errors["lines.1.drug"] == "Clonidine is already line 1; one line per medication."
    assert errors["lines.1.max_daily_mg"] == (
        "An as-needed comfort medication in a set needs its maximum in 24 hours."
    )
    assert errors["lines"].startswith("Clonidine and lofexidine are both alpha-2 agonists")
    assert not any(key.startswith("lines.3") for key in errors)


# --- the director's pages --------------------------------------------------------


def page(cast: Any, name: str = "order_sets", **kwargs: Any) -> str:
    return reverse(f"withdrawal:{name}", kwargs={"program_id": cast.detox.public_id, **kwargs})


def form_data(name: str, rows: list[dict[str, str]], description: str = "") -> dict[str, str]:
    data = {
        "name": name,
        "description": description,
        "line-TOTAL_FORMS": str(len(rows)),
        "line-INITIAL_FORMS": "0",
        "line-MIN_NUM_FORMS": "0",
        "line-MAX_NUM_FORMS": "23",
    }
    for index, row in enumerate(rows):
        data |= {f"line-{index}-{field}": value for field, value in row.items()}
    return data


ROW_NALOXONE = {
    "drug": "naloxone",
    "dose_mg": "4",
    "route": "intranasal",
    "frequency": "q2h_prn",
    "prn_indication": "Suspected overdose",
    "max_daily_mg": "",
}
EMPTY_ROW = dict.fromkeys(ROW_NALOXONE, "")


def test_the_director_builds_a_set_on_the_page(cast):
    client = cast.client_for("director")
    listing = client.get(page(cast))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Opioid-withdrawal comfort set" in html and "offered" in html
    assert "Detox has no sets of its own yet." in html
    # Copying the default prefills its six lines, then three empty rows.
    copy = client.get(page(cast, "order_set_new") + "?copy=comfort")
    assert copy.status_code == 200
    lines = copy.context["lines"]
    assert [f.initial.get("drug") for f in lines.forms][:7] == [
        "clonidine",
        "loperamide",
        "ondansetron",
        "ibuprofen",
        "hydroxyzine",
        "trazodone",
        None,
    ]
    assert len(lines.forms) == 9
    response = client.post(
        page(cast, "order_set_new"),
        form_data("Overdose rescue", [EMPTY_ROW, ROW_NALOXONE, EMPTY_ROW]),
        follow=True,
    )
    assert response.redirect_chain == [(page(cast), 302)]
    assert "Order set “Overdose rescue” saved for Detox." in response.content.decode()
    [order_set] = OrderSet.objects.all()
    assert [line.drug for line in order_set.lines.all()] == ["naloxone"]


def test_more_rows_keep_what_was_typed_and_save_nothing(cast):
    client = cast.client_for("director")
    typed = form_data("Half done", [EMPTY_ROW, ROW_NALOXONE, EMPTY_ROW]) | {"add_rows": "1"}
    response = client.post(page(cast, "order_set_new"), typed)
    assert response.status_code == 200
    lines = response.context["lines"]
    assert [f.initial.get("drug") for f in lines.forms] == ["naloxone", None, None, None]
    assert lines.forms[0].initial["prn_indication"] == "Suspected overdose"
    assert response.context["form"].initial["name"] == "Half done"
    assert not OrderSet.objects.exists()


def test_whole_doses_show_as_written(cast):
    ibuprofen = LineInput(
        "ibuprofen", Decimal(400), "oral", "q6h_prn", "Aches", max_daily_mg=Decimal(2400)
    )
    order_set_create(cast.actors["director"], cast.detox, name="Aches", lines=[ibuprofen])
    html = cast.client_for("director").get(page(cast)).content.decode()
    assert "<td>400 mg</td>" in html and "<td>2400 mg</td>" in html
    assert "E+" not in html
    assert set_changes()[-1].detail["created"] == [
        "ibuprofen 400 mg oral q6h_prn for Aches, at most 2400 mg in 24 h"
    ]


def test_a_bad_row_is_marked_and_nothing_is_saved(cast):
    client = cast.client_for("director")
    half = dict(EMPTY_ROW, drug="clonidine")
    prn = dict(ROW_NALOXONE, prn_indication="")
    response = client.post(page(cast, "order_set_new"), form_data("Bad", [half, prn]))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Required on a line with a medication (or empty the row)." in html
    lines = response.context["lines"]
    assert set(lines.forms[0].errors) == {"dose_mg", "route", "frequency"}
    # The service's own message lands on the row it names.
    ok = client.post(page(cast, "order_set_new"), form_data("Bad", [prn]))
    assert ok.status_code == 422
    assert ok.context["lines"].forms[0].errors["prn_indication"] == [
        "An as-needed order needs its indication (what it is for)."
    ]
    moud = dict(ROW_NALOXONE, drug="methadone")
    refused = client.post(page(cast, "order_set_new"), form_data("Bad", [moud]))
    assert refused.status_code == 422
    assert "drug" in refused.context["lines"].forms[0].errors  # not among the choices
    assert not OrderSet.objects.exists()


def test_change_retire_and_the_default_switch_on_the_page(cast):
    order_set = rescue_set(cast)
    client = cast.client_for("director")
    edit = page(cast, "order_set_edit", set_id=order_set.public_id)
    shown = client.get(edit)
    assert shown.status_code == 200
    assert shown.context["form"].initial["name"] == "Rescue and lofexidine"
    assert len(shown.context["lines"].forms) == 5
    changed = client.post(edit, form_data("Rescue", [ROW_NALOXONE]), follow=True)
    assert "Order set “Rescue” saved for Detox." in changed.content.decode()
    retire = page(cast, "order_set_retire", set_id=order_set.public_id)
    assert client.post(retire).status_code == 302
    html = client.get(page(cast)).content.decode()
    assert "Retired sets (1)" in html
    # A retired set's page sends the director back with the reason.
    again = client.get(edit, follow=True)
    assert "This set is retired; create a new one instead." in again.content.decode()
    off = client.post(page(cast, "order_set_default"), {"offered": "0"}, follow=True)
    assert "The default set is no longer offered in Detox." in off.content.decode()
    assert "Offer the default set" in off.content.decode()


@pytest.mark.parametrize("who", ["physician", "nurse", "owner", "readonly", "admissions"])
def test_other_roles_may_not_open_the_order_set_pages(cast, who):
    if who not in cast.actors:
        cast.new_member(who)
    order_set = rescue_set(cast)
    client = cast.client_for(who)
    assert client.get(page(cast)).status_code == 403
    assert client.get(page(cast, "order_set_new")).status_code == 403
    edit = page(cast, "order_set_edit", set_id=order_set.public_id)
    assert client.post(edit, form_data("Hijack", [ROW_NALOXONE])).status_code == 403
    assert OrderSet.objects.get().name == "Rescue and lofexidine"


def test_another_organizations_director_finds_nothing(cast):
    order_set = rescue_set(cast)
    client = cast.client_for("outsider")
    for url in (
        page(cast),
        page(cast, "order_set_new"),
        page(cast, "order_set_edit", set_id=order_set.public_id),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert b"Rescue" not in response.content and b"fentanyl" not in response.content
    assert (
        client.post(page(cast, "order_set_retire", set_id=order_set.public_id)).status_code == 404
    )
    assert OrderSet.objects.get().is_active
    # Another unit's set named under this unit is not found either.
    assert (
        cast.client_for("director")
        .get(
            reverse(
                "withdrawal:order_set_edit",
                kwargs={"program_id": cast.residential.public_id, "set_id": order_set.public_id},
            )
        )
        .status_code
        == 404
    )


def test_the_order_sets_page_costs_the_same_queries_for_one_set_or_five(cast):
    client = cast.client_for("director")
    rescue_set(cast, "Set 0")
    with CaptureQueriesContext(connection) as one:
        assert client.get(page(cast)).status_code == 200
    for n in range(1, 5):
        rescue_set(cast, f"Set {n}")
    order_set_retire(cast.actors["director"], OrderSet.objects.get(name="Set 4"))
    with CaptureQueriesContext(connection) as five:
        assert client.get(page(cast)).status_code == 200
    assert len(one) == len(five) == 9


# --- the eMAR and the API ----------------------------------------------------------


def test_the_physician_places_a_unit_set_from_the_emar(unit):
    order_set = rescue_set(unit)
    record = reverse("medications:record", kwargs={"public_id": unit.patient.public_id})
    html = unit.client_for("physician").get(record).content.decode()
    assert "Order sets of Detox" in html
    assert "Order “Rescue and lofexidine”" in html and "For fentanyl withdrawal" in html
    # The nurse charts doses; she is not offered sets to order.
    assert "Order sets of Detox" not in unit.client_for("nurse").get(record).content.decode()
    response = unit.client_for("physician").post(
        reverse("medications:order_set", kwargs={"public_id": unit.patient.public_id}),
        {"order_set": str(order_set.public_id)},
        follow=True,
    )
    assert "Ordered Rescue and lofexidine: 2 orders." in response.content.decode()
    assert [o.drug for o in MedicationOrder.objects.order_by("id")] == ["naloxone", "lofexidine"]
    unknown = unit.client_for("physician").post(
        reverse("medications:order_set", kwargs={"public_id": unit.patient.public_id}),
        {"order_set": "nonsense"},
        follow=True,
    )
    assert "Detox offers no such order set." in unknown.content.decode()
    assert MedicationOrder.objects.count() == 2
    # Placed again, only what the stay lacks is ordered, and the message counts it.
    second = order_set_create(
        unit.actors["director"], unit.detox, name="Sleep", lines=[NALOXONE, TRAZODONE]
    )
    again = unit.client_for("physician").post(
        reverse("medications:order_set", kwargs={"public_id": unit.patient.public_id}),
        {"order_set": str(second.public_id)},
        follow=True,
    )
    assert "Ordered Sleep: 1 order." in again.content.decode()
    assert "Left out: Naloxone: already ordered in this stay." in again.content.decode()
    assert MedicationOrder.objects.count() == 3


def test_the_api_lists_and_places_a_units_sets(unit):
    order_set = rescue_set(unit)
    api = Api(unit)
    listed = api.get("physician", f"/units/{unit.detox.public_id}/order-sets")
    assert listed.status_code == 200
    body = listed.json()
    assert [(s["key"], s["builtin"]) for s in body] == [
        ("comfort", True),
        (str(order_set.public_id), False),
    ]
    assert body[1]["lines"][0] | {"dose_mg": "x"} == {
        "drug": "naloxone",
        "drug_name": "Naloxone",
        "dose_mg": "x",
        "route": "intranasal",
        "frequency": "q2h_prn",
        "prn_indication": "Suspected overdose: slow breathing or unresponsive",
        "max_daily_mg": None,
    }
    place = f"/patients/{unit.patient.public_id}/medication-orders/order-sets"
    placed = api.post("physician", f"{place}/{order_set.public_id}", {})
    assert placed.status_code == 201
    assert placed.json()["name"] == "Rescue and lofexidine"
    assert placed.json()["skipped"] == []
    assert [o["drug"] for o in placed.json()["orders"]] == ["naloxone", "lofexidine"]
    wrong = api.post("physician", f"{place}/nonsense", {})
    assert wrong.status_code == 422
    assert "Allowed values: comfort (Opioid-withdrawal comfort set), " in json.dumps(wrong.json())
    assert api.post("nurse", f"{place}/comfort", {}).status_code == 403
    assert api.get("outsider", f"/units/{unit.detox.public_id}/order-sets").status_code == 403
    assert api.post("outsider", f"{place}/comfort", {}).status_code == 403
    assert MedicationOrder.objects.count() == 2
