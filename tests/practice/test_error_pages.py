"""Refused, missing and failed pages in the product's look, as Django serves them with DEBUG off."""

import re

import pytest
from django.contrib.auth.models import User
from django.template import loader
from django.test import Client, override_settings
from django.urls import path, reverse

from practice.models import FormAutosave
from practice.urls import urlpatterns as practice_urlpatterns
from sessions.models import TreatmentSession
from tests import factories
from tests.factories import PASSWORD
from tests.sessions.test_session_views import new_url, session_data


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *practice_urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_a_missing_page_is_the_products_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page is not here" in html
    assert "/static/css/practice.css" in html  # base.html's look
    assert 'href="/">Back to the start page' in html


def test_a_record_not_in_your_care_is_the_same_404(client, therapist, client_b):
    client.force_login(therapist)
    response = client.get(reverse("clients:detail", args=[client_b.pk]))
    assert response.status_code == 404
    assert "This page is not here" in response.content.decode()
    assert "Bexley" not in response.content.decode()


def test_a_refused_delete_is_the_products_403_saying_why(client, owner, therapist):
    client.force_login(owner)
    response = client.get(reverse("admin:auth_user_delete", args=[therapist.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "This is not something you can do here" in html
    assert "Nothing in the practice's records is deleted" in html
    assert User.objects.filter(pk=therapist.pk).exists()


def test_a_refused_page_is_the_products_403(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:practice_auditevent_add"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your account does not give access to this page" in html
    assert "Nothing in the practice's records is deleted" not in html


def test_a_server_error_is_the_products_500(client):
    client.raise_request_exception = False
    with override_settings(DEBUG=False):
        response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "/static/css/practice.css" in html


def test_the_500_page_renders_without_a_request():
    # Django's server_error view renders it with an empty context: no request, no context processors.
    html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html
    assert "Sign out" not in html


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _sign_in(browser: Client, username: str) -> None:
    """Sign in through the sign-in form, as a person does: it gives the browser a new CSRF token."""
    token = _token(browser.get(reverse("login")).content.decode())
    data = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert browser.post(reverse("login"), data).status_code == 302


def test_a_form_sent_from_a_page_older_than_the_last_sign_in_is_the_products_expired_page(therapist, client_a):
    browser = Client(enforce_csrf_checks=True)
    _sign_in(browser, therapist.username)
    form_page = browser.get(new_url(client_a)).content.decode()
    typed = session_data(("swedish", "neck", "light"), subjective="Calves tight after the stairs.")
    stale = _token(form_page)
    autosaved = browser.post(
        "/accounts/autosave/", {**typed, "autosave_path": new_url(client_a)}, HTTP_X_CSRFTOKEN=stale
    )
    assert autosaved.status_code == 200  # the page's script kept a copy as it was typed

    browser.post(reverse("logout"), {"csrfmiddlewaretoken": stale})  # as the idle sign-out would
    _sign_in(browser, therapist.username)  # signed in again, in another tab: a new token
    page = f"http://testserver{new_url(client_a)}"  # the browser says which page the form was on
    response = browser.post(new_url(client_a), {**typed, "csrfmiddlewaretoken": stale}, HTTP_REFERER=page)

    assert response.status_code == 403
    html = response.content.decode()
    assert "This page had expired" in html and "nothing was saved" in html
    assert "signed in again in another tab" in html
    assert "kept what you typed" in html
    assert f'href="{page}">Open the form again</a>' in html
    assert 'href="/">Back to the start page</a>' in html
    assert "/static/css/practice.css" in html  # base.html's look
    assert "CSRF verification failed" not in html  # not Django's bare page
    # Nothing the Content-Security-Policy blocks: no inline style or script.
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not TreatmentSession.objects.exists()

    # The link opens the form again, with what was typed.
    again = browser.get(new_url(client_a))
    assert "Calves tight after the stairs." in again.content.decode()
    assert FormAutosave.objects.filter(user=therapist).exists()


def test_an_expired_post_only_button_links_back_to_its_page_not_to_its_address(therapist, client_a):
    """Signing a note takes POST only: the way back is the session's page (the Referer), never a 405."""
    session = factories.make_session(client_a, therapist)
    browser = Client(enforce_csrf_checks=True)
    _sign_in(browser, therapist.username)
    page = f"http://testserver{reverse('sessions:detail', args=[session.pk])}"
    response = browser.post(
        reverse("sessions:sign", args=[session.pk]), {"csrfmiddlewaretoken": "stale" * 8}, HTTP_REFERER=page
    )

    assert response.status_code == 403
    html = response.content.decode()
    assert f'href="{page}">Open the form again</a>' in html
    assert browser.get(page).status_code == 200

    # From another site (or none): no link back to it, only to the start page.
    elsewhere = browser.post(
        reverse("sessions:sign", args=[session.pk]), {"csrfmiddlewaretoken": "x"}, HTTP_REFERER="https://evil.example/"
    ).content.decode()
    assert "evil.example" not in elsewhere and "Open the form again" not in elsewhere
    assert 'href="/">Back to the start page</a>' in elsewhere
