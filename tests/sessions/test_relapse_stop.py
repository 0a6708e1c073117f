"""A reported relapse is a stop on the record and the session form until the therapist records the phase (issue 15)."""

import datetime as dt

import pytest
import time_machine
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from clients.intake import intake_answer, intake_start, intake_submit
from clients.intake_review import relapse_dismiss, unsettled_relapse_report
from clients.models import Phase, RelapseDismissal, SelfReport
from clients.services import phase_start, self_report_record
from practice.models import AuditEvent
from sessions.models import TreatmentSession
from tests import factories
from tests.sessions.test_session_views import session_data

pytestmark = pytest.mark.django_db

POSSIBLE_RELAPSE = factories.POSSIBLE_RELAPSE_ANSWERS
OVERRIDE = "Spoke to the MS nurse: very light reflexology for comfort is fine today."


def report_relapse(client, recorded_on=None):
    entry, _ = self_report_record(
        client=client,
        pain=6,
        fatigue=7,
        recorded_on=recorded_on,
        new_or_worse_symptom=True,
        relapse_answers=POSSIBLE_RELAPSE,
    )
    assert entry.triage == "possible_relapse"
    return entry


def stops(html: str) -> bool:
    return 'data-code="relapse_reported"' in html


def record(browser, client) -> str:
    return browser.get(reverse("clients:detail", args=[client.pk])).content.decode()


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


@pytest.fixture
def alice(client_a):
    """client_a in the portal, in a browser of her own."""
    browser = Browser()
    browser.force_login(client_a.user)
    return browser


def check_in(alice, symptom: str, answers: dict[str, str] | None = None, fatigue: int = 7) -> SelfReport:
    """How I feel today through the portal, with the symptom questions when ``answers`` are given."""
    data = {"pain": "6", "fatigue": str(fatigue), "new_or_worse_symptom": symptom}
    assert alice.post(reverse("portal:self_report"), data).status_code == 302
    if answers is not None:
        assert alice.post(reverse("portal:self_report_symptom"), answers).status_code == 302
    return SelfReport.objects.get(recorded_on=timezone.localdate())


def not_a_relapse(maria, client_a) -> None:
    url = reverse("clients:relapse_dismiss", args=[client_a.pk])
    assert maria.post(url, {"reason": "The MS nurse found a urinary infection."}).status_code == 302


T = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("check_in", "intake", "phase", "dismissed", "expected"),
    [
        (None, None, None, None, None),
        (T, None, None, None, T),
        (None, T, None, None, T),
        (T, T + H, None, None, T + H),
        (T, None, T + H, None, None),  # a phase recorded after the report settles it
        (T, None, None, T + H, None),  # so does "not a relapse"
        (T, None, T - H, None, T),  # a phase recorded before the report does not
        (T + H, None, None, T, T + H),  # a report after the dismissal is a stop again
    ],
)
def test_which_report_is_still_unsettled(check_in, intake, phase, dismissed, expected):
    facts = {"check_in_at": check_in, "intake_at": intake, "phase_recorded_at": phase, "dismissed_at": dismissed}
    assert unsettled_relapse_report(**facts) == expected


def test_a_possible_relapse_check_in_is_a_stop_on_the_caseload_and_the_record(maria, client_a):
    assert not stops(record(maria, client_a))
    report_relapse(client_a)
    assert stops(record(maria, client_a))
    assert stops(maria.get(reverse("clients:caseload")).content.decode())


def test_an_intake_with_new_or_worse_symptoms_is_a_stop(maria, client_a):
    intake = intake_start(client=client_a)
    intake_answer(intake=intake, answers={"new_or_worse_symptoms_30_days": True}, step=1)
    intake_submit(intake=intake)
    assert stops(record(maria, client_a))


