"""What keeps a large practice's admin fast: changelists whose queries do not grow with the rows.

Figures are measured by ``manage.py bench``, never asserted here; these tests pin what must not
grow with the data (queries per page) and what the fast paths must still get right. The bulk seed
and the benchmark itself are tested in ``tests/devtools/``.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, DiseasePhase
from practice import admin_mixins, audit
from practice.admin_mixins import EstimatedCountPaginator, RecentValuesFieldListFilter, cheap_list_filter
from practice.models import AuditEvent
from sessions.models import TreatmentSession
from tests.factories import make_client, make_phase, make_session


def local(*args) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


# Sessions in 2019, 2021 and 2022 (none in 2020), at the edges of days, months and years in local time.
SESSION_TIMES = [
    local(2019, 12, 31, 23, 30),
    local(2021, 3, 28, 0, 30),  # the night the clocks go forward
    local(2021, 6, 30, 23, 30),  # BST: 22:30 UTC, still June here
    local(2021, 7, 1, 0, 15),  # BST: 23:15 UTC on 30 June, July here
    local(2022, 1, 1, 0, 0),
]


@pytest.fixture
def practice(owner, therapist):
    """Clients with phases and sessions spread over the years; ``grow`` adds more of the same."""

    def grow(clients: int) -> None:
        for _ in range(clients):
            client = make_client(therapists=[therapist], last_name="Ashby")
            make_phase(client, started_on=dt.date(2019, 1, 1))
            for started_at in SESSION_TIMES:
                make_session(client, therapist, started_at=started_at, uses=[("swedish", "calf_left", "light")])
            audit.record(None, audit.READ, obj=client, actor=therapist)

    grow(2)
    return grow


def changelist(model, query: str = "") -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{query}" if query else url


def queries_for(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured), response.content.decode()


# (model, query, queries): the sign-in session, the owner and their permissions (4 queries), the capped
# count, the page's rows and their related rows, and for a date field the drill-down: its first and last
# date, then one query probing every year (month, day) between them. The sessions list also reads its
# therapists (the therapist filter) and the page's amendments (corrected values are shown): 2 more. A name
# search first finds the matching people, one query per kind (clients, therapists), then filters by their ids.
CHANGELISTS = [
    (TreatmentSession, "", 11),
    (TreatmentSession, "status__exact=draft", 11),
    (TreatmentSession, "setting__exact=clinic", 11),
    (TreatmentSession, "q=ashby", 13),
    (TreatmentSession, "started_at__year=2021", 11),
    (TreatmentSession, "started_at__year=2021&started_at__month=6", 11),
    (TreatmentSession, "started_at__year=2021&started_at__month=6&started_at__day=30", 9),
    (Client, "", 9),
    (Client, "ms_type__exact=unknown", 9),
    (Client, "current_phase=remission", 9),
    (Client, "archived=all", 9),
    (Client, "q=ashby", 9),
    (DiseasePhase, "", 9),
    (DiseasePhase, "phase__exact=remission", 9),
    (DiseasePhase, "q=ashby", 10),
    (AuditEvent, "", 10),
    (AuditEvent, "action__exact=read", 10),
    (AuditEvent, "object_type=client", 10),
    (AuditEvent, "q=maria", 10),
]


@pytest.mark.django_db
class TestAdminChangelists:
    @pytest.mark.parametrize(("model", "query", "expected"), CHANGELISTS)
    def test_queries_are_pinned_and_do_not_grow_with_the_rows(self, client, owner, practice, model, query, expected):
        client.force_login(owner)
        url = changelist(model, query)
        small, _html = queries_for(client, url)
        practice(6)
        large, html = queries_for(client, url)
        assert (small, large) == (expected, expected), url
        assert "Ashby" in html or model is AuditEvent

    def test_a_result_beyond_the_exact_count_costs_one_query_more_not_a_full_count(
        self, client, owner, practice, monkeypatch
    ):
        client.force_login(owner)
        url = changelist(TreatmentSession)
        monkeypatch.setattr(EstimatedCountPaginator, "exact_limit", 3)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert len(captured) == 12
        counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper() or "EXPLAIN" in q["sql"]]
        assert "LIMIT 4" in counts[0]  # reads at most the limit + 1 rows
        if connection.vendor == "postgresql":
            assert counts[1].startswith("EXPLAIN")  # then asks the planner, reading no rows
        else:
            assert "LIMIT" not in counts[1]  # SQLite has no estimate: it counts

    def test_the_drill_down_lists_only_the_years_months_and_days_that_hold_sessions(self, client, owner, practice):
        client.force_login(owner)
        _n, years = queries_for(client, changelist(TreatmentSession))
        assert "started_at__year=2019" in years and "started_at__year=2021" in years
        assert "started_at__year=2020" not in years
        _n, months = queries_for(client, changelist(TreatmentSession, "started_at__year=2021"))
        assert {m for m in range(1, 13) if f"started_at__month={m}&" in months} == {3, 6, 7}
        _n, days = queries_for(client, changelist(TreatmentSession, "started_at__year=2021&started_at__month=6"))
        assert "started_at__day=30" in days and "started_at__day=1&" not in days

    def test_the_by_value_filter_lists_the_values_of_the_newest_rows(self, client, owner, practice, monkeypatch):
        monkeypatch.setattr(admin_mixins, "RECENT_ROWS", 2)
        audit.record(None, audit.EXPORT, object_type="trends_csv", client_id=1, actor=owner)
        audit.record(None, audit.LOGIN, actor=owner)
        audit.record(None, audit.LOGIN, actor=owner)
        client.force_login(owner)
        _n, html = queries_for(client, changelist(AuditEvent))
        assert "object_type=trends_csv" not in html  # only in an older row
        _n, html = queries_for(client, changelist(AuditEvent, "object_type=trends_csv"))
        assert "1 audit event" in html  # still reachable from the address


class TestCheapListFilter:
    @pytest.mark.parametrize(
        ("spec", "cheap"),
        [
            ("email", True),  # a plain text column: Django would DISTINCT the whole table
            ("ms_type", False),  # choices: listed from the field, no query
            ("heat_sensitive", False),
            ("archived_at", False),
            ("therapists", False),
            ("user__username", False),
        ],
    )
    def test_only_plain_value_filters_are_replaced(self, spec, cheap):
        result = cheap_list_filter(Client, spec)
        assert result == ((spec, RecentValuesFieldListFilter) if cheap else spec)

    def test_filter_classes_and_tuples_are_left_alone(self):
        spec = ("email", RecentValuesFieldListFilter)
        assert cheap_list_filter(Client, spec) is spec


@pytest.mark.django_db
class TestDateDrillDownQuerySet:
    @pytest.fixture
    def sessions(self, practice):
        return admin_mixins.with_cheap_date_drill_down(TreatmentSession.objects.all())

    @pytest.mark.parametrize(
        ("kind", "where"),
        [
            ("year", {}),
            ("month", {"started_at__year": 2021}),
            ("day", {"started_at__year": 2021, "started_at__month": 6}),
            ("day", {"started_at__year": 2021, "started_at__month": 3}),
        ],
    )
    def test_gives_what_django_gives(self, sessions, kind, where):
        expected = list(TreatmentSession.objects.filter(**where).datetimes("started_at", kind))
        assert list(sessions.filter(**where).datetimes("started_at", kind)) == expected

    def test_dates_of_a_date_field_match_django_too(self, practice):
        phases = admin_mixins.with_cheap_date_drill_down(DiseasePhase.objects.all())
        make_phase(make_client(), started_on=dt.date(2016, 5, 2), ended_on=dt.date(2016, 6, 1))
        for kind in ("year", "month", "day"):
            assert list(phases.dates("started_on", kind)) == list(DiseasePhase.objects.dates("started_on", kind))

    def test_costs_two_queries_however_many_years(self, sessions, therapist, django_assert_num_queries):
        make_session(make_client(), therapist, started_at=local(2009, 5, 1, 10))
        with django_assert_num_queries(2):
            years = [d.year for d in sessions.datetimes("started_at", "year")]
        assert years == [2009, 2019, 2021, 2022]

    def test_keeps_the_models_own_queryset_methods(self, sessions):
        assert sessions.drafts().filter(started_at__year=2021).count() == 6
        assert type(sessions.drafts()) is type(sessions)


@pytest.mark.django_db
class TestClientFiltersById:
    """The client list's phase and therapist filters select clients by id, and select the right ones."""

    @pytest.fixture
    def clients(self, therapist, other_therapist):
        flare = make_client(therapists=[therapist], last_name="Flare")
        make_phase(flare, phase="remission", started_on=dt.date(2024, 1, 1), ended_on=dt.date(2025, 1, 1))
        make_phase(flare, phase="acute_flare", started_on=dt.date(2025, 1, 1))
        past_only = make_client(therapists=[other_therapist], last_name="Pastonly")
        make_phase(past_only, phase="acute_flare", started_on=dt.date(2024, 1, 1), ended_on=dt.date(2024, 2, 1))
        never = make_client(therapists=[therapist, other_therapist], last_name="Never")
        return flare, past_only, never

    def names(self, client, query: str) -> set[str]:
        _n, html = queries_for(client, changelist(Client, query))
        return {name for name in ("Flare", "Pastonly", "Never") if name in html}

    def test_current_phase_and_none(self, client, owner, clients):
        client.force_login(owner)
        assert self.names(client, "current_phase=acute_flare") == {"Flare"}
        assert self.names(client, "current_phase=remission") == set()
        assert self.names(client, "current_phase=none") == {"Pastonly", "Never"}

    def test_therapist(self, client, owner, therapist, other_therapist, clients):
        client.force_login(owner)
        assert self.names(client, f"therapist={therapist.pk}") == {"Flare", "Never"}
        assert self.names(client, f"therapist={other_therapist.pk}") == {"Pastonly", "Never"}
        assert self.names(client, "therapist=x") == set()
