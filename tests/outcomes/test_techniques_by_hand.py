"""The techniques table worked by hand (issue 14), and same-moment sessions ordered as recorded.

Every expected number below is worked out in the comments from the scores the test writes, with t quantiles
from the published Student t table: t(0.975, 1) = 12.706205, t(0.975, 2) = 4.302653, t(0.975, 18) = 2.100922,
t(0.975, 19) = 2.093024. None is computed by the code under test.
"""

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from clients.models import Phase
from outcomes.models import Visit
from outcomes.selectors import Filters, TechniqueRow, courses, techniques
from tests import factories
from tests.outcomes.helpers import DAY0, on, rebuild, visit

pytestmark = pytest.mark.django_db

# 2024-01-01 is a Monday: with DAY0 (a Monday) inside, the table is read from whole weekly cells.
WIDE = dict(start=dt.date(2024, 1, 1), end=dt.date(2026, 1, 1))
SWEDISH = [("swedish", "neck", "light")]
DOCUMENTED_COLUMNS = [
    "technique_id",
    "phase",
    "sessions",
    "clients",
    "pain_change_mean",
    "pain_change_ci_low",
    "pain_change_ci_high",
    "fatigue_change_mean",
    "fatigue_change_ci_low",
    "fatigue_change_ci_high",
    "few",
]


def day(offset: int) -> dt.date:
    return DAY0 + dt.timedelta(days=offset)


def client_in(phase: str, therapist):
    """A client whose ``phase`` began a month before DAY0 and has not ended."""
    client = factories.make_client(therapists=[therapist])
    factories.make_phase(client, phase, started_on=day(-30))
    return client


def rows_of(filters: Filters, slug: str) -> dict[str, TechniqueRow]:
    """The technique's rows by phase."""
    technique = factories.technique(slug)
    return {row.phase: row for row in techniques(filters) if row.technique_id == technique.pk}


def test_a_technique_and_phase_row_by_hand(therapist):
    p, q = client_in(Phase.REMISSION, therapist), client_in(Phase.REMISSION, therapist)
    flare = client_in(Phase.ACUTE_FLARE, therapist)
    # In the range [Wed DAY0+2, Wed DAY0+16]: the week of DAY0+7 is a whole week (weekly cells), the days
    # DAY0+2..6 and DAY0+14..16 are its edges (stored rows). Pain and fatigue (before, after):
    visit(p, therapist, day(2), pain=(6, 4), fatigue=(7, 6), uses=SWEDISH)  # edge: pain -2, fatigue -1
    visit(p, therapist, day(7), pain=(5, 4), fatigue=(6, 5), uses=SWEDISH)  # whole week: pain -1, fatigue -1
    visit(q, therapist, day(14), pain=(7, 4), fatigue=(8, 4), uses=SWEDISH)  # edge: pain -3, fatigue -4
    # Outside the range, the day before it starts and the day after it ends:
    visit(p, therapist, day(1), pain=(9, 0), fatigue=(9, 0), uses=SWEDISH)
    visit(q, therapist, day(17), pain=(9, 0), fatigue=(9, 0), uses=SWEDISH)
    # A draft inside the range: not a session of the table.
    factories.make_session(p, therapist, started_at=on(day(9)), uses=SWEDISH)
    # The same technique for a client in a flare: a row of its own.
    visit(flare, therapist, day(8), pain=(5, 5), fatigue=(5, 3), uses=SWEDISH)
    rebuild(p, q, flare)

    found = rows_of(Filters(start=day(2), end=day(16), treatments=6), "swedish")
    assert set(found) == {Phase.REMISSION, Phase.ACUTE_FLARE}
    row = found[Phase.REMISSION]
    assert (row.sessions, row.clients, row.few) == (3, 2, True)
    # Pain changes -2, -1, -3: mean -2; deviations 0, +1, -1, squares sum 2, variance 2 / 2 = 1, SD 1.
    # Half-width 4.302653 * 1 / sqrt(3) = 4.302653 / 1.7320508 = 2.484138.
    assert row.pain_mean == pytest.approx(-2.0, rel=1e-4)
    assert (row.pain_ci.low, row.pain_ci.high) == pytest.approx((-4.484138, 0.484138), rel=1e-4)
    # Fatigue changes -1, -1, -4: mean -2; deviations +1, +1, -2, squares sum 6, variance 3, SD sqrt(3).
    # Half-width 4.302653 * sqrt(3) / sqrt(3) = 4.302653.
    assert row.fatigue_mean == pytest.approx(-2.0, rel=1e-4)
    assert (row.fatigue_ci.low, row.fatigue_ci.high) == pytest.approx((-6.302653, 2.302653), rel=1e-4)

    flare_row = found[Phase.ACUTE_FLARE]
    assert (flare_row.sessions, flare_row.clients, flare_row.pain_mean, flare_row.fatigue_mean) == (1, 1, 0, -2)
    assert (flare_row.pain_ci, flare_row.fatigue_ci) == (None, None)  # one session: no interval

    # All time: the two sessions outside the range join (5 sessions, still 2 clients); the draft never does.
    # Pain changes -2, -1, -3, -9, -9: mean -24 / 5 = -4.8.
    wide = rows_of(Filters(treatments=6, **WIDE), "swedish")[Phase.REMISSION]
    assert (wide.sessions, wide.clients) == (5, 2)
    assert wide.pain_mean == pytest.approx(-4.8, rel=1e-4)