def test_the_session_form_needs_an_override_reason_while_the_stop_stands(maria, client_a):
    report_relapse(client_a)
    url = reverse("sessions:new", args=[client_a.pk])
    assert stops(maria.get(url).content.decode())
    response = maria.post(url, session_data(("reflexology", "foot_left", "light")))
    assert response.status_code == 200 and not TreatmentSession.objects.filter(client=client_a).exists()
    reviewed = response.context["form"]["reviewed"].value()
    data = session_data(("reflexology", "foot_left", "light"), reviewed=reviewed, safety_override_reason=OVERRIDE)
    assert maria.post(url, data).status_code == 302
    assert TreatmentSession.objects.get(client=client_a).safety_override_reason == OVERRIDE


def test_recording_an_acute_flare_replaces_the_stop_with_the_flare(maria, therapist, client_a):
    report_relapse(client_a)
    phase_start(client=client_a, phase=Phase.ACUTE_FLARE, started_on=timezone.localdate(), recorded_by=therapist)
    html = record(maria, client_a)
    assert not stops(html) and 'data-code="acute_flare"' in html


def test_not_a_relapse_with_a_reason_lifts_the_stop_until_the_next_report(maria, client_a):
    report_relapse(client_a, recorded_on=timezone.localdate() - dt.timedelta(days=1))
    url = reverse("clients:relapse_dismiss", args=[client_a.pk])
    maria.post(url, {"reason": "no"})
    assert not RelapseDismissal.objects.exists() and stops(record(maria, client_a))
    assert maria.post(url, {"reason": "The MS nurse found a urinary infection."}).status_code == 302
    dismissal = RelapseDismissal.objects.get(client=client_a)
    assert AuditEvent.objects.filter(object_type="relapsedismissal", object_id=str(dismissal.pk)).exists()
    assert not stops(record(maria, client_a))
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        report_relapse(client_a)
        assert stops(record(maria, client_a))


def test_a_report_older_than_30_days_is_no_stop(maria, client_a):
    report_relapse(client_a, recorded_on=timezone.localdate() - dt.timedelta(days=31))
    assert not stops(record(maria, client_a))


def test_a_dismissal_is_never_changed(therapist, client_a):
    dismissal = relapse_dismiss(client=client_a, dismissed_by=therapist, reason="Heat: a hot bath the night before.")
    dismissal.reason = "Something else entirely"
    with pytest.raises(Exception, match="never changed"):
        dismissal.save()


def test_saving_the_day_again_after_not_a_relapse_does_not_raise_the_stop_again(maria, alice, client_a):
    reported = check_in(alice, "yes", POSSIBLE_RELAPSE).relapse_reported_at
    assert reported is not None and stops(record(maria, client_a))
    not_a_relapse(maria, client_a)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        # A new fatigue score, the same symptom: its answers are kept and it is still a possible relapse.
        again = check_in(alice, "yes", fatigue=4)
        assert again.triage == "possible_relapse" and again.fatigue == 4
        assert again.relapse_reported_at == reported
        assert not stops(record(maria, client_a))
        # Answering the same questions the same way again is no new report either.
        check_in(alice, "yes", POSSIBLE_RELAPSE)
        assert not stops(record(maria, client_a))


def test_changing_the_days_answer_leaves_the_reported_relapse_to_the_therapist(maria, alice, client_a):
    reported = check_in(alice, "yes", POSSIBLE_RELAPSE).relapse_reported_at
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        heat = check_in(alice, "yes", POSSIBLE_RELAPSE | {"explained_by_heat": "yes"})
        assert heat.triage == "likely_pseudo_relapse" and heat.relapse_reported_at == reported
        assert stops(record(maria, client_a))
        no_symptom = check_in(alice, "no")
        assert no_symptom.triage == "" and no_symptom.relapse_reported_at == reported
        assert stops(record(maria, client_a))
        not_a_relapse(maria, client_a)
        assert not stops(record(maria, client_a))
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        # Reporting it again after saying no is a new report: a stop again.
        assert check_in(alice, "yes", POSSIBLE_RELAPSE).relapse_reported_at > reported
        assert stops(record(maria, client_a))
