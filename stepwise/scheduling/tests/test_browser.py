"""End to end in Chromium on a phone: a counselor runs tonight's evening IOP group of
15 from the attendance screen and writes its group note. From "Schedule" to the
session, a few taps mark the exceptions (one late with the minutes, one no-show, one
excused) and one save takes the whole group; then the group note gets the shared
narrative and a short entry for each of the 13 who came, a draft saved on the way,
and is signed. Each member's chart then shows the shared narrative and that member's
own entry only, never another's; an absent member's chart shows no note at all.
Every page loads only from Stepwise and logs no console error."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from conftest import PASSWORD, Cast
from stepwise.care.services import episode_admit
from stepwise.care.tests.browser import (
    CHROMIUM,
    MISSING_CHROMIUM,
    assert_fits_the_screen,
    assert_tap_targets,
    phone,
    status,
)
from stepwise.notes.models import GroupNote, GroupNoteEntry, NoteStatus
from stepwise.patients.models import Patient
from stepwise.scheduling.models import Attendance, Session, SessionSeries
from stepwise.scheduling.tests.support import IOP_RULE, iop_series

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

# The smallest comfortable tap target (WCAG 2.5.5, Apple's and Google's guidance).
CHART_URL = re.compile(r"/patients/[0-9a-f-]{36}/$")
# Ana Rivera (the cast's patient) and fourteen more: the group of fifteen.
MEMBERS = [
    ("Ben", "Ortiz"),
    ("Carla", "Nguyen"),
    ("Dev", "Patel"),
    ("Erin", "Walsh"),
    ("Femi", "Adeyemi"),
    ("Gabe", "Moreno"),
    ("Hana", "Kim"),
    ("Ivan", "Petrov"),
    ("Jade", "Thompson"),
    ("Kofi", "Mensah"),
    ("Lena", "Fischer"),
    ("Marco", "Rossi"),
    ("Nora", "Quinn"),
    ("Sofia", "Lopez"),
]
LATE, NO_SHOW, EXCUSED = "Ben Ortiz", "Carla Nguyen", "Dev Patel"
LATE_MINUTES = "150"  # came half an hour into the three hours
NARRATIVE = (
    "Relapse prevention: the group mapped high-risk evening situations and "
    "practised refusal skills in pairs."
)
GOALS = "Relapse prevention plan\nCoping with cravings"
# The charts read after signing: a member who was present and the one who came late.
READ = ("Ana Rivera", LATE)
# The days of the program's series, as RRULE spells them (Monday first).
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass
class Evening:
    cast: Cast
    series: SessionSeries
    session: Session
    patients: dict[str, Patient]  # by display name

    def entry(self, name: str) -> str:
        """A member's own entry: short, and naming only a detail of theirs."""
        given = self.patients[name].given_name
        mrn = self.patients[name].mrn
        return f"{given} named the 9 pm walk home as their riskiest time; plan #{mrn}."

    @property
    def attending(self) -> list[str]:
        return [name for name in self.patients if name not in (NO_SHOW, EXCUSED)]


def tonight(now: datetime, zone: ZoneInfo) -> tuple[str, datetime]:
    """The series' rule and a start that puts one of its sessions on now: the IOP's
    Monday, Wednesday and Thursday (plus today, when today is another day), starting
    at the quarter hour just gone, so the live server's real clock finds it running."""
    local = timezone.localtime(now, zone)
    start = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    days = IOP_RULE.split("BYDAY=")[1].split(",")
    today = WEEKDAYS[start.weekday()]
    if today not in days:
        days = [d for d in WEEKDAYS if d in {*days, today}]
    return f"FREQ=WEEKLY;BYDAY={','.join(days)}", start


