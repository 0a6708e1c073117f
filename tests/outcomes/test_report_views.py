"""The report page and its CSV files: owners only, audited, filters with bad values, columns, constant queries."""

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.http import QueryDict
from django.urls import reverse

from outcomes.forms import ReportFilterForm, default_filters
from outcomes.selectors import Filters
from practice.models import AuditAction, AuditEvent
from tests import factories
from tests.outcomes.helpers import four_courses, rebuild, visit, weekly

pytestmark = pytest.mark.django_db

URLS = [
    "outcomes:report",
    "outcomes:summary_csv",
    "outcomes:courses_csv",
    "outcomes:techniques_csv",
    "outcomes:therapists_csv",
]
ALL_TIME = "?start=&end=&treatments=4"
FIRST = dt.date(2025, 1, 6)


def rows(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def header(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def practice(client_a, client_b, therapist, other_therapist):
    """Client A: one course (pain 7 -> 4); client B: a course (pain 5 -> 6); plus a draft."""
    weekly(client_a, therapist, FIRST, 4, pain=(7, 5))
    visit(client_a, therapist, FIRST + dt.timedelta(days=28), pain=(4, 3), uses=[("swedish", "neck", "light")])
    weekly(client_b, other_therapist, FIRST, 4, pain=(5, 5))
    visit(client_b, other_therapist, FIRST + dt.timedelta(days=28), pain=(6, 6))
    visit(client_b, other_therapist, FIRST + dt.timedelta(days=40), signed=False)
    rebuild(client_a, client_b)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.mark.parametrize("name", URLS)
def test_only_owners_open_the_report(client, name, owner, therapist, client_a):
    url = reverse(name)
    assert client.get(url).status_code == 302  # anonymous: the admin's sign-in
    for person in (therapist, client_a.user):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # Staff who are not owners get what any owner-only admin page gives them.
    staff = factories.make_user("clerk", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:practice_auditevent_changelist")).status_code == 403
    client.force_login(owner)
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405


def test_the_page_shows_the_summary_chart_and_tables(owner_client, practice):
    response = owner_client.get(reverse("outcomes:report") + ALL_TIME)
    page = response.content.decode()
    assert "2 clients finished a course" in page
    assert "Pain was lower by 2 points or more for 1 (50%)" in page
    assert 'class="outcomes-chart"' in page and "pair-improved" in page and "pair-same" in page
    assert "Swedish" in page
    assert "Maria" in page and "James" in page  # the therapists' table
    assert 'href="/admin/"' in page  # the admin's breadcrumbs


def table_rows(page: str, heading_id: str) -> list[list[str]]:
    """The body rows of the first table after the heading ``heading_id``, each cell's text."""
    table = page.split(f'id="{heading_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_the_breakdown_tables_by_phase_and_by_ms_type(owner_client, therapist):
    four_courses(therapist)  # the table in tests/outcomes/helpers.py
    page = owner_client.get(reverse("outcomes:report") + ALL_TIME).content.decode()
    # Group, clients; pain: start -> follow-up, average change (95% range), better; the same for fatigue.
    # Flare: pain changes -3 and +2 (-0.5 +/- 31.77), fatigue 0 and -3 (-1.5 +/- 19.06); one course has no range.
    assert table_rows(page, "by-phase") == [
        ["Acute flare", "2", "6.0 → 5.5", "−0.5 (−32.3 to +31.3)", "1 (50%)",
                                "6.5 → 5.0", "−1.5 (−20.6 to +17.6)", "1 (50%)"],
        ["Remission", "1", "6.0 → 6.0", "+0.0 (—)", "0 (0%)", "8.0 → 5.0", "−3.0 (—)", "1 (100%)"],
        ["No phase recorded", "1", "5.0 → 2.0", "−3.0 (—)", "1 (100%)", "5.0 → 5.0", "+0.0 (—)", "0 (0%)"],
    ]  # fmt: skip
    assert [row[:2] for row in table_rows(page, "by-ms-type")] == [
        ["Relapsing-remitting (RRMS)", "2"],
        ["Secondary progressive (SPMS)", "1"],
        ["Primary progressive (PPMS)", "1"],
    ]
    # The share-improved bars: one per phase and measure, as wide as the share (240 for all).
    bars = re.findall(r'<rect class="bar bar-(\w+)" x="170" y="(\d+)" width="([\d.]+)"', page)
    assert bars == [
        ("pain", "10", "120.0"),
        ("fatigue", "34", "120.0"),
        ("pain", "68", "0.0"),
        ("fatigue", "92", "240.0"),
        ("pain", "126", "240.0"),
        ("fatigue", "150", "0.0"),
    ]


def test_the_report_works_without_javascript_and_prints_on_a4(owner_client, practice):
    page = owner_client.get(reverse("outcomes:report") + ALL_TIME).content.decode()
    content = page.split('<div id="content-main" class="outcomes">', 1)[1].split("<!-- END Content -->", 1)[0]
    # Everything the report says is in the HTML: a GET form with a button, tables and server-drawn SVG.
    assert "<script" not in content.lower()
    assert not re.search(r"<[^>]*\son[a-z]+=", content)  # nor an inline event handler
    assert '<form method="get" class="outcomes-filters"' in content and '<button type="submit"' in content
    assert content.count('<table class="outcomes-table">') >= 5
    assert content.count('<svg class="outcomes-chart"') == 2
    # Its stylesheet lays it out on A4 when printed, without the admin's header, filters and sidebar.
    assert 'href="/static/outcomes/outcomes.css"' in page
    path = finders.find("outcomes/outcomes.css")
    assert path is not None
    with open(path, encoding="utf-8") as css:
        print_rules = css.read().split("@media print", 1)[1]
    assert re.match(r"\s*\{\s*@page\s*\{[^}]*\bsize:\s*A4\b", print_rules)
    assert re.search(r"#header,[^{]*\.outcomes-filters,[^{]*\bnav\b[^{]*\{\s*display:\s*none", print_rules)


def test_reading_the_report_is_audited_without_health_data(owner_client, owner, practice):
    owner_client.get(reverse("outcomes:report") + "?start=2025-01-01&end=2025-12-31&ms_type=rrms&treatments=5")
    owner_client.get(reverse("outcomes:courses_csv") + ALL_TIME)
    events = list(AuditEvent.objects.filter(action=AuditAction.REPORT_READ).order_by("sequence"))
    assert [(e.object_type, e.object_id, e.actor_id) for e in events] == [
        ("outcomes_report", "2025-01-01..2025-12-31 n5 ms=rrms", owner.pk),
        ("outcomes_courses_csv", "*..* n4", owner.pk),
    ]
    assert all(e.client_id is None for e in events)


def test_summary_csv_columns_and_values(owner_client, practice):
    response = owner_client.get(reverse("outcomes:summary_csv") + ALL_TIME)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert header(response) == [
        "measure", "clients", "baseline_mean", "baseline_sd", "follow_up_mean", "follow_up_sd", "mean_change",
        "change_ci_low", "change_ci_high", "improved", "improved_share", "improved_ci_low", "improved_ci_high",
        "worsened", "worsened_share", "immediate_change",
    ]  # fmt: skip
    pain, fatigue = rows(response)
    assert (pain["measure"], fatigue["measure"]) == ("pain", "fatigue")
    # Pain: baselines 7 and 5, follow-ups 4 and 6: changes -3 and +1.
    assert pain["clients"] == "2"
    assert (pain["baseline_mean"], pain["follow_up_mean"], pain["mean_change"]) == ("6.0", "5.0", "-1.0")
    assert (pain["improved"], pain["improved_share"], pain["worsened"]) == ("1", "0.5", "0")
    # Immediate: A -2 per treatment, B 0: mean -1.
    assert pain["immediate_change"] == "-1.0"
    # SD of -3 and +1 is 2.8284; t(0.975, 1) = 12.7062: -1 +/- 12.7062 * 2.8284 / sqrt(2) = -1 +/- 25.4124.
    assert float(pain["change_ci_low"]) == pytest.approx(-26.4124, abs=0.001)


def test_courses_csv_has_one_row_per_course_with_ids_not_names(owner_client, practice, client_a, therapist):
    response = owner_client.get(reverse("outcomes:courses_csv") + ALL_TIME)
    assert header(response) == [
        "client_id", "therapist_id", "course_start", "follow_up_on", "phase_at_start", "ms_type", "pain_baseline",
        "pain_follow_up", "pain_change", "fatigue_baseline", "fatigue_follow_up", "fatigue_change",
        "immediate_pain_change", "immediate_fatigue_change",
    ]  # fmt: skip
    found = rows(response)
    assert len(found) == 2
    first = found[0]
    assert (first["client_id"], first["therapist_id"]) == (str(client_a.pk), str(therapist.pk))
    assert (first["course_start"], first["follow_up_on"]) == ("2025-01-06", "2025-02-03")
    assert (first["pain_baseline"], first["pain_follow_up"], first["pain_change"]) == ("7", "4", "-3")
    assert first["phase_at_start"] == ""  # A's remission began 90 days ago: no phase recorded back then
    assert b"Alice" not in response.content and b"Ashby" not in response.content


def test_techniques_and_therapists_csv(owner_client, practice, therapist, other_therapist):
    response = owner_client.get(reverse("outcomes:techniques_csv") + ALL_TIME)
    assert header(response)[:4] == ["technique_id", "phase", "sessions", "clients"]
    (swedish,) = rows(response)
    assert (swedish["sessions"], swedish["clients"], swedish["pain_change_mean"], swedish["few"]) == (
        "1",
        "1",
        "-1.0",
        "yes",
    )
    response = owner_client.get(reverse("outcomes:therapists_csv") + ALL_TIME)
    assert header(response) == ["therapist_id", "sessions", "overrides", "override_share", "overdue_drafts"]
    by_id = {row["therapist_id"]: row for row in rows(response)}
    assert by_id[str(therapist.pk)]["sessions"] == "5"
    assert (by_id[str(other_therapist.pk)]["sessions"], by_id[str(other_therapist.pk)]["overdue_drafts"]) == ("6", "1")
    assert b"Maria" not in response.content


def test_filters_narrow_the_courses(owner_client, practice, client_a, therapist):
    url = reverse("outcomes:courses_csv")
    assert len(rows(owner_client.get(url + ALL_TIME + f"&therapist={therapist.pk}"))) == 1
    assert len(rows(owner_client.get(url + ALL_TIME + "&phase=acute_flare"))) == 0
    assert len(rows(owner_client.get(url + ALL_TIME + f"&ms_type={client_a.ms_type}"))) >= 1
    assert len(rows(owner_client.get(url + ALL_TIME + "&treatments=5"))) == 0
    assert len(rows(owner_client.get(url + "?start=2025-01-07&end="))) == 0  # a course of 6 needs 7 visits
    # The default: the last 12 months, courses of 6.
    assert owner_client.get(url).status_code == 200


def test_the_therapist_filter_reaches_whoever_logged_a_first_visit(
    owner_client, owner, practice, therapist, other_therapist
):
    """A course begun by the owner or by a therapist who has since left is found by their id, and the dropdown
    shows them selected; today's therapists stay in the dropdown, other users do not."""
    former = factories.make_therapist("leftus")
    for person in (owner, former):
        course_client = factories.make_client(therapists=[therapist])
        weekly(course_client, person, FIRST, 5, pain=(6, 3))
        rebuild(course_client)
    former.groups.clear()
    bystander = factories.make_user("bystander")
    url = reverse("outcomes:report") + ALL_TIME
    for person in (owner, former):
        response = owner_client.get(url + f"&therapist={person.pk}")
        assert "therapist" not in response.context["form"].errors
        assert response.context["filters"].therapist == person.pk
        assert "1 client finished a course." in response.content.decode()
        choices = dict(response.context["form"].fields["therapist"].choices)
        assert set(choices) == {"", therapist.pk, other_therapist.pk, person.pk}
        assert f'<option value="{person.pk}" selected>' in response.content.decode()
    assert bystander.pk not in dict(owner_client.get(url).context["form"].fields["therapist"].choices)
    csv_rows = rows(owner_client.get(reverse("outcomes:courses_csv") + ALL_TIME + f"&therapist={former.pk}"))
    assert [row["therapist_id"] for row in csv_rows] == [str(former.pk)]
    # An id that is nobody's, or too long for any id, is refused with the field's message.
    for bad in ("999999", "9" * 30):
        response = owner_client.get(url + f"&therapist={bad}")
        assert response.context["form"].errors["therapist"]
        assert response.context["filters"].therapist is None


@pytest.mark.parametrize(
    "moment, start, end",
    [
        # 00:30 in London on 17 June (summer time) is still 16 June in UTC: the practice's date counts.
        (dt.datetime(2026, 6, 16, 23, 30, tzinfo=dt.UTC), dt.date(2025, 6, 18), dt.date(2026, 6, 17)),
        # A year before 29 February is 28 February (no 29th), so the 12 months begin on 1 March.
        (dt.datetime(2028, 2, 29, 12, tzinfo=dt.UTC), dt.date(2027, 3, 1), dt.date(2028, 2, 29)),
        (dt.datetime(2028, 3, 1, 12, tzinfo=dt.UTC), dt.date(2027, 3, 2), dt.date(2028, 3, 1)),
        (dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC), dt.date(2026, 1, 2), dt.date(2027, 1, 1)),
    ],
)
def test_the_default_range_is_the_last_12_months_to_today(moment, start, end):
    with time_machine.travel(moment, tick=False):
        form = ReportFilterForm(QueryDict(""))
        assert form.filters() == Filters(start=start, end=end, treatments=6)
        assert form.errors == {}
        assert default_filters(end) == form.filters()  # as the admin index's headline reads it


def test_a_start_after_the_end_falls_back_to_the_default_range_with_a_message(owner_client, practice):
    with time_machine.travel(dt.datetime(2026, 6, 17, 12, tzinfo=dt.UTC), tick=False):
        form = ReportFilterForm(QueryDict("start=2026-05-01&end=2026-04-01&treatments=5"))
        assert form.filters() == Filters(start=dt.date(2025, 6, 18), end=dt.date(2026, 6, 17), treatments=5)
        assert form.errors == {"end": ["The end date is before the start date; showing the last 12 months."]}
        page = owner_client.get(reverse("outcomes:report") + "?start=2026-05-01&end=2026-04-01")
    html = page.content.decode()
    assert 'id="id_end-error">The end date is before the start date; showing the last 12 months.</p>' in html
    assert "From 18 Jun 2025\n    to 17 Jun 2026;" in html


@pytest.mark.parametrize(
    "query, field",
    [
        ("start=yesterday", "start"),
        ("end=2025-02-30", "end"),
        ("start=2025-06-01&end=2025-01-01", "end"),
        ("treatments=3", "treatments"),
        ("treatments=13", "treatments"),
        ("treatments=six", "treatments"),
        ("ms_type=flu", "ms_type"),
        ("phase=sunny", "phase"),
        ("therapist=999999", "therapist"),
        ("therapist=abc", "therapist"),
        ("start=99999-01-01", "start"),
    ],
)
def test_bad_filter_values_get_a_message_and_the_default(owner_client, practice, query, field):
    response = owner_client.get(reverse("outcomes:report") + "?" + query)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'class="errornote"' in response.content.decode()
    filters = response.context["filters"]
    assert filters.treatments in range(4, 13)
    for name in URLS[1:]:
        assert owner_client.get(reverse(name) + "?" + query).status_code == 200


def test_the_report_costs_the_same_queries_whatever_the_data(
    owner_client, owner, django_assert_max_num_queries, therapist, practice
):
    url = reverse("outcomes:report") + ALL_TIME
    owner_client.get(url)  # warm the session and the user

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(url).status_code == 200
        return len(queries)

    small = count()
    for n in range(6):
        client = factories.make_client(therapists=[therapist])
        weekly(client, therapist, FIRST, 6 + n, pain=(7, 4))
        visit(client, therapist, FIRST + dt.timedelta(days=90), signed=False, uses=[("swedish", "neck", "light")])
        rebuild(client)
    assert count() == small
    with django_assert_max_num_queries(small):  # fewer where no course matches: no questionnaire to pair
        owner_client.get(reverse("outcomes:report") + "?ms_type=rrms&phase=remission&treatments=4&start=&end=")


@pytest.mark.parametrize("name", URLS[1:])
def test_each_csv_costs_constant_queries(owner_client, practice, name, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert owner_client.get(reverse(name) + ALL_TIME).status_code == 200


def test_formula_like_text_is_neutralised_in_csvs(owner_client, therapist):
    User.objects.filter(pk=therapist.pk).update(first_name="=cmd")
    response = owner_client.get(reverse("outcomes:therapists_csv") + ALL_TIME)
    assert b"=cmd" not in response.content  # ids only, never names
