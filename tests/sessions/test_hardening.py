"""Hardening of session writes: one session per form, plausible dates, real therapists, notes signed by their
author, archived clients read-only, and a bounded number of technique rows."""

import datetime as dt
import re
import threading
import time
import uuid

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from devtools.html_forms import SESSION_FORM_FIELD, FormFields, fill_session_form
from practice.models import AuditEvent
from practice.roles import THERAPIST
from sessions import services
from sessions.models import SessionAmendment, SessionStatus, TechniqueUse, TreatmentSession
from sessions.safety import PlannedUse
from sessions.services import SessionWriteRefused, session_amend, session_create, session_sign, session_update
from tests import factories
from tests.practice.world import admin_session_post
from tests.sessions.test_session_views import detail_url, edit_url, new_url, session_data

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only: SQLite serialises every writer"
)
ADD_URL = reverse("admin:treatment_sessions_treatmentsession_add")


def sign_url(session) -> str:
    return reverse("sessions:sign", args=[session.pk])


def amend_url(session) -> str:
    return reverse("sessions:amend", args=[session.pk])


def change_url(session) -> str:
    return reverse("admin:treatment_sessions_treatmentsession_change", args=[session.pk])


def browser_for(user) -> Browser:
    browser = Browser()
    browser.force_login(user)
    return browser


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def events(**match) -> list[tuple]:
    rows = AuditEvent.objects.filter(**match).order_by("sequence")
    return list(rows.values_list("action", "object_type", "object_id", "actor_username", "outcome"))


def filled_form(browser: Browser, client, *, marker: str = "One session, however often sent.") -> dict:
    """The new-session form as the page renders it (its hidden one-time token included), filled in."""
    page = browser.get(new_url(client))
    assert page.status_code == 200
    return fill_session_form(FormFields(page.content.decode(), SESSION_FORM_FIELD), marker=marker)


def planned(*rows) -> list[PlannedUse]:
    return [PlannedUse(factories.technique(slug), region, pressure) for slug, region, pressure in rows]


def draft_values(**changes) -> dict:
    values = {"started_at": timezone.now() - dt.timedelta(hours=2), "pain_before": 5, "fatigue_before": 5}
    values.update(changes)
    return values


@pytest.fixture
def maria(therapist):
    return browser_for(therapist)


@pytest.fixture
def co_therapist(client_a):
    """A second therapist who cares for client A too."""
    nadia = factories.make_therapist("nadia")
    client_a.therapists.add(nadia)
    return nadia


@pytest.fixture
def draft(client_a, therapist):
    return factories.make_session(
        client_a, therapist, uses=[("swedish", "upper_back", "light")], pain_after=3, fatigue_after=3
    )


@pytest.fixture
def signed(client_a, therapist):
    return factories.make_session(client_a, therapist, uses=[("swedish", "upper_back", "light")], signed=True)


# --- 1. the same form sent twice saves one session -----------------------------------------------------------


def test_the_new_session_form_carries_a_new_one_time_token_each_time_it_is_opened(maria, client_a):
    first = FormFields(maria.get(new_url(client_a)).content.decode(), SESSION_FORM_FIELD)
    second = FormFields(maria.get(new_url(client_a)).content.decode(), SESSION_FORM_FIELD)
    tokens = [uuid.UUID(first.fields["form_token"][0]), uuid.UUID(second.fields["form_token"][0])]
    assert tokens[0] != tokens[1]


def test_the_same_form_posted_twice_saves_one_session_and_both_land_on_it(maria, client_a):
    data = filled_form(maria, client_a)
    first = maria.post(new_url(client_a), data)
    again = maria.post(new_url(client_a), data)
    session = TreatmentSession.objects.get()
    assert (first.status_code, again.status_code) == (302, 302)
    assert first["Location"] == again["Location"] == detail_url(session)
    assert session.technique_uses.count() == 1
    # One CREATE; the repeat is a read of the session it was sent on to.
    assert events(object_type="session") == [
        ("create", "session", str(session.pk), "maria", "ok"),
        ("read", "session", str(session.pk), "maria", "ok"),
    ]


