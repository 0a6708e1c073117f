"""Nothing typed is lost to an idle sign-out: "Stay signed in", the autosave of a form, and its restore."""

import datetime as dt
import time
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib import admin
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from practice.autosave import MAX_ROWS_PER_USER, AutosaveRefused, autosave_purge, autosave_store
from practice.middleware import SESSION_LAST_SEEN_KEY
from practice.models import AuditEvent, FormAutosave
from sessions.models import TreatmentSession
from tests import factories
from tests.factories import PASSWORD
from tests.sessions.test_session_views import edit_url, new_url, session_data, values_of

pytestmark = pytest.mark.django_db

KEEPALIVE = "/accounts/session/keep-alive/"
AUTOSAVE = "/accounts/autosave/"
LOGIN = "/accounts/login/"
NOTE = "Left calf cramping after the stairs; eased with gentle stretching."


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def sign_in(client: Client, username: str) -> None:
    response = client.post(LOGIN, {"username": username, "password": PASSWORD})
    assert response.status_code == 302, "sign-in failed"


def typed(client_a, **fields) -> dict:
    """What a therapist had typed in the new-session form: two technique rows and a note."""
    return session_data(
        ("swedish", "neck", "light"), ("reflexology", "foot_left", "moderate"), **{"subjective": NOTE, **fields}
    )


def autosave(client: Client, path: str, data: dict):
    return client.post(AUTOSAVE, {**data, "autosave_path": path})


# --- the endpoints --------------------------------------------------------------------------


def test_the_addresses_are_stable():
    assert reverse("session_keepalive") == KEEPALIVE
    assert reverse("form_autosave") == AUTOSAVE


@pytest.mark.parametrize("url", [KEEPALIVE, AUTOSAVE])
def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_kept(client, url):
    response = client.post(url, {"autosave_path": "/", "subjective": NOTE})
    assert response.status_code == 302 and response.url.startswith(LOGIN)
    assert not FormAutosave.objects.exists()


@pytest.mark.parametrize("url", [KEEPALIVE, AUTOSAVE])
def test_the_endpoints_take_posts_only(client, therapist, url):
    client.force_login(therapist)
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("url", [KEEPALIVE, AUTOSAVE])
def test_the_endpoints_need_the_csrf_token(therapist, client_a, url):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(therapist)
    response = browser.post(url, {"autosave_path": new_url(client_a), "subjective": NOTE})
    assert response.status_code == 403
    assert not FormAutosave.objects.exists()


