"""What sober living adds below it: vacancies beside the bed board (counts only, for
roles that read residences, one query) and the chart's panel (the residence, bed,
linked stay, house rules accepted and recent curfew marks, at a fixed cost)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.care.panels import bed_board_sections
from stepwise.care.services import episode_admit
from stepwise.residences.panels import residence_panel, vacancies_section
from stepwise.residences.services.curfew import curfew_record
from stepwise.residences.services.residency import residency_move_out
from stepwise.residences.services.setup import bed_retire, rules_update
from stepwise.residences.tests.support import move_in, sober_living

BOARD = "/admissions/beds/"


def board_queries(client, url: str = BOARD, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **headers).status_code == 200
    return len(captured.captured_queries)


def test_the_bed_board_shows_vacancies_per_house_without_names(cast):
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    bed_retire(cast.actors["director"], s.elm_beds[1])
    cast.new_member("admissions")
    html = cast.client_for("admissions").get(BOARD).content.decode()
    section = html.split('id="sober-h"', 1)[1]
    assert "Sober living vacancies" in html and "4 vacant beds" in section
    # Oak: 3 of 4 vacant; Elm: 1 in service, vacant (the other is out of service).
    assert '<strong>3</strong></td>\n      <td class="num">4</td>' in section
    assert '<strong>1</strong></td>\n      <td class="num">1</td>' in section
    assert "Rivera" not in html and "Ana" not in html
    # The live refresh (htmx) carries it too.
    fragment = cast.client_for("admissions").get(BOARD, HTTP_HX_REQUEST="true").content.decode()
    assert "Sober living vacancies" in fragment


def test_roles_without_residence_read_see_no_section(cast):
    sober_living(cast)
    for who in ("admin", "readonly"):
        html = cast.client_for(who).get(BOARD).content.decode()
        assert "Sober living" not in html, who
    assert vacancies_section(cast.actors["admin"], timezone.now()) is None


def test_without_residences_the_section_says_so_and_links_to_their_set_up(cast):
    panel = vacancies_section(cast.actors["director"], timezone.now())
    assert panel is not None and panel.context["houses"] == []
    sections = bed_board_sections(cast.actors["director"], timezone.now())
    assert "residences/_bed_board.html" in [p.template for p in sections]
    html = cast.client_for("director").get(BOARD).content.decode()
    assert "No sober living house is in use yet." in html and 'href="/residences/"' in html


def test_the_section_costs_one_query_and_the_board_no_more_with_more_residences(
    cast, django_assert_num_queries
):
    cast.new_member("admissions")
    client = cast.client_for("admissions")
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    client.get(BOARD)  # warm the session
    few = board_queries(client)
    fragment = board_queries(client, HTTP_HX_REQUEST="true")
    for name in ("Second Wind", "Third Step", "Fourth Light"):
        more = sober_living(cast, name=name, oak_beds=6)
        for n in range(3):
            move_in(cast, cast.new_patient(f"{name[:2]}-{n}"), more.oak_beds[n])
    assert board_queries(client) == few
    assert board_queries(client, HTTP_HX_REQUEST="true") == fragment
    with django_assert_num_queries(1):
        panel = vacancies_section(cast.actors["admissions"], timezone.now())
    assert panel is not None and len(panel.context["houses"]) == 8
    # A role without residence read pays nothing for it.
    with django_assert_num_queries(0):
        assert vacancies_section(cast.actors["admin"], timezone.now()) is None


def test_the_chart_panel_shows_the_residence_bed_stay_rules_and_curfew(cast):
    episode_admit(
        cast.actors["owner"], cast.patient, cast.iop, at=timezone.now() - timedelta(days=2)
    )
    s = sober_living(cast)
    residency = move_in(cast, cast.patient, s.oak_beds[0])
    curfew_record(cast.actors["owner"], residency, mark="excused", reason="Family visit")
    rules_update(cast.actors["director"], s.residence, text="New rules")
    panel = residence_panel(cast.actors["owner"], cast.patient)
    assert panel is not None
    html = render_to_string(panel.template, {"panel": panel.context})
    assert "Riverside Sober Living" in html and "Oak House Riv, Bed 1" in html
    assert "linked to Evening IOP (ASAM 2.1)" in html
    assert "version 1 accepted" in html and "version 2 is in force, to accept" in html
    assert "excused" in html
    chart = cast.client_for("owner").get(f"/patients/{cast.patient.public_id}/").content.decode()
    assert 'id="residence-h"' in chart and "Oak House Riv, Bed 1" in chart


def test_the_chart_panel_after_a_move_out_and_for_someone_never_housed(cast):
    assert residence_panel(cast.actors["owner"], cast.patient) is None
    s = sober_living(cast)
    residency = move_in(cast, cast.patient, s.oak_beds[0])
    residency_move_out(cast.actors["owner"], residency, reason="chose_to_leave")
    panel = residence_panel(cast.actors["owner"], cast.patient)
    assert panel is not None
    html = render_to_string("residences/_chart_panel.html", {"panel": panel.context})
    assert "Not living in a residence now" in html and "chose to leave" in html


def test_the_chart_panel_costs_one_query_or_two_whatever_the_history(
    cast, django_assert_num_queries
):
    owner = cast.actors["owner"]
    with django_assert_num_queries(1):
        assert residence_panel(owner, cast.patient) is None
    s = sober_living(cast)
    residency = move_in(cast, cast.patient, s.oak_beds[0])
    with django_assert_num_queries(2):
        residence_panel(owner, cast.patient)
    curfew_record(owner, residency, mark="excused", reason="Work")
    residency_move_out(owner, residency, reason="completed")
    again = move_in(cast, cast.patient, s.oak_beds[1])
    curfew_record(owner, again, mark="excused", reason="Work")
    with django_assert_num_queries(2):
        panel = residence_panel(owner, cast.patient)
        assert panel is not None
        # Everything the panel's template shows is loaded.
        render_to_string(panel.template, {"panel": panel.context})