def test_the_same_form_sent_again_after_its_safety_review_saves_one_session(maria, therapist):
    warm = factories.make_client(therapists=[therapist], heat_sensitive=True)
    factories.make_phase(warm)
    data = filled_form(maria, warm) | {"room_temperature_c": ["27"]}
    review = maria.post(new_url(warm), data)
    assert review.status_code == 200  # the cautions are shown: confirm them
    confirmed = data | {
        "reviewed": FormFields(review.content.decode(), SESSION_FORM_FIELD).fields["reviewed"],
        "confirm_cautions": ["on"],
    }
    assert maria.post(new_url(warm), confirmed).status_code == 302
    assert maria.post(new_url(warm), confirmed).status_code == 302
    assert TreatmentSession.objects.filter(client=warm).count() == 1


def test_a_form_posted_without_a_token_is_saved_each_time(maria, client_a):
    data = session_data(("swedish", "neck", "light"))
    assert maria.post(new_url(client_a), data).status_code == 302
    assert maria.post(new_url(client_a), data).status_code == 302
    assert TreatmentSession.objects.count() == 2


def test_a_token_already_used_for_another_clients_session_is_refused(maria, therapist, client_a):
    other = factories.make_client(therapists=[therapist])
    data = filled_form(maria, client_a)
    saved = maria.post(new_url(client_a), data)
    assert saved.status_code == 302
    forged = maria.post(new_url(other), session_data(("swedish", "neck", "light"), form_token=data["form_token"][0]))
    assert forged.status_code == 200
    assert "This form was already used. Open a new form to log the session." in forged.content.decode()
    assert not TreatmentSession.objects.filter(client=other).exists()


def test_a_garbled_token_is_a_message_not_an_error(maria, client_a):
    response = maria.post(new_url(client_a), session_data(("swedish", "neck", "light"), form_token="not-a-token"))
    assert response.status_code == 200
    assert "This form could not be read." in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_the_service_returns_the_session_a_token_already_saved(client_a, therapist):
    token = uuid.uuid4()
    first = session_create(
        client=client_a,
        therapist=therapist,
        values=draft_values(),
        uses=planned(("reiki", "head", "light")),
        form_token=token,
    )
    again = session_create(
        client=client_a,
        therapist=therapist,
        values=draft_values(),
        uses=planned(("reiki", "head", "light")),
        form_token=token,
    )
    assert (first.resubmitted, again.resubmitted, again.pk) == (False, True, first.pk)
    assert TreatmentSession.objects.count() == 1
    assert TechniqueUse.objects.count() == 1


def test_a_token_saved_meanwhile_makes_the_database_refuse_the_second_session(client_a, therapist, monkeypatch):
    """The race: both requests looked before either saved. The token's key refuses the second session."""
    token = uuid.uuid4()
    first = session_create(
        client=client_a,
        therapist=therapist,
        values=draft_values(),
        uses=planned(("reiki", "head", "light")),
        form_token=token,
    )
    looked = []
    real = services._saved_from_form

    def not_yet_saved_at_first(*args):
        looked.append(args)
        return None if len(looked) == 1 else real(*args)

    monkeypatch.setattr(services, "_saved_from_form", not_yet_saved_at_first)
    again = session_create(
        client=client_a,
        therapist=therapist,
        values=draft_values(),
        uses=planned(("reiki", "head", "light")),
        form_token=token,
    )
    assert (again.pk, again.resubmitted, len(looked)) == (first.pk, True, 2)
    assert TreatmentSession.objects.count() == 1
    assert TechniqueUse.objects.count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_posts_of_one_form_save_one_session():
    therapist = factories.make_therapist("concurrent")
    person = factories.make_client(therapists=[therapist])
    factories.make_phase(person)
    data = filled_form(browser_for(therapist), person, marker="Sent ten times at once.")
    browsers = [browser_for(therapist) for _ in range(10)]
    start = threading.Barrier(len(browsers))
    answers: list = []
    errors: list = []

    def post(browser: Browser) -> None:
        try:
            start.wait()
            response = browser.post(new_url(person), data)
            answers.append((response.status_code, response.get("Location")))
        except Exception as exc:  # pragma: no cover - shown in the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(browser,)) for browser in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    session = TreatmentSession.objects.get(client=person)
    assert answers == [(302, detail_url(session))] * 10
    assert session.technique_uses.count() == 1
    assert AuditEvent.objects.filter(action="create", object_type="session").count() == 1


