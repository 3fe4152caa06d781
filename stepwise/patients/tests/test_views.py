"""Contacts and care team, from the chart."""

from __future__ import annotations

import pytest

from stepwise.core.models import AuditEvent
from stepwise.patients.models import CareTeamMember, Contact


def urls(cast) -> dict[str, str]:
    base = f"/patients/{cast.patient.public_id}/"
    return {"contact": f"{base}contacts/new/", "care_team": f"{base}care-team/new/"}


@pytest.mark.parametrize(
    ("who", "contact", "care_team"),
    [
        ("owner", 200, 200),
        ("director", 200, 200),
        ("colleague", 403, 403),  # not on the care team
        ("readonly", 403, 403),
        ("admin", 403, 403),
        ("outsider", 404, 404),
    ],
)
def test_who_may_open_the_forms(cast, who, contact, care_team):
    client = cast.client_for(who)
    assert client.get(urls(cast)["contact"]).status_code == contact
    assert client.get(urls(cast)["care_team"]).status_code == care_team


def test_add_a_contact(cast):
    client = cast.client_for("owner")
    response = client.post(urls(cast)["contact"], {"name": "Rosa Rivera", "relationship": "parent"})
    assert (
        response.status_code == 422
        and "Give a phone number or an email address" in response.content.decode()
    )
    response = client.post(
        urls(cast)["contact"],
        {
            "name": "Rosa Rivera",
            "relationship": "parent",
            "phone": "555-0100",
            "is_emergency_contact": "on",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(patient=cast.patient)
    assert contact.is_emergency_contact and contact.organization == cast.org
    assert AuditEvent.objects.filter(
        object_type="contact", patient_public_id=cast.patient.public_id
    ).exists()
    assert "Rosa Rivera" in client.get(f"/patients/{cast.patient.public_id}/").content.decode()


def test_add_to_the_care_team_only_staff_of_the_organization(cast):
    client = cast.client_for("director")
    form = client.get(urls(cast)["care_team"]).content.decode()
    assert "Colleague" in form and "Outsider" not in form
    response = client.post(
        urls(cast)["care_team"], {"user": cast.users["outsider"].pk, "team_role": "nurse"}
    )
    assert response.status_code == 422
    response = client.post(
        urls(cast)["care_team"], {"user": cast.users["colleague"].pk, "team_role": "nurse"}
    )
    assert response.status_code == 302
    response = client.post(
        urls(cast)["care_team"], {"user": cast.users["colleague"].pk, "team_role": "nurse"}
    )
    assert response.status_code == 409 and "already on the care team" in response.content.decode()
    assert CareTeamMember.objects.filter(patient=cast.patient).count() == 2
