"""The front torso's regions (issue 16, item 12) travel end to end: the health profile form, the session form and
its safety screen, the session and portal pages, "My data", the trend CSV and the FHIR bundle.

Labels are read from ``clients.body_regions`` (what the product shows), never typed out here.
"""

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from clients.body_regions import BodyRegion, region_label, region_labels
from sessions.models import Pressure, SessionStatus, TreatmentSession
from tests import factories
from tests.portal.test_fhir import PORTAL_URL, clinician_url, download, resources
from tests.sessions.test_session_views import detail_url, new_url, session_data
from tests.workspace.test_views import profile_data

pytestmark = pytest.mark.django_db

FRONT_TORSO = [BodyRegion.CHEST_LEFT, BodyRegion.CHEST_RIGHT, BodyRegion.ABDOMEN]
# One technique row per new region, each at a pressure that raises no finding for a client without sores or
# reduced sensation, so the session saves on the first post.
ROWS = [
    ("swedish", BodyRegion.CHEST_LEFT, "light"),
    ("swedish", BodyRegion.CHEST_RIGHT, "moderate"),
    ("light-acupressure", BodyRegion.ABDOMEN, "light"),
]


def used_words(slug: str, region: str, pressure: str) -> str:
    """A technique row as "My data" writes it: name (region label, pressure label in lower case)."""
    return f"{factories.technique(slug).name} ({region_label(region)}, {Pressure(pressure).label.lower()} pressure)"


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
def logged_in(client, therapist):
    client.force_login(therapist)
    return client


@pytest.fixture
def front_torso_session(logged_in, client_a) -> TreatmentSession:
    """A session logged and signed through the therapist's pages, with one row on each front torso region."""
    response = logged_in.post(new_url(client_a), session_data(*ROWS, pain_after=2, fatigue_after=3))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    session = TreatmentSession.objects.get(client=client_a)
    assert logged_in.post(reverse("sessions:sign", args=[session.pk])).status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNED
    return session


# --- the health profile form ---------------------------------------------------------------------------------------


def test_profile_form_saves_front_torso_regions_and_the_record_names_them(logged_in, client_a):
    edit = reverse("clients:edit", args=[client_a.pk])
    response = logged_in.post(
        edit,
        profile_data(
            client_a,
            reduced_sensation_regions=[BodyRegion.CHEST_LEFT, BodyRegion.CHEST_RIGHT],
            pressure_sore_regions=[BodyRegion.ABDOMEN],
        ),
    )
    assert response.status_code == 302
    client_a.refresh_from_db()
    assert client_a.reduced_sensation_regions == ["chest_left", "chest_right"]
    assert client_a.pressure_sore_regions == ["abdomen"]

    record = logged_in.get(response["Location"])
    profile = dict(record.context["health_profile"])
    assert profile["Reduced sensation"] == ", ".join(region_labels(["chest_left", "chest_right"]))
    assert profile["Pressure sores"] == region_label("abdomen")
    html = record.content.decode()
    assert profile["Reduced sensation"] in html
    # The record's body map marks them on the front view (the only view that draws the front torso).
    for code, state in (("chest_left", "is-reduced"), ("chest_right", "is-reduced"), ("abdomen", "is-sore")):
        assert re.search(rf'<path class="[^"]*{state}[^"]*" d="[^"]*" data-region="{code}" data-view="front"', html)

    # Opened again, the form shows them ticked.
    form_html = logged_in.get(edit).content.decode()
    for field, code in (
        ("reduced_sensation_regions", "chest_left"),
        ("reduced_sensation_regions", "chest_right"),
        ("pressure_sore_regions", "abdomen"),
    ):
        assert re.search(rf'<input type="checkbox"[^>]*name="{field}" value="{code}"[^>]*checked', form_html), code


# --- the session form and its safety screen ------------------------------------------------------------------------