@pytest.mark.parametrize(
    "period",
    [
        pytest.param(WIDE, id="whole-weeks"),
        # Monday to Thursday: no whole week, so the table reads the stored rows of those days.
        pytest.param(dict(start=DAY0, end=day(3)), id="edge-days"),
    ],
)
def test_a_technique_on_two_regions_of_one_session_counts_once(therapist, period):
    client = client_in(Phase.REMISSION, therapist)
    two_regions = [("swedish", "neck", "light"), ("swedish", "feet", "light")]
    visit(client, therapist, DAY0, pain=(6, 3), fatigue=(7, 7), uses=two_regions)  # pain -3, fatigue 0
    visit(client, therapist, day(3), pain=(6, 5), fatigue=(7, 5), uses=SWEDISH)  # pain -1, fatigue -2
    rebuild(client)
    (row,) = rows_of(Filters(treatments=6, **period), "swedish").values()
    # Counted once per session: 2 sessions (not 3), pain mean (-3 - 1) / 2 = -2 (not -7 / 3).
    assert (row.sessions, row.clients) == (2, 1)
    assert row.pain_mean == pytest.approx(-2.0, rel=1e-4)
    # Pain -3 and -1: SD sqrt(2); half-width 12.706205 * sqrt(2) / sqrt(2) = 12.706205.
    assert (row.pain_ci.low, row.pain_ci.high) == pytest.approx((-14.706205, 10.706205), rel=1e-4)
    # Fatigue 0 and -2: mean -1, SD sqrt(2), the same half-width.
    assert row.fatigue_mean == pytest.approx(-1.0, rel=1e-4)
    assert (row.fatigue_ci.low, row.fatigue_ci.high) == pytest.approx((-13.706205, 11.706205), rel=1e-4)


@pytest.fixture
def twenty_sessions(therapist):
    """One client in remission, a session a day for 20 days: Swedish massage in all 20, reflexology in the first 19.

    Pain (before, after): (6, 5) on even days (-1), (6, 3) on odd days (-3); fatigue (7, 6) always (-1).
    """
    client = client_in(Phase.REMISSION, therapist)
    for n in range(20):
        uses = [("swedish", "neck", "light")] + ([("reflexology", "feet", "light")] if n < 19 else [])
        visit(client, therapist, day(n), pain=(6, 5) if n % 2 == 0 else (6, 3), fatigue=(7, 6), uses=uses)
    rebuild(client)
    return client


def techniques_table(page: str) -> list[tuple[str, list[str]]]:
    """The techniques table's body rows: each row's class attribute and its cells' text."""
    table = page.split('id="techniques"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        (cls, [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)])
        for cls, row in re.findall(r'<tr(?: class="([^"]*)")?>(.*?)</tr>', table, re.S)
    ]