# --- 2. plausible session dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "1999-12-31T23:59"])
def test_a_session_before_2000_is_refused(maria, client_a, typed):
    response = maria.post(new_url(client_a), session_data(("swedish", "neck", "light"), started_at=typed))
    assert response.status_code == 200
    assert response.context["form"].errors["started_at"] == ["A session date must be on or after 1 Jan 2000."]
    assert not TreatmentSession.objects.exists()


def test_a_session_on_the_first_of_january_2000_is_accepted(maria, client_a):
    data = session_data(("swedish", "neck", "light"), started_at="2000-01-01T00:00")
    assert maria.post(new_url(client_a), data).status_code == 302
    assert TreatmentSession.objects.get().started_at == timezone.make_aware(dt.datetime(2000, 1, 1))


@pytest.mark.parametrize(("minutes_ahead", "accepted"), [(5, True), (6, False)])
def test_a_session_starts_at_most_five_minutes_from_now(maria, client_a, minutes_ahead, accepted):
    now = timezone.localtime().replace(second=0, microsecond=0)
    typed = (now + dt.timedelta(minutes=minutes_ahead)).strftime("%Y-%m-%dT%H:%M")
    with time_machine.travel(now, tick=False):
        response = maria.post(new_url(client_a), session_data(("swedish", "neck", "light"), started_at=typed))
    if accepted:
        assert response.status_code == 302
    else:
        assert response.context["form"].errors["started_at"] == [
            "A session cannot start in the future; log it after it happens."
        ]
    assert TreatmentSession.objects.exists() == accepted