@pytest.fixture
def evening(live_db: None, django_user_model: Any) -> Evening:
    """The cast's evening IOP with fifteen members admitted two days ago, and its core
    series (the counselor, "owner", facilitating) with a session running now."""
    cast = Cast(django_user_model)
    patients = [cast.patient] + [
        cast.new_patient(f"RR-{n}", given, family) for n, (given, family) in enumerate(MEMBERS, 2)
    ]
    admitted = timezone.now() - timedelta(days=2)
    for patient in patients:
        episode_admit(cast.actors["owner"], patient, cast.iop, at=admitted)
    rule, start = tonight(timezone.now(), ZoneInfo(cast.facility.time_zone))
    series = iop_series(
        cast,
        rule=rule,
        start=start.time(),
        first_day=start.date(),
        last_day=start.date() + timedelta(weeks=2),
    )
    session = Session.objects.get(series=series, occurrence_on=start.date())
    assert Attendance.objects.filter(session=session).count() == 15
    return Evening(cast, series, session, {p.display_name: p for p in patients})


def member_row(page: Page, name: str) -> Locator:
    return page.locator("form.attendance li.member").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def mark(page: Page, name: str, short: str) -> Locator:
    """The tap target of one member's mark: its whole label."""
    return member_row(page, name).locator("label").filter(has_text=re.compile(rf"^{short}$"))


