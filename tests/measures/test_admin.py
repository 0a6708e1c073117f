"""The owner's admin of instruments and questionnaires: read-only, owners only, audited, index-served options."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from measures.admin import INSTRUMENTS_ARE_DATA, QuestionnaireResponseAdmin
from measures.models import QuestionnaireResponse
from measures.services import questionnaire_amend
from practice.models import AuditEvent
from tests import factories
from tests.measures.helpers import make_instrument, mfis5, submitted

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"admin:measures_{name}", args=args)


@pytest.fixture
def corrected(client_a, therapist):
    questionnaire = submitted(client_a, mfis5(), [3, 3, 3, 3, 3], by=client_a.user)
    questionnaire_amend(
        response=questionnaire, author=therapist, reason="Meant Rarely for question 2.", answers={"mfis5-2": 1}
    )
    return questionnaire


def link_id(n: int) -> str:
    return mfis5().items[n - 1]["link_id"]


def test_instruments_are_shown_read_only_and_say_why(client, owner):
    client.force_login(owner)
    listing = client.get(url("instrument_changelist")).content.decode()
    assert "MFIS-5" in listing and INSTRUMENTS_ARE_DATA in listing
    page = client.get(url("instrument_change", mfis5().pk))
    html = page.content.decode()
    assert page.status_code == 200 and INSTRUMENTS_ARE_DATA in html
    assert "I have been less alert." in html and 'name="_save"' not in html
    assert client.post(url("instrument_change", mfis5().pk), {"name": "Changed"}).status_code == 403
    assert client.get(url("instrument_add")).status_code == 403
    assert client.get(url("instrument_delete", mfis5().pk)).status_code == 403
    mfis5().refresh_from_db()
    assert mfis5().name.startswith("Modified Fatigue Impact Scale")


def test_a_questionnaire_shows_its_answers_and_its_amendments_read_only_and_is_audited(client, owner, corrected):
    client.force_login(owner)
    listing = client.get(url("questionnaireresponse_changelist")).content.decode()
    assert "Alice" in listing and "13 (corrected)" in listing
    page = client.get(url("questionnaireresponse_change", corrected.pk)).content.decode()
    assert "I have been less alert.: Often (3)" in page
    assert "Meant Rarely for question 2." in page and "question 2: 3 to 1" in page
    assert 'name="_save"' not in page and "amendments-TOTAL_FORMS" in page
    assert AuditEvent.objects.filter(action="read", object_id=str(corrected.pk), client_id=corrected.client_id).exists()
    assert client.post(url("questionnaireresponse_change", corrected.pk), {"score": "0"}).status_code == 403
    assert client.get(url("questionnaireresponse_delete", corrected.pk)).status_code == 403
    assert client.get(url("questionnaireresponse_add")).status_code == 403
    corrected.refresh_from_db()
    assert corrected.score == 15


def test_only_owners_open_it(client, therapist, client_a, corrected):
    for person in (therapist, client_a.user):
        client.force_login(person)
        response = client.get(url("questionnaireresponse_change", corrected.pk))
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_list_offers_no_sort_and_one_small_filter_and_costs_the_same_for_more_rows(
    client, owner, therapist, corrected
):
    admin_class = QuestionnaireResponseAdmin
    assert admin_class.sortable_by == () and admin_class.list_filter == ["instrument"]
    client.force_login(owner)
    changelist = url("questionnaireresponse_changelist")
    for query in ("", "?q=Alice", f"?instrument__id__exact={mfis5().pk}"):
        client.get(changelist + query)
        with CaptureQueriesContext(connection) as few:
            assert client.get(changelist + query).status_code == 200
        for _ in range(3):
            other = factories.make_client(therapists=[therapist], first_name="Alice")
            submitted(other, mfis5(), [1] * 5, by=therapist, days_ago=3)
        with CaptureQueriesContext(connection) as more:
            client.get(changelist + query)
        assert len(more) == len(few), query
    assert QuestionnaireResponse.objects.count() == 10


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index plans are PostgreSQL's")
def test_every_option_of_the_questionnaire_list_has_an_index_plan(client, owner):
    """As tests/practice/test_admin_index_plans.py does for the big tables, for the questionnaires' list: the demo
    practice's ten years of MFIS-5 every 4 weeks (thousands of rows), each list option's plan bounded."""
    import datetime as dt

    from django.contrib import admin
    from django.test.utils import override_settings

    from clients.models import Client
    from devtools import demo
    from devtools.admin_options import changelist_options
    from tests.practice.test_admin_index_plans import plan_problems, table_rows

    demo.build_demo(clients=40, years=10, today=dt.date(2026, 6, 1))
    make_instrument()  # a second instrument, so that the list offers its filter
    Client.objects.filter(pk__in=list(Client.objects.order_by("pk").values_list("pk", flat=True)[:20:2])).update(
        last_name="Ashby"
    )
    table = QuestionnaireResponse._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
    rows = table_rows()
    assert rows[table] >= 1_000
    model_admin = admin.site._registry[QuestionnaireResponse]
    url = reverse("admin:measures_questionnaireresponse_changelist")
    client.force_login(owner)
    problems = {}
    with override_settings(PRACTICE_REQUIRE_2FA=False):
        options = list(changelist_options(model_admin, owner, year=2021, search_term="ashby"))
        assert len(options) >= 3  # the plain list, a filter choice, the search
        for query in options:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(f"{url}?{query}").status_code == 200
            for executed in captured.captured_queries:
                sql = executed["sql"]
                if sql.lstrip().upper().startswith("SELECT") and f'"{table}"' in sql:
                    if found := plan_problems(sql, {table}, rows):
                        problems[query] = found
    assert problems == {}