def documented_columns() -> list[str]:
    """The column names of the techniques.csv table in docs/outcomes-csv.md, in the order written."""
    text = (Path(settings.BASE_DIR) / "docs" / "outcomes-csv.md").read_text(encoding="utf-8")
    section = text.split("## `techniques.csv`", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return [name for cell in first_cells for name in re.findall(r"`([a-z_]+)`", cell)]


def test_nineteen_sessions_are_few_and_twenty_are_not(twenty_sessions):
    found = {row.technique_id: row for row in techniques(Filters(treatments=6, **WIDE))}
    swedish, reflexology = found[factories.technique("swedish").pk], found[factories.technique("reflexology").pk]
    assert (swedish.sessions, swedish.clients, swedish.few) == (20, 1, False)
    assert (reflexology.sessions, reflexology.clients, reflexology.few) == (19, 1, True)
    # Swedish: ten -1 and ten -3, mean -2, deviations +/-1: variance 20 / 19; half-width
    # 2.093024 * sqrt(20 / 19) / sqrt(20) = 2.093024 / sqrt(19) = 2.093024 / 4.358899 = 0.480173.
    assert swedish.pain_mean == pytest.approx(-2.0, rel=1e-4)
    assert (swedish.pain_ci.low, swedish.pain_ci.high) == pytest.approx((-2.480173, -1.519827), rel=1e-4)
    # Reflexology: days 0..18, ten -1 (even days) and nine -3: sum -37, mean -37 / 19 = -1.947368.
    # Deviations +18/19 (ten) and -20/19 (nine): squares sum (3240 + 3600) / 361 = 6840 / 361, variance
    # 380 / 361 = 20 / 19; half-width 2.100922 * sqrt(20 / 19) / sqrt(19) = 2.100922 * 4.472136 / 19 = 0.494506.
    assert reflexology.pain_mean == pytest.approx(-1.947368, rel=1e-4)
    assert (reflexology.pain_ci.low, reflexology.pain_ci.high) == pytest.approx((-2.441874, -1.452862), rel=1e-4)
    # Fatigue -1 every time: SD 0, the interval is the point.
    assert (reflexology.fatigue_mean, reflexology.fatigue_ci.low, reflexology.fatigue_ci.high) == (-1, -1, -1)


def test_the_few_mark_on_the_page_and_in_the_csv(twenty_sessions, owner, client):
    client.force_login(owner)
    query = "?start=2024-01-01&end=2026-01-01&treatments=6"
    page = client.get(reverse("outcomes:report") + query).content.decode()
    # Technique, phase, sessions, clients, pain change (95% range), fatigue change (95% range); by name.
    assert techniques_table(page) == [
        ("few", ["Reflexology", "Remission", "19 (few)", "1", "−1.9 (−2.4 to −1.5)", "−1.0 (−1.0 to −1.0)"]),
        ("", ["Swedish massage", "Remission", "20", "1", "−2.0 (−2.5 to −1.5)", "−1.0 (−1.0 to −1.0)"]),
    ]

    response = client.get(reverse("outcomes:techniques_csv") + query)
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    # The header exactly as docs/outcomes-csv.md documents it, column by column.
    assert documented_columns() == DOCUMENTED_COLUMNS
    assert lines[0] == DOCUMENTED_COLUMNS
    by_technique = {int(line[0]): dict(zip(lines[0], line, strict=True)) for line in lines[1:]}
    reflexology = by_technique[factories.technique("reflexology").pk]
    swedish = by_technique[factories.technique("swedish").pk]
    # Rounded to 4 places: the figures worked out in the test above.
    assert reflexology == {
        "technique_id": str(factories.technique("reflexology").pk),
        "phase": "remission",
        "sessions": "19",
        "clients": "1",
        "pain_change_mean": "-1.9474",
        "pain_change_ci_low": "-2.4419",
        "pain_change_ci_high": "-1.4529",
        "fatigue_change_mean": "-1.0",
        "fatigue_change_ci_low": "-1.0",
        "fatigue_change_ci_high": "-1.0",
        "few": "yes",
    }
    assert (swedish["sessions"], swedish["few"]) == ("20", "no")
    assert (swedish["pain_change_ci_low"], swedish["pain_change_ci_high"]) == ("-2.4802", "-1.5198")


def test_two_sessions_at_the_same_moment_are_two_visits_the_one_recorded_first_first(therapist):
    # Client X records pain 8 then pain 5 at 10:00 on DAY0; client Y the other way round. Both go on weekly.
    x, y = client_in(Phase.REMISSION, therapist), client_in(Phase.REMISSION, therapist)
    recorded = {}
    for client, first, second in ((x, 8, 5), (y, 5, 8)):
        recorded[client.pk] = [
            visit(client, therapist, DAY0, pain=(first, 4)),
            visit(client, therapist, DAY0, pain=(second, 4)),
            *(visit(client, therapist, day(7 * n), pain=(6, 4)) for n in (1, 2, 3)),
        ]
        assert recorded[client.pk][0].started_at == recorded[client.pk][1].started_at
    rebuild(x, y)

    for client in (x, y):
        # Both are visits, in the order they were recorded (by id): five visits in one run.
        stored = Visit.objects.filter(client=client).order_by("run", "ordinal")
        assert [(v.session_id, v.run, v.ordinal) for v in stored] == [
            (session.pk, 1, n) for n, session in enumerate(recorded[client.pk], start=1)
        ]
    # Five visits make a course of 4 treatments (the follow-up on day 21) only if both same-moment ones count.
    found = {c.client_id: c for c in courses(Filters(treatments=4, **WIDE))}
    assert {pk: (c.course_start, c.follow_up_on) for pk, c in found.items()} == {
        x.pk: (DAY0, day(21)),
        y.pk: (DAY0, day(21)),
    }
    # The baseline is the before-score of the one recorded first: 8 for X, 5 for Y; follow-up 6 for both.
    assert (found[x.pk].pain_baseline, found[x.pk].pain_change) == (8, -2)
    assert (found[y.pk].pain_baseline, found[y.pk].pain_change) == (5, 1)