def open_chart(page: Page, name: str) -> None:
    """The chart as a counselor reaches it: Patients, search, the name."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").tap()
    given, family = name.split(" ", 1)
    page.get_by_role("searchbox", name="Search by name").fill(family)
    results = page.locator("#results")
    expect(results).to_contain_text(f"1 patient matching “{family}”.")
    results.get_by_role("link", name=f"{family}, {given}").tap()
    expect(page).to_have_url(CHART_URL)
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def in_viewport(page: Page, target: Locator) -> bool:
    """Wholly on the screen as it is scrolled now (a cell a table must be swiped to
    reach is not)."""
    box = target.bounding_box()
    width: int = page.evaluate("window.innerWidth")
    height: int = page.evaluate("window.innerHeight")
    if box is None:
        return False
    across = box["x"] >= 0 and box["x"] + box["width"] <= width
    return across and box["y"] >= 0 and box["y"] + box["height"] <= height


def assert_no_other_entry(page: Page, texts: list[str], where: str) -> None:
    shown = page.locator("body").inner_text()
    leaked = [text for text in texts if text in shown]
    assert not leaked, f"{where} shows text it must not: {leaked}"


def screens_down(page: Page, target: Locator) -> float:
    """How many phone screens down the page the target sits (0: the first screen)."""
    box = target.bounding_box()
    assert box is not None
    top: float = page.evaluate("window.scrollY") + box["y"]
    height: int = page.evaluate("window.innerHeight")
    return top / height


def page_screens(page: Page) -> float:
    length: float = page.evaluate("document.documentElement.scrollHeight / window.innerHeight")
    return length


def test_a_counselor_runs_an_evening_iop_group_and_one_note_reaches_each_members_chart(
    chromium: Browser, live_server: Any, evening: Evening
) -> None:
    cast, session = evening.cast, evening.session
    # What makes a page harder on a phone, measured and printed rather than asserted.
    findings: list[str] = []
    with phone(chromium, live_server) as counselor:
        page = counselor.page
        counselor.sign_in("owner", PASSWORD)

        # 1. Schedule (my day): tonight's group, fifteen seated, none taken yet.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").tap()
        expect(page.get_by_role("heading", name=re.compile(r"^My sessions on "))).to_be_visible()
        row = page.locator("table.sessions tbody tr").filter(has_text="Evening IOP group")
        expect(row).to_have_count(1)
        expect(row.locator("td.num").first).to_have_text("15")
        expect(row.locator("td.num").last).to_have_text("0 / 15")
        assert_fits_the_screen(counselor, "my day")
        if not in_viewport(page, row.locator("td.num").last):
            findings.append("my day: the Taken column is off screen (the table scrolls sideways)")
        counselor.shot("iop-phone-day")

        # 2. The attendance screen: everyone starts as present.
        started = time.perf_counter()
        row.get_by_role("link", name="Evening IOP group").tap()
        expect(page).to_have_url(counselor.url(f"/schedule/sessions/{session.public_id}/"))
        expect(page.get_by_role("heading", name="Evening IOP group", level=1)).to_be_visible()
        form = page.get_by_role("form", name=re.compile(r"^Attendance"))
        expect(form.locator("li.member")).to_have_count(15)
        expect(form.locator("input[type=radio][value=present]:checked")).to_have_count(15)
        save = page.get_by_role("button", name="Save attendance")
        if not in_viewport(page, save):
            findings.append("attendance: 'Save attendance' is not on screen when the page opens")
        assert_fits_the_screen(counselor, "the attendance screen")
        assert_tap_targets(member_row(page, LATE).locator(".marks label span"), "attendance marks")
        minutes_box = member_row(page, LATE).get_by_role("spinbutton", name="Minutes")
        # Minutes are asked only once late or left early is tapped.
        expect(minutes_box).to_be_hidden()
        findings.append(f"attendance: the page is {page_screens(page):.1f} screens long for 15")
        counselor.shot("iop-phone-attendance")

        # Three taps for the exceptions, the late member's minutes, one save.
        mark(page, LATE, "Late").tap()
        assert_tap_targets(minutes_box, "the minutes box")
        minutes_box.tap()
        minutes_box.fill(LATE_MINUTES)
        mark(page, NO_SHOW, "Unexcused").tap()
        mark(page, EXCUSED, "Excused").tap()
        for name, value in ((LATE, "late"), (NO_SHOW, "absent_unexcused")):
            expect(member_row(page, name).locator(f"input[value={value}]")).to_be_checked()
        expect(member_row(page, EXCUSED).locator("input[value=absent_excused]")).to_be_checked()
        save.tap()
        status(page).to_have_text("Attendance saved: 13 of 15 came.")
        taken_in = time.perf_counter() - started
        expect(page.locator("#att-h")).to_contain_text("15 of 15 taken")
        expect(member_row(page, LATE).locator("input[value=late]")).to_be_checked()
        expect(member_row(page, LATE).get_by_role("spinbutton", name="Minutes")).to_have_value(
            LATE_MINUTES
        )
        counselor.shot("iop-phone-attendance-saved")
        taken = dict(
            Attendance.objects.filter(session=session).values_list("patient__public_id", "status")
        )
        by_name = {name: taken[p.public_id] for name, p in evening.patients.items()}
        assert by_name[LATE] == "late" and by_name[NO_SHOW] == "absent_unexcused"
        assert by_name[EXCUSED] == "absent_excused"
        assert list(by_name.values()).count("present") == 12
        late_row = Attendance.objects.get(session=session, patient=evening.patients[LATE])
        assert late_row.minutes_attended == int(LATE_MINUTES)

        # 3. The group note: the narrative and an entry for each of the thirteen who came.
        page.get_by_role("link", name="Group note").tap()
        expect(page).to_have_url(counselor.url(f"/notes/sessions/{session.public_id}/group-note/"))
        expect(
            page.get_by_role("heading", name="Group note · Evening IOP group", level=1)
        ).to_be_visible()
        note_form = page.locator("form.group-note-form")
        expect(note_form.locator("textarea[name^=entry_]")).to_have_count(13)
        expect(note_form).to_contain_text(
            f"Not attending (no entry): {NO_SHOW} (absent, unexcused); {EXCUSED} (absent, excused)."
        )
        assert_fits_the_screen(counselor, "the group note")
        assert_tap_targets(note_form.locator(".actions button"), "group note buttons")
        page.get_by_label("Shared narrative").fill(NARRATIVE)
        page.get_by_label("Goals addressed").fill(GOALS)
        half = evening.attending[:7]
        for name in half:
            page.get_by_label(name, exact=True).fill(evening.entry(name))
        buttons_at = screens_down(page, note_form.locator(".actions"))
        findings.append(f"group note: Save draft and Sign are {buttons_at:.1f} screens down")
        counselor.shot("iop-phone-group-note")

        # A draft saved half way keeps every word typed.
        page.get_by_role("button", name="Save draft").tap()
        status(page).to_contain_text("Draft saved. Only you see it until it is signed.")
        expect(page.get_by_label("Shared narrative")).to_have_value(NARRATIVE)
        expect(page.get_by_label("Goals addressed")).to_have_value(GOALS)
        for name in half:
            expect(page.get_by_label(name, exact=True)).to_have_value(evening.entry(name))
        for name in evening.attending[7:]:
            page.get_by_label(name, exact=True).fill(evening.entry(name))
        page.get_by_role("button", name="Sign", exact=True).tap()
        status(page).to_contain_text(
            "Signed. Its text is final: correct it with an addendum. "
            "It is in the chart of each of the 13 members who attended."
        )
        signed = page.locator("article.assessment")
        expect(signed.locator("dl.facts dt")).to_have_count(13)
        expect(signed).to_contain_text(NARRATIVE)
        assert_fits_the_screen(counselor, "the signed group note")
        counselor.shot("iop-phone-group-note-signed")

        note = GroupNote.objects.get(session=session)
        assert note.status == NoteStatus.SIGNED and note.narrative == NARRATIVE
        assert note.author == cast.users["owner"] and note.goals == GOALS.splitlines()
        entries = {
            e.patient.display_name: e.text
            for e in GroupNoteEntry.objects.filter(group_note=note).select_related("patient")
        }
        assert entries == {name: evening.entry(name) for name in evening.attending}

        # 4. Two members' charts: the narrative and their own entry, nobody else's.
        for name in READ:
            others = [evening.entry(n) for n in evening.attending if n != name]
            open_chart(page, name)
            notes = page.get_by_role("region", name="Notes")
            notes_at = screens_down(page, notes)
            findings.append(f"{name}'s chart: the Notes panel is {notes_at:.1f} screens down")
            expect(notes).to_contain_text("Group note · Evening IOP group")
            expect(notes).to_contain_text(f"Group: {NARRATIVE}")
            given = evening.patients[name].given_name
            expect(notes).to_contain_text(f"{given}: {evening.entry(name)}")
            assert_no_other_entry(page, others, f"{name}'s chart")
            assert_fits_the_screen(counselor, f"{name}'s chart")
            counselor.shot(f"iop-phone-chart-{given.lower()}")

            notes.get_by_role("link", name="Group note · Evening IOP group").tap()
            member = page.locator("article.assessment")
            expect(member.get_by_role("heading", name=f"About {name}")).to_be_visible()
            expect(member).to_contain_text(NARRATIVE)
            expect(member).to_contain_text(evening.entry(name))
            assert_no_other_entry(page, others, f"{name}'s group note")
            assert_fits_the_screen(counselor, f"{name}'s group note")
            counselor.shot(f"iop-phone-member-note-{given.lower()}")

        # 5. The no-show's chart has no note; the note's address there finds nothing.
        open_chart(page, NO_SHOW)
        notes = page.get_by_role("region", name="Notes")
        expect(notes).to_contain_text("No notes yet.")
        expect(notes).not_to_contain_text("Group note")
        assert_no_other_entry(page, [NARRATIVE, *map(evening.entry, evening.attending)], "chart")
        absent = evening.patients[NO_SHOW]
        response = page.goto(
            counselor.url(f"/notes/patients/{absent.public_id}/group/{note.public_id}/")
        )
        assert response is not None and response.status == 404
        assert_no_other_entry(page, [NARRATIVE], "the no-show's group note address")
        assert not GroupNoteEntry.objects.filter(
            group_note=note, patient__in=[absent, evening.patients[EXCUSED]]
        ).exists()

        counselor.watch.assert_clean(error_statuses=1)
    print(f"\nattendance screen opened to saved confirmation: {taken_in:.2f} s")
    for finding in findings:
        print(f"on the phone, {finding}")