def test_the_endpoints_accept_the_token_in_a_header_as_the_script_sends_it(therapist, client_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(therapist)
    token = browser.get(new_url(client_a)).context["csrf_token"]
    response = browser.post(
        AUTOSAVE, {"autosave_path": new_url(client_a), "subjective": NOTE}, headers={"X-CSRFToken": str(token)}
    )
    assert response.status_code == 200 and response.json()["kept"] is True


def test_stay_signed_in_restarts_the_idle_clock(client, therapist, clock):
    client.force_login(therapist)
    clock.shift(dt.timedelta(minutes=29, seconds=30))  # within the minute the middleware does not write
    response = client.post(KEEPALIVE)
    assert response.status_code == 200
    assert response.json()["idle_left"] == 30 * 60
    assert client.session[SESSION_LAST_SEEN_KEY] == pytest.approx(time.time())
    clock.shift(dt.timedelta(minutes=29))
    assert client.get("/clients/").status_code == 200


def test_stay_signed_in_never_passes_the_absolute_limit(client, therapist, clock, settings):
    settings.SESSION_COOKIE_AGE = 13 * 3600  # the middleware's own rule, not the cookie's
    client.force_login(therapist)
    for _ in range(12 * 3):  # "Stay signed in" every twenty minutes for twelve hours
        clock.shift(dt.timedelta(minutes=20))
        response = client.post(KEEPALIVE)
    assert response.json()["absolute_left"] == 0
    clock.shift(dt.timedelta(minutes=1))
    response = client.post(KEEPALIVE)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_an_idle_screen_still_signs_out(client, therapist, clock):
    client.force_login(therapist)
    clock.shift(dt.timedelta(minutes=31))
    response = client.post(KEEPALIVE)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_autosave_keeps_the_fields_of_the_signed_in_persons_own_form(client, therapist, client_a):
    client.force_login(therapist)
    response = autosave(client, new_url(client_a), {**typed(client_a), "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 200 and response.json()["kept"] is True
    saved = FormAutosave.objects.get()
    assert (saved.user, saved.path) == (therapist, new_url(client_a))
    assert saved.data["subjective"] == [NOTE]
    assert saved.data["uses-TOTAL_FORMS"] == ["2"]
    assert "csrfmiddlewaretoken" not in saved.data and "autosave_path" not in saved.data
    # Typed again: the one copy is replaced.
    autosave(client, new_url(client_a), typed(client_a, subjective="Changed my mind."))
    assert FormAutosave.objects.get().data["subjective"] == ["Changed my mind."]


def test_autosave_counts_as_activity(client, therapist, client_a, clock):
    client.force_login(therapist)
    clock.shift(dt.timedelta(minutes=25))
    autosave(client, new_url(client_a), typed(client_a))
    clock.shift(dt.timedelta(minutes=25))
    assert client.get("/clients/").status_code == 200


@pytest.mark.parametrize(
    "path", ["", "clients/", "//evil.example/x", "https://evil.example/", "/no/such/page/", "/" * 600]
)
def test_autosave_refuses_an_address_that_is_not_a_page_of_the_site(client, therapist, path):
    client.force_login(therapist)
    response = autosave(client, path, {"subjective": NOTE})
    assert response.status_code == 400
    assert "not one of this site's pages" in response.json()["error"]
    assert not FormAutosave.objects.exists()


def test_autosave_refuses_more_than_a_form_can_hold(client, therapist, client_a):
    client.force_login(therapist)
    response = autosave(client, new_url(client_a), typed(client_a, subjective="x" * 300_000))
    assert response.status_code == 413
    assert "too much text" in response.json()["error"]
    assert not FormAutosave.objects.exists()


def test_autosave_measures_what_it_keeps_too(therapist, client_a):
    data = QueryDict(mutable=True)
    data.setlist("subjective", ["é" * 140_000])  # under the byte cap as text, over it once encoded
    with pytest.raises(AutosaveRefused) as refusal:
        autosave_store(user=therapist, path=new_url(client_a), data=data)
    assert refusal.value.status == 413


def test_the_endpoints_record_nothing_in_the_audit_trail(client, therapist, client_a):
    client.force_login(therapist)
    before = AuditEvent.objects.count()
    autosave(client, new_url(client_a), typed(client_a))
    client.post(KEEPALIVE)
    assert AuditEvent.objects.count() == before


def test_autosaves_are_not_in_the_admin():
    assert FormAutosave not in admin.site._registry


def test_each_person_keeps_a_bounded_number_of_forms(client, therapist, owner):
    for n in range(MAX_ROWS_PER_USER + 5):
        FormAutosave.objects.create(
            user=therapist, path=f"/sessions/{n}/edit/", data={}, updated_at=timezone.now() - dt.timedelta(minutes=n)
        )
    FormAutosave.objects.create(user=owner, path="/sessions/1/edit/", data={})
    client.force_login(therapist)
    autosave(client, "/sessions/999/edit/", {"plan": "x"})
    kept = set(FormAutosave.objects.filter(user=therapist).values_list("path", flat=True))
    assert len(kept) == MAX_ROWS_PER_USER and "/sessions/999/edit/" in kept
    assert "/sessions/0/edit/" in kept and f"/sessions/{MAX_ROWS_PER_USER + 4}/edit/" not in kept
    assert FormAutosave.objects.filter(user=owner).exists()  # nobody else's copies are touched


def test_old_autosaves_are_purged(therapist, client_a, settings):
    age = dt.timedelta(seconds=settings.PRACTICE_FORM_AUTOSAVE_MAX_AGE)
    assert age > dt.timedelta(seconds=settings.PRACTICE_SESSION_ABSOLUTE_TIMEOUT)
    now = timezone.now()
    FormAutosave.objects.create(user=therapist, path="/old/", data={}, updated_at=now - age - dt.timedelta(minutes=1))
    FormAutosave.objects.create(
        user=therapist, path="/recent/", data={}, updated_at=now - age + dt.timedelta(minutes=1)
    )
    assert autosave_purge(now=now) == 1
    assert list(FormAutosave.objects.values_list("path", flat=True)) == ["/recent/"]


def test_storing_an_autosave_purges_everyones_old_ones(client, therapist, owner, client_a, settings):
    old = timezone.now() - dt.timedelta(seconds=settings.PRACTICE_FORM_AUTOSAVE_MAX_AGE + 60)
    FormAutosave.objects.create(user=owner, path="/clients/", data={}, updated_at=old)
    client.force_login(therapist)
    autosave(client, new_url(client_a), typed(client_a))
    assert list(FormAutosave.objects.values_list("user", flat=True)) == [therapist.pk]


# --- restored after signing in again ---------------------------------------------------------


def test_save_after_the_idle_limit_is_restored_after_signing_in_again(client, therapist, client_a, clock):
    sign_in(client, therapist.username)
    client.get(new_url(client_a))
    autosave(client, new_url(client_a), typed(client_a))
    clock.shift(dt.timedelta(minutes=31))
    # Save pressed after the idle limit: the post is lost to the sign-in page.
    response = client.post(new_url(client_a), typed(client_a))
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?{urlencode({'next': new_url(client_a)})}"
    assert not TreatmentSession.objects.exists()

    sign_in(client, therapist.username)
    response = client.get(new_url(client_a))
    page = response.content.decode()
    kept_at = timezone.localtime(FormAutosave.objects.get().updated_at)
    assert f"We kept what you typed at {kept_at:%H:%M}; check it and save." in page
    assert NOTE in page
    formset = response.context["formset"]
    assert formset.total_form_count() == 2
    assert [f["body_region"].value() for f in formset.forms] == ["neck", "foot_left"]
    assert response.context["form"]["room_temperature_c"].value() == "21"
    # Restored as typed, not as a form sent back with errors.
    assert not response.context["form"].errors and not formset.total_error_count()
    assert "is-invalid" not in page

    response = client.post(new_url(client_a), values_of(response))
    session = TreatmentSession.objects.get()
    assert response.status_code == 302 and response.url == reverse("sessions:detail", args=[session.pk])
    assert session.subjective == NOTE and session.technique_uses.count() == 2
    assert not FormAutosave.objects.exists()


def test_the_restore_happens_once_and_only_after_signing_in_again(client, therapist, client_a):
    sign_in(client, therapist.username)
    autosave(client, new_url(client_a), typed(client_a))
    # The same sign-in: the form opens as usual (another tab, a second form).
    assert NOTE not in client.get(new_url(client_a)).content.decode()
    client.post(reverse("logout"))
    sign_in(client, therapist.username)
    assert NOTE in client.get(new_url(client_a)).content.decode()
    assert NOTE not in client.get(new_url(client_a)).content.decode()


def test_the_edit_form_of_a_draft_is_restored_too(client, therapist, client_a):
    draft = factories.make_session(client_a, therapist, uses=[("swedish", "neck", "light")])
    sign_in(client, therapist.username)
    data = values_of(client.get(edit_url(draft)))
    data.update({"plan": "Add reflexology next week.", "uses-TOTAL_FORMS": "2"})
    data.update({"uses-1-technique": str(factories.technique("reflexology").pk), "uses-1-body_region": "foot_left"})
    autosave(client, edit_url(draft), data)
    client.post(reverse("logout"))
    sign_in(client, therapist.username)
    response = client.get(edit_url(draft))
    assert "We kept what you typed at" in response.content.decode()
    assert response.context["form"]["plan"].value() == "Add reflexology next week."
    assert response.context["formset"].total_form_count() == 2
    response = client.post(edit_url(draft), values_of(response))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.plan == "Add reflexology next week." and draft.technique_uses.count() == 2
    assert not FormAutosave.objects.exists()


def test_the_amend_form_of_a_signed_session_is_restored_too(client, therapist, client_a):
    signed = factories.make_session(client_a, therapist, signed=True, uses=[("swedish", "neck", "light")])
    amend = reverse("sessions:amend", args=[signed.pk])
    sign_in(client, therapist.username)
    page = client.get(amend)
    assert page.context["autosave_form"] == "session-form"  # the page's script keeps a copy as it is typed
    data = values_of(page)
    data.update({"pain_after": "4", "reason": "Pain after was 4, not 3: misheard.", "uses-TOTAL_FORMS": "2"})
    data.update({"uses-1-technique": str(factories.technique("reflexology").pk), "uses-1-body_region": "foot_left"})
    autosave(client, amend, data)
    client.post(reverse("logout"))
    sign_in(client, therapist.username)
    response = client.get(amend)
    assert "We kept what you typed at" in response.content.decode()
    form = response.context["form"]
    assert (form["pain_after"].value(), form["reason"].value()) == ("4", "Pain after was 4, not 3: misheard.")
    assert response.context["formset"].total_form_count() == 2
    assert not form.errors  # a half-typed form is shown as typed; its errors come with Save
    response = client.post(amend, values_of(response))
    assert response.status_code == 302
    (amendment,) = signed.amendments.all()
    assert amendment.changes["pain_after"]["to"] == 4 and len(amendment.changes["technique_uses"]["to"]) == 2
    assert not FormAutosave.objects.exists()
    assert "We kept what you typed" not in client.get(amend).content.decode()  # once only


def test_another_persons_autosave_is_never_restored_to_them(client, therapist, owner, client_a):
    sign_in(client, therapist.username)
    autosave(client, new_url(client_a), typed(client_a))
    other = Client()
    sign_in(other, owner.username)  # the owner may open any client's form
    response = other.get(new_url(client_a))
    assert response.status_code == 200
    assert NOTE not in response.content.decode() and "We kept what you typed" not in response.content.decode()
    # Nor can they overwrite it: their autosave is their own row.
    autosave(other, new_url(client_a), typed(client_a, subjective="Owner's text"))
    assert FormAutosave.objects.get(user=therapist).data["subjective"] == [NOTE]


def test_an_expired_autosave_is_not_restored(client, therapist, client_a, settings):
    sign_in(client, therapist.username)
    autosave(client, new_url(client_a), typed(client_a))
    old = timezone.now() - dt.timedelta(seconds=settings.PRACTICE_FORM_AUTOSAVE_MAX_AGE + 60)
    FormAutosave.objects.update(updated_at=old)
    client.post(reverse("logout"))
    sign_in(client, therapist.username)
    assert NOTE not in client.get(new_url(client_a)).content.decode()


def test_a_signed_in_page_carries_the_warning_and_the_clock(client, therapist, client_a, settings):
    client.force_login(therapist)
    page = client.get(new_url(client_a)).content.decode()
    assert 'role="alertdialog"' in page and "Stay signed in" in page
    assert f'data-idle-seconds="{settings.PRACTICE_SESSION_IDLE_TIMEOUT}"' in page
    assert 'data-autosave-form="session-form"' in page
    assert "js/session_clock.js" in page
    # Other pages warn, and keep alive while typing, but keep no copy.
    assert 'data-autosave-form=""' in client.get("/clients/").content.decode()


def test_signed_out_pages_carry_no_clock(client):
    assert "session-clock" not in client.get(LOGIN).content.decode()