def test_session_form_screens_front_torso_rows_against_the_profile(logged_in, therapist):
    person = factories.make_client(
        therapists=[therapist], reduced_sensation_regions=["chest_left"], pressure_sore_regions=["abdomen"]
    )
    factories.make_phase(person)
    form_html = logged_in.get(new_url(person)).content.decode()
    assert f"Pressure sores on record ({region_label('abdomen').lower()})" in form_html
    assert f"Reduced sensation on record ({region_label('chest_left').lower()})" in form_html

    rows = [("swedish", "abdomen", "light"), ("swedish", "chest_left", "firm"), ("swedish", "chest_right", "light")]
    response = logged_in.post(new_url(person), session_data(*rows))
    assert response.status_code == 200
    html = response.content.decode()
    swedish = factories.technique("swedish").name
    assert f"{swedish} on the {region_label('abdomen').lower()}: there is a pressure sore there." in html
    firm, chest = Pressure.FIRM.label.lower(), region_label("chest_left").lower()
    assert f"{swedish} at {firm} pressure on the {chest}, where sensation is reduced" in html
    assert response.context["form"].errors["safety_override_reason"]
    assert not TreatmentSession.objects.filter(client=person).exists()


def test_therapist_logs_and_signs_a_session_on_the_front_torso(logged_in, front_torso_session):
    uses = front_torso_session.technique_uses.order_by("pk").values_list("technique__slug", "body_region", "pressure")
    assert list(uses) == [(slug, str(region), pressure) for slug, region, pressure in ROWS]
    html = logged_in.get(detail_url(front_torso_session)).content.decode()
    for region in FRONT_TORSO:
        assert f"<td>{region_label(region)}</td>" in html


# --- the portal and "My data" -------------------------------------------------------------------------------------


def test_portal_card_and_my_data_files_name_the_front_torso_regions(client, client_a, front_torso_session):
    client.force_login(client_a.user)
    labels = region_labels(FRONT_TORSO)
    home = client.get(reverse("portal:home")).content.decode()
    assert f"<strong>Body regions:</strong> {', '.join(labels)}" in home

    (row,) = csv_rows(client.get(reverse("portal:export_file", args=["sessions.csv"])).content)
    assert row["body_regions"] == "; ".join(labels)
    assert row["techniques"] == "; ".join(used_words(*use) for use in ROWS)

    record = json.loads(client.get(reverse("portal:export_file", args=["record.json"])).content)
    (session,) = record["sessions"]
    assert (session["body_regions"], session["techniques"]) == (row["body_regions"], row["techniques"])


def test_trend_csvs_carry_the_front_torso_session(client, therapist, client_a, front_torso_session):
    # The trend CSV names techniques only (docs/trends-csv.md has no region column): the session is there, once.
    names = "; ".join(dict.fromkeys(factories.technique(slug).name for slug, _region, _pressure in ROWS))
    client.force_login(therapist)
    clinic = csv_rows(client.get(reverse("trends:csv", args=[client_a.pk])).content)
    client.force_login(client_a.user)
    portal = csv_rows(client.get(reverse("portal:export_file", args=["trends.csv"])).content)
    for rows in (clinic, portal):
        (session,) = [r for r in rows if r["kind"] == "session"]
        assert (session["techniques"], session["status"]) == (names, SessionStatus.SIGNED.value)


# --- the FHIR bundle ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["therapist", "client"])
def test_fhir_procedure_body_sites_are_the_front_torso_regions(client, therapist, client_a, front_torso_session, who):
    user, url = (therapist, clinician_url(client_a)) if who == "therapist" else (client_a.user, PORTAL_URL)
    client.force_login(user)
    (procedure,) = resources(download(client, url), "Procedure")
    sites = procedure["bodySite"]
    assert [site["text"] for site in sites] == region_labels(FRONT_TORSO)
    assert [(c["code"], c["display"]) for site in sites for c in site["coding"]] == [
        (str(region), region_label(region)) for region in FRONT_TORSO
    ]
    for slug, region, pressure in ROWS:
        name, pressure_words = factories.technique(slug).name, Pressure(pressure).label.lower()
        assert f"{name} ({region_label(region).lower()}, {pressure_words} pressure)" in procedure["code"]["text"]


def test_my_data_carries_the_profile_the_safety_screen_reads(client, client_a):
    """The client's own record.json holds the regions and conditions the safety screen reads, in words."""
    client_a.reduced_sensation_regions = FRONT_TORSO[:2]
    client_a.pressure_sore_regions = FRONT_TORSO[2:]
    client_a.save()
    client.force_login(client_a.user)

    profile = json.loads(client.get(reverse("portal:export_file", args=["record.json"])).content)["profile"]

    assert profile["reduced_sensation_regions"] == region_labels(FRONT_TORSO[:2])
    assert profile["pressure_sore_regions"] == region_labels(FRONT_TORSO[2:])
    assert profile["conditions_needing_clearance"] == [] and profile["physician_clearance_on"] is None
