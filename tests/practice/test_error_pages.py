"""Refused, missing and failed pages in the product's look, as Django serves them with DEBUG off."""

import pytest
from django.contrib.auth.models import User
from django.template import loader
from django.test import override_settings
from django.urls import path, reverse

from practice.urls import urlpatterns as practice_urlpatterns


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
