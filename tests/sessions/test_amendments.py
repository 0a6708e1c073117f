"""A correction shows everywhere (issue 16, items 3 and 4): the session page, the record, the admin, the portal,
trends and their CSV, and "My data" show a session as corrected, marked, with the signed original a click away;
amendments correct technique rows and the date and time too, through the same checks as logging a session."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from clients.models import Phase
from practice.models import AuditAction, AuditEvent
from sessions.corrections import corrected, corrected_values
from sessions.models import SessionAmendment, TechniqueUse
from sessions.trends.queries import trend_report
from tests import factories

ADMIN_LIST = "/admin/treatment_sessions/treatmentsession/"
MARK = '<details class="corrected" data-corrected><summary>corrected</summary>'
FORM_DATETIME = "%Y-%m-%dT%H:%M"


def amend_url(session) -> str:
    return reverse("sessions:amend", args=[session.pk])


def detail_url(session) -> str:
    return reverse("sessions:detail", args=[session.pk])


def days_ago(days: int) -> dt.datetime:
    return (timezone.localtime() - dt.timedelta(days=days)).replace(hour=10, minute=30, second=0, microsecond=0)


def amend_page_data(browser, session, **changes) -> dict:
    """What the amend page sends unchanged (values, rows, the safety fingerprint), with ``changes`` applied."""
    page = browser.get(amend_url(session))
    assert page.status_code == 200
    form, formset = page.context["form"], page.context["formset"]
    data: dict[str, str] = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, dt.datetime):
            value = value.strftime(FORM_DATETIME)  # shown in local time, as the page shows it
        if value is not None and value is not False:  # 0 is a value (a score, no correction yet): sent
            data[name] = str(value)
    data.update({f"uses-{key}": str(value) for key, value in formset.management_form.initial.items()})
    for index, row in enumerate(formset.forms):
        for name in ("technique", "body_region", "pressure"):
            data[f"uses-{index}-{name}"] = str(row[name].value() or "")
    data["reason"] = "Charting slip."
    data.update({name: str(value) for name, value in changes.items()})
    return data


def csv_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


@pytest.fixture
def signed(client_a, therapist):
    return factories.make_session(
        client_a,
        therapist,
        signed=True,
        started_at=days_ago(2),
        pain_before=5,
        pain_after=2,
        uses=[("swedish", "upper_back", "light")],
    )


def test_a_corrected_score_shows_corrected_everywhere_with_the_original_a_click_away(
    client, maria, owner, client_a, signed
):
    response = maria.post(amend_url(signed), amend_page_data(maria, signed, pain_after=3))
    assert response.status_code == 302
    mark = '<details class="corrected" data-corrected><summary>corrected</summary>'

    session_page = maria.get(detail_url(signed)).content.decode()
    assert f'data-score="pain_after">3 {mark}' in session_page
    assert "<li>Pain after: 2</li>" in session_page  # the signed original, inside the disclosure
    assert "Pain after: 2 → 3" in session_page  # the amendment history

    record = maria.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert f"→ 3 {mark}" in record
    assert "<li>Pain after: 2</li>" in record
    assert f'href="/sessions/{signed.pk}/#corrections" data-corrected-session>Corrected</a>' in record

    client.force_login(owner)
    changelist = client.get(ADMIN_LIST).content.decode()
    assert f"5 → 3 {mark}" in changelist
    assert "<li>Pain: 5 → 2</li>" in changelist
    change_page = client.get(f"{ADMIN_LIST}{signed.pk}/change/").content.decode()
    assert "Pain after: <strong>3</strong> (corrected; signed original: 2)" in change_page
    assert "<li>Pain after: 2 → 3</li>" in change_page  # the amendment in words
    assert "&quot;from&quot;" not in change_page and '"from"' not in change_page  # never its raw JSON
    client_page = client.get(client_admin_url(client_a)).content.decode()  # the client's admin page, its sessions
    assert f"5 → 3 {mark}" in client_page and "<li>Pain: 5 → 2</li>" in client_page
    amendment = SessionAmendment.objects.get()
    amendment_page = client.get(f"/admin/treatment_sessions/sessionamendment/{amendment.pk}/change/").content.decode()
    assert "<li>Pain after: 2 → 3</li>" in amendment_page and "&quot;from&quot;" not in amendment_page

    client.force_login(client_a.user)
    portal = client.get("/portal/").content.decode()
    assert "5 before, 3 after" in portal
    assert "Pain after: 2 before the correction, now 3" in portal

    client.force_login(owner)
    rows = csv_of(client.get(reverse("trends:csv", args=[client_a.pk])))
    assert [(row["pain_after"], row["amended"]) for row in rows if row["kind"] == "session"] == [("3", "yes")]


def client_admin_url(client_a) -> str:
    return reverse("admin:clients_client_change", args=[client_a.pk])


def test_the_admin_shows_a_corrected_date_marked_and_sorts_by_the_signed_one(
    client, maria, owner, client_a, therapist, signed
):
    between = factories.make_session(client_a, therapist, signed=True, started_at=days_ago(3))
    moved = days_ago(5)
    data = amend_page_data(maria, signed, started_at=moved.strftime(FORM_DATETIME), pain_after=3)
    assert maria.post(amend_url(signed), data).status_code == 302
    shown, original = (date_format(when, "D j M Y, H:i") for when in (moved, days_ago(2)))

    client.force_login(owner)
    for page in (ADMIN_LIST, client_admin_url(client_a)):
        html = client.get(page).content.decode()
        assert f"{shown} {MARK}" in html, page  # the corrected date, marked
        assert f"<li>Date and time: {original}</li>" in html, page  # the signed one, a click away
        assert f"Signed, {MARK}" in html and f"5 → 3 {MARK}" in html, page
        # Sorted by the date as signed (the indexed column): the moved session stays first.
        changes = [int(pk) for pk in re.findall(r"/treatmentsession/(\d+)/change/", html)]
        assert list(dict.fromkeys(changes)) == [signed.pk, between.pk], page


def test_technique_rows_and_date_are_corrected_for_trends_csv_and_exports(client, maria, client_a, signed):
    # The client was subacute 150 to 91 days ago; the session really took place 100 days ago.
    factories.make_phase(
        client_a,
        Phase.SUBACUTE,
        started_on=timezone.localdate() - dt.timedelta(days=150),
        ended_on=timezone.localdate() - dt.timedelta(days=91),
    )
    reflexology = factories.technique("reflexology")
    moved = days_ago(100)
    data = amend_page_data(
        maria,
        signed,
        started_at=moved.strftime(FORM_DATETIME),
        **{"uses-0-technique": reflexology.pk, "uses-0-body_region": "foot_left", "uses-0-pressure": "moderate"},
    )
    response = maria.post(amend_url(signed), data)
    assert response.status_code == 302, response.context["form"].errors
    changes = SessionAmendment.objects.get().changes
    assert set(changes) == {"started_at", "technique_uses"}
    # The signed rows are as signed; the correction holds the rows as they now stand.
    assert [(u.technique.slug, u.body_region) for u in TechniqueUse.objects.filter(session=signed)] == [
        ("swedish", "upper_back")
    ]
    assert changes["technique_uses"]["to"] == [
        {
            "technique": reflexology.pk,
            "technique_name": "Reflexology",
            "body_region": "foot_left",
            "pressure": "moderate",
        }
    ]

    page = maria.get(detail_url(signed)).content.decode()
    assert "<td>Reflexology</td>" in page and "Signed original techniques" in page
    assert moved.strftime("%-d %b %Y") in page

    report = trend_report(client_a, start=None, end=None)
    (point,) = report.sessions
    assert (point.date, point.phase, point.techniques) == (moved.date(), Phase.SUBACUTE, ("Reflexology",))
    assert [summary.label for summary in report.by_technique] == ["Reflexology"]

    rows = csv_of(maria.get(reverse("trends:csv", args=[client_a.pk]) + "?range=all"))
    session_rows = [row for row in rows if row["kind"] == "session"]
    assert [(r["date"], r["time"], r["phase"], r["techniques"]) for r in session_rows] == [
        (moved.date().isoformat(), "10:30", "subacute", "Reflexology")
    ]

    client.force_login(client_a.user)
    export = client.get(reverse("portal:export_file", args=["sessions.csv"]))
    (exported,) = csv_of(export)
    assert exported["date"] == moved.date().isoformat()
    assert exported["techniques"].startswith("Reflexology (") and "Swedish" not in exported["techniques"]
    assert exported["corrected_by_therapist"] == "yes"
    portal = client.get("/portal/").content.decode()
    assert "Reflexology" in portal and "Techniques: Swedish" in portal  # the original, in the disclosure


def test_a_corrected_date_moves_the_session_in_and_out_of_a_trend_range(maria, client_a, therapist, signed):
    old = factories.make_session(client_a, therapist, signed=True, started_at=days_ago(120))
    maria.post(amend_url(signed), amend_page_data(maria, signed, started_at=days_ago(110).strftime(FORM_DATETIME)))
    maria.post(amend_url(old), amend_page_data(maria, old, started_at=days_ago(3).strftime(FORM_DATETIME)))
    report = trend_report(client_a, start=timezone.localdate() - dt.timedelta(days=30), end=timezone.localdate())
    assert [point.id for point in report.sessions] == [old.pk]
    everything = trend_report(client_a, start=None, end=None)
    assert [point.id for point in everything.sessions] == [signed.pk, old.pk]  # by corrected date


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"started_at": "2027-06-01T10:00"}, "started_at", "A session cannot start in the future"),
        ({"started_at": "1999-12-31T10:00"}, "started_at", "A session date must be on or after"),
        ({"uses-0-body_region": "tail"}, None, "Choose a body region from the list."),
        ({"uses-0-pressure": "crushing"}, None, "Choose a pressure from the list."),
        ({"uses-0-DELETE": "on"}, None, "Add at least one technique"),
    ],
)
def test_bad_corrections_get_a_message_and_save_nothing(maria, signed, changes, field, message):
    response = maria.post(amend_url(signed), amend_page_data(maria, signed, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Nothing was recorded" in response.content.decode()
    if field:
        assert any(message in error for error in response.context["form"].errors[field])
    assert not SessionAmendment.objects.exists()


def test_too_many_technique_rows_are_refused(maria, signed):
    data = amend_page_data(maria, signed, **{"uses-TOTAL_FORMS": 500})
    for index in range(1, 45):
        data.update({f"uses-{index}-technique": "", f"uses-{index}-body_region": "", f"uses-{index}-pressure": "light"})
    data["uses-44-body_region"] = "foot_left"
    response = maria.post(amend_url(signed), data)
    assert response.status_code == 200
    assert "A session holds at most 40 technique rows" in response.content.decode()
    assert not SessionAmendment.objects.exists()


def test_a_correction_cannot_add_hot_stone_for_a_heat_sensitive_client_without_an_override(maria, client_a, signed):
    assert client_a.heat_sensitive
    hot_stone = factories.technique("hot-stone")
    rows = {"uses-1-technique": hot_stone.pk, "uses-1-body_region": "lower_back", "uses-1-pressure": "light"}
    data = amend_page_data(maria, signed, **rows)
    response = maria.post(amend_url(signed), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Safety screen for the corrected session" in html
    assert "A safety stop applies to the corrected session" in html
    assert not SessionAmendment.objects.exists()

    # A placeholder is no reason; a real one, once the findings were shown, records it and audits the override.
    data["reviewed"] = response.context["form"].data["reviewed"]
    data["safety_override_reason"] = "x"
    assert maria.post(amend_url(signed), data).status_code == 200
    assert not SessionAmendment.objects.exists()
    data["safety_override_reason"] = "Stones were lukewarm, client asked for them; checked skin before and after."
    assert maria.post(amend_url(signed), data).status_code == 302
    changes = SessionAmendment.objects.get().changes
    assert changes["safety_override_reason"]["to"].startswith("Stones were lukewarm")
    assert AuditEvent.objects.filter(action=AuditAction.SAFETY_OVERRIDE, object_id=signed.pk).exists()
    assert "Stones were lukewarm" in maria.get(detail_url(signed)).content.decode()


def test_the_service_screens_a_correction_whatever_the_caller(client_a, therapist, signed):
    from django.core.exceptions import ValidationError

    from sessions.safety import PlannedUse
    from sessions.services import session_amend

    hot = PlannedUse(factories.technique("hot-stone"), "lower_back", "light")
    with pytest.raises(ValidationError) as refused:
        session_amend(session=signed, author=therapist, reason="Forgot a row.", changes={}, uses=[hot])
    assert "safety_override_reason" in refused.value.message_dict
    assert not SessionAmendment.objects.exists()


def test_corrected_values_give_the_corrected_start_for_other_apps(maria, signed):
    moved = days_ago(5)
    maria.post(amend_url(signed), amend_page_data(maria, signed, started_at=moved.strftime(FORM_DATETIME)))
    values = corrected_values(signed)
    assert values["started_at"] == moved
    assert [row["body_region"] for row in values["technique_uses"]] == ["upper_back"]
    assert corrected(signed).original("started_at") == days_ago(2)


# --- query counts stay the same however many sessions are corrected -------------------------------------------


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured.captured_queries)


def _corrected_sessions(client_a, therapist, count: int) -> None:
    for index in range(count):
        session = factories.make_session(
            client_a, therapist, signed=True, started_at=days_ago(index + 3), uses=[("swedish", "neck", "light")]
        )
        from sessions.services import session_amend

        session_amend(
            session=session,
            author=therapist,
            reason="Slip.",
            changes={"pain_after": 1, "started_at": days_ago(index + 40)},
        )


def test_lists_of_corrected_sessions_cost_the_same_queries_whatever_their_number(client, owner, client_a, therapist):
    _corrected_sessions(client_a, therapist, 2)
    pages = {}
    client.force_login(therapist)
    pages["record"] = _queries(client, reverse("clients:detail", args=[client_a.pk]))
    pages["csv"] = _queries(client, reverse("trends:csv", args=[client_a.pk]))
    client.force_login(owner)
    pages["admin"] = _queries(client, ADMIN_LIST)
    pages["client admin"] = _queries(client, client_admin_url(client_a))
    client.force_login(client_a.user)
    pages["portal"] = _queries(client, "/portal/")
    pages["export"] = _queries(client, reverse("portal:export_file", args=["sessions.csv"]))

    _corrected_sessions(client_a, therapist, 8)
    client.force_login(therapist)
    assert _queries(client, reverse("clients:detail", args=[client_a.pk])) == pages["record"]
    assert _queries(client, reverse("trends:csv", args=[client_a.pk])) == pages["csv"]
    client.force_login(owner)
    assert _queries(client, ADMIN_LIST) == pages["admin"]
    assert _queries(client, client_admin_url(client_a)) == pages["client admin"]
    client.force_login(client_a.user)
    assert _queries(client, "/portal/") == pages["portal"]
    assert _queries(client, reverse("portal:export_file", args=["sessions.csv"])) == pages["export"]


def test_the_session_page_costs_the_same_queries_corrected_or_not(maria, client_a, therapist, signed):
    before = _queries(maria, detail_url(signed))
    maria.post(amend_url(signed), amend_page_data(maria, signed, pain_after=4))
    maria.post(amend_url(signed), amend_page_data(maria, signed, plan="Weekly."))
    assert _queries(maria, detail_url(signed)) == before


# --- who may correct ------------------------------------------------------------------------------------------


def test_only_those_caring_for_the_client_may_open_the_amend_page(client, owner, other_therapist, client_a, signed):
    client.force_login(other_therapist)
    assert client.get(amend_url(signed)).status_code == 404
    client.force_login(client_a.user)
    assert client.get(amend_url(signed)).status_code in (302, 403, 404)
    client.logout()
    assert client.get(amend_url(signed)).status_code == 302
    client.force_login(owner)
    assert client.get(amend_url(signed)).status_code == 200


def test_a_form_opened_before_someone_elses_correction_does_not_undo_it(client, maria, owner, signed):
    """Opened (or restored from an autosave) before the owner's correction, the therapist's form is checked again
    against the session as it stands, not saved over it."""
    stale = amend_page_data(maria, signed, fatigue_after=6)
    assert stale["based_on"] == "0"
    client.force_login(owner)
    assert client.post(amend_url(signed), amend_page_data(client, signed, pain_after=4)).status_code == 302

    client.force_login(signed.therapist)
    refused = client.post(amend_url(signed), stale)

    assert refused.status_code == 200
    assert "Someone recorded a correction to this session after you opened this form" in refused.content.decode()
    assert SessionAmendment.objects.filter(session=signed).count() == 1
    assert refused.context["form"]["based_on"].value() == "1"  # the next save is against what stands now
    again = {**stale, "based_on": "1", "pain_after": "4"}  # checked: the owner's 4 kept, the fatigue corrected
    assert client.post(amend_url(signed), again).status_code == 302
    assert corrected(signed).pain_after == 4 and corrected(signed).fatigue_after == 6