def test_an_edit_cannot_move_a_draft_into_the_future(maria, draft):
    data = session_data(
        ("swedish", "upper_back", "light"),
        started_at=(timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        version=draft.version,
        initial_rows=1,
    )
    response = maria.post(edit_url(draft), data)
    assert response.context["form"].errors["started_at"] == [
        "A session cannot start in the future; log it after it happens."
    ]
    assert TreatmentSession.objects.get(pk=draft.pk).version == draft.version


def test_the_admin_refuses_a_session_in_year_one(owner, therapist, client_a):
    data = admin_data(client_a, therapist, started_at_0="0001-01-01", started_at_1="10:00:00")
    response = browser_for(owner).post(ADD_URL, data)
    assert response.status_code == 200
    assert "A session date must be on or after 1 Jan 2000." in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_the_services_refuse_implausible_dates(client_a, therapist, draft):
    with pytest.raises(ValidationError) as early:
        session_create(
            client=client_a,
            therapist=therapist,
            values=draft_values(started_at=timezone.make_aware(dt.datetime(1, 1, 1))),
            uses=planned(("reiki", "head", "light")),
        )
    assert early.value.message_dict == {"started_at": ["A session date must be on or after 1 Jan 2000."]}
    with pytest.raises(ValidationError) as future:
        session_update(
            session=draft,
            version=draft.version,
            values={"started_at": timezone.now() + dt.timedelta(minutes=10)},
            uses=None,
            user=therapist,
        )
    assert future.value.message_dict == {
        "started_at": ["A session cannot start in the future; log it after it happens."]
    }


# --- 3. the admin offers only therapists ------------------------------------------------------------------------


def admin_data(client, therapist, **fields) -> dict:
    return admin_session_post(client, therapist, ("swedish", "neck", "light"), **fields)


def therapist_options(response) -> set[str]:
    select = re.search(r'<select name="therapist"[^>]*>(.*?)</select>', response.content.decode(), re.S)
    return set(re.findall(r'<option value="(\d+)"', select.group(1)))


def test_the_admin_offers_only_active_therapists(owner, therapist, other_therapist, client_a):
    factories.make_user("gone", role=THERAPIST, is_active=False)
    response = browser_for(owner).get(ADD_URL)
    assert therapist_options(response) == {str(therapist.pk), str(other_therapist.pk)}


@pytest.mark.parametrize("who", ["portal client", "owner", "inactive therapist"])
def test_the_admin_refuses_a_session_given_to_someone_who_is_not_an_active_therapist(owner, client_a, who):
    people = {
        "portal client": lambda: client_a.user,
        "owner": lambda: owner,
        "inactive therapist": lambda: factories.make_user("gone", role=THERAPIST, is_active=False),
    }
    response = browser_for(owner).post(ADD_URL, admin_data(client_a, people[who]()))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_the_admin_cannot_hand_a_draft_to_a_portal_account(owner, therapist, client_a):
    draft = factories.make_session(client_a, therapist)
    data = admin_data(client_a, client_a.user, opened_version=draft.version)
    response = browser_for(owner).post(change_url(draft), data)
    assert response.status_code == 200
    assert TreatmentSession.objects.get(pk=draft.pk).therapist == therapist


def test_the_admin_gives_a_session_to_a_therapist(owner, other_therapist, client_a):
    response = browser_for(owner).post(ADD_URL, admin_data(client_a, other_therapist))
    assert response.status_code == 302
    assert TreatmentSession.objects.get().therapist == other_therapist


def test_the_services_refuse_a_portal_account_as_therapist(client_a, draft):
    with pytest.raises(ValidationError) as created:
        session_create(
            client=client_a, therapist=client_a.user, values=draft_values(), uses=planned(("reiki", "head", "light"))
        )
    assert created.value.message_dict == {"therapist": ["Choose one of the practice's active therapists."]}
    with pytest.raises(ValidationError):
        session_update(
            session=draft, version=draft.version, values={"therapist": client_a.user}, uses=None, user=draft.therapist
        )
    assert not TreatmentSession.objects.exclude(pk=draft.pk).exists()
    assert TreatmentSession.objects.get(pk=draft.pk).therapist == draft.therapist


# --- 4. a note is signed by its author --------------------------------------------------------------------------


def test_a_co_treating_therapist_reads_a_draft_without_edit_or_sign_buttons(co_therapist, draft):
    response = browser_for(co_therapist).get(detail_url(draft))
    html = response.content.decode()
    assert response.status_code == 200
    assert edit_url(draft) not in html
    assert sign_url(draft) not in html
    assert "Only Maria, who wrote this draft, can edit or sign it." in html


def test_the_author_sees_edit_and_sign(maria, draft):
    html = maria.get(detail_url(draft)).content.decode()
    assert edit_url(draft) in html
    assert sign_url(draft) in html
    assert "data-write-refusal" not in html


def test_a_co_treating_therapist_cannot_open_a_drafts_edit_page(co_therapist, draft):
    response = browser_for(co_therapist).get(edit_url(draft))
    assert response.status_code == 302
    assert response["Location"] == detail_url(draft)
    assert messages_of(response) == [
        "Only Maria, who wrote this draft, can edit or sign it. You can read it here and, once it is signed, "
        "record a correction as an amendment."
    ]
    assert events(action="change") == [("change", "session", str(draft.pk), "nadia", "denied")]


def test_a_co_treating_therapist_cannot_save_an_edit(co_therapist, draft):
    data = session_data(("swedish", "upper_back", "light"), version=draft.version, initial_rows=1, plan="Mine now.")
    response = browser_for(co_therapist).post(edit_url(draft), data)
    assert response.status_code == 302
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert (stored.plan, stored.version) == ("", draft.version)
    assert events(action="change") == [("change", "session", str(draft.pk), "nadia", "denied")]


def test_a_co_treating_therapist_cannot_sign(co_therapist, draft):
    response = browser_for(co_therapist).post(sign_url(draft))
    assert response.status_code == 302
    assert response["Location"] == detail_url(draft)
    assert messages_of(response) == ["Only Maria, who wrote this note, can sign it."]
    assert TreatmentSession.objects.get(pk=draft.pk).status == SessionStatus.DRAFT
    assert events(action="sign") == [("sign", "session", str(draft.pk), "nadia", "denied")]


def test_the_author_edits_and_signs(maria, draft):
    data = session_data(
        ("swedish", "upper_back", "light"),
        version=draft.version,
        initial_rows=1,
        plan="Calves next time.",
        pain_after=3,
        fatigue_after=3,
    )
    assert maria.post(edit_url(draft), data).status_code == 302
    assert maria.post(sign_url(draft)).status_code == 302
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert (stored.plan, stored.status, stored.signed_by.username) == ("Calves next time.", "signed", "maria")
    assert [e[0] for e in events(outcome="ok", action__in=["change", "sign"])] == ["change", "sign"]


def test_an_owner_may_edit_a_draft_but_not_sign_it(owner, draft):
    browser = browser_for(owner)
    html = browser.get(detail_url(draft)).content.decode()
    assert edit_url(draft) in html
    assert sign_url(draft) not in html
    data = session_data(("swedish", "upper_back", "light"), version=draft.version, initial_rows=1, plan="Tidied.")
    assert browser.post(edit_url(draft), data).status_code == 302
    response = browser.post(sign_url(draft))
    assert messages_of(response)[-1] == "Only Maria, who wrote this note, can sign it."
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert (stored.plan, stored.status) == ("Tidied.", SessionStatus.DRAFT)
    assert events(action="sign") == [("sign", "session", str(draft.pk), "owner", "denied")]


def test_a_co_treating_therapist_amends_a_signed_session(co_therapist, signed):
    browser = browser_for(co_therapist)
    html = browser.get(detail_url(signed)).content.decode()
    assert amend_url(signed) in html
    page = browser.get(amend_url(signed))
    assert page.status_code == 200
    data = {name: value for name, value in page.context["form"].initial.items() if value is not None}
    data.update(pain_after=1, reason="The client told me the pain eased further that evening.")
    response = browser.post(amend_url(signed), {name: str(value) for name, value in data.items()})
    assert response.status_code == 302
    amendment = SessionAmendment.objects.get()
    assert (amendment.author, amendment.changes["pain_after"]["to"]) == (co_therapist, 1)


def test_the_services_refuse_an_edit_or_signature_by_someone_else(co_therapist, owner, draft):
    with pytest.raises(SessionWriteRefused):
        session_update(session=draft, version=draft.version, values={"plan": "x"}, uses=None, user=co_therapist)
    with pytest.raises(SessionWriteRefused):
        session_sign(session=draft, user=co_therapist)
    with pytest.raises(SessionWriteRefused):
        session_sign(session=draft, user=owner)
    saved = session_update(session=draft, version=draft.version, values={"plan": "Owner's fix."}, uses=None, user=owner)
    assert saved.plan == "Owner's fix."
    assert TreatmentSession.objects.get(pk=draft.pk).status == SessionStatus.DRAFT


# --- 5. an archived client's record is read-only ----------------------------------------------------------------


def test_no_session_is_logged_for_an_archived_client(maria, client_a):
    data = filled_form(maria, client_a)
    client_a.archive()
    response = maria.post(new_url(client_a), data)
    assert response.status_code == 302
    assert not TreatmentSession.objects.exists()
    assert events(action="create") == [("create", "session", "", "maria", "denied")]
    with pytest.raises(SessionWriteRefused):
        session_create(
            client=client_a,
            therapist=client_a.therapists.get(),
            values=draft_values(),
            uses=planned(("reiki", "head", "light")),
        )


def test_an_archived_clients_draft_is_neither_edited_nor_signed(maria, draft):
    draft.client.archive()
    html = maria.get(detail_url(draft)).content.decode()
    assert edit_url(draft) not in html and sign_url(draft) not in html
    assert "is archived: the record is read-only until an owner restores them." in html
    assert maria.get(edit_url(draft))["Location"] == detail_url(draft)
    data = session_data(("swedish", "upper_back", "light"), version=draft.version, initial_rows=1, plan="Late.")
    assert maria.post(edit_url(draft), data).status_code == 302
    assert maria.post(sign_url(draft)).status_code == 302
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert (stored.plan, stored.status, stored.version) == ("", SessionStatus.DRAFT, draft.version)
    assert {(e[0], e[4]) for e in events(object_type="session", action__in=["change", "sign"])} == {
        ("change", "denied"),
        ("sign", "denied"),
    }


def test_an_archived_clients_signed_session_is_not_amended(maria, signed, therapist):
    signed.client.archive()
    assert amend_url(signed) not in maria.get(detail_url(signed)).content.decode()
    assert maria.get(amend_url(signed))["Location"] == detail_url(signed)
    response = maria.post(amend_url(signed), {"pain_after": "0", "reason": "Typed the wrong score."})
    assert response.status_code == 302
    assert not SessionAmendment.objects.exists()
    with pytest.raises(SessionWriteRefused):
        session_amend(session=signed, author=therapist, reason="Fix", changes={"plan": "x"})


def test_the_admin_keeps_an_archived_clients_sessions_read_only_until_the_client_is_restored(owner, draft, maria):
    browser = browser_for(owner)
    client = draft.client
    client.archive()
    data = admin_data(client, draft.therapist, opened_version=draft.version, plan="Edited while archived.")
    assert browser.post(change_url(draft), data).status_code == 403
    refused = browser.post(ADD_URL, admin_data(client, draft.therapist))
    assert refused.status_code == 200
    assert "is archived: no new sessions can be logged for them" in refused.content.decode()
    assert TreatmentSession.objects.count() == 1
    restore = {"action": "unarchive_clients", "_selected_action": [client.pk], "archived": "all"}
    assert browser.post("/admin/clients/client/?archived=all", restore).status_code == 302
    assert maria.post(sign_url(draft)).status_code == 302
    assert TreatmentSession.objects.get(pk=draft.pk).status == SessionStatus.SIGNED


# --- 6. a bounded number of technique rows ----------------------------------------------------------------------

TOO_MANY = "A session holds at most 40 technique rows: remove the rows you do not need and save again."


def test_a_forged_row_count_is_refused_quickly_with_a_small_page(maria, client_a):
    data = session_data(("swedish", "neck", "light"))
    data["uses-TOTAL_FORMS"] = "2000"
    began = time.monotonic()
    response = maria.post(new_url(client_a), data)
    elapsed = time.monotonic() - began
    html = response.content.decode()
    assert response.status_code == 200
    assert TOO_MANY in html
    assert len(response.content) < 200_000
    assert elapsed < 5
    assert not TreatmentSession.objects.exists()
    # The page keeps the row that was typed and can be sent again.
    assert response.context["formset"].total_form_count() == 1
    again = maria.post(new_url(client_a), {**data, "uses-TOTAL_FORMS": "1"})
    assert again.status_code == 302


def test_more_rows_filled_in_than_a_session_holds_are_refused(maria, client_a):
    regions = ["head", "neck", "shoulder_left", "shoulder_right", "upper_back", "lower_back", "arm_left", "arm_right"]
    slugs = ["swedish", "reflexology", "reiki", "shiatsu", "trager", "light-acupressure"]
    rows = [(slug, region, "light") for slug in slugs for region in regions][:41]
    assert len(rows) == 41
    response = maria.post(new_url(client_a), session_data(*rows))
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_a_forged_row_count_on_the_edit_page_is_refused(maria, draft):
    data = session_data(("swedish", "upper_back", "light"), version=draft.version, initial_rows=1, plan="x")
    data["uses-TOTAL_FORMS"] = "2000"
    response = maria.post(edit_url(draft), data)
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert len(response.content) < 200_000
    assert TreatmentSession.objects.get(pk=draft.pk).version == draft.version


def test_the_admin_refuses_a_forged_row_count(owner, therapist, client_a):
    data = admin_data(client_a, therapist)
    data["technique_uses-TOTAL_FORMS"] = "2000"
    began = time.monotonic()
    response = browser_for(owner).post(ADD_URL, data)
    assert time.monotonic() - began < 5
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert not TreatmentSession.objects.exists()
