"""The trend functions on hand-built data; each expected number is worked out beside its test."""

import datetime as dt

import pytest
from django.utils import timezone

from clients.models import Phase, SelfReport
from sessions.services import session_amend
from sessions.trends.chart import chart_data
from sessions.trends.export import CSV_COLUMNS, csv_rows
from sessions.trends.queries import trend_report
from sessions.trends.ranges import DEFAULT_RANGE, preset_range, resolve_range
from sessions.trends.report import MEANINGFUL_CHANGE
from tests import factories

D = dt.date


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A time in the practice's time zone (Europe/London)."""
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


@pytest.fixture
def person(therapist):
    return factories.make_client(therapists=[therapist])


def add(person, therapist, when, pain=(5, 3), fatigue=(6, 4), uses=(), signed=True, **fields):
    return factories.make_session(
        person,
        therapist,
        started_at=when,
        pain_before=pain[0],
        pain_after=pain[1],
        fatigue_before=fatigue[0],
        fatigue_after=fatigue[1],
        uses=uses,
        signed=signed,
        **fields,
    )


YEAR_START, YEAR_END = D(2025, 1, 1), D(2025, 12, 31)


def report_for(person, start=YEAR_START, end=YEAR_END, **kwargs):
    return trend_report(person, start=start, end=end, **kwargs)


# --- baseline against recent


def test_baseline_is_first_three_sessions_and_recent_the_last_three(person, therapist):
    pains = [6, 7, 8, 5, 3, 2, 4]
    fatigues = [5, 5, 5, 5, 5, 6, 5]
    for week, (pain, fatigue) in enumerate(zip(pains, fatigues, strict=True)):
        add(person, therapist, at(2025, 3, 3) + dt.timedelta(weeks=week), pain=(pain, 2), fatigue=(fatigue, 2))

    comparison = report_for(person).comparison

    assert comparison.size == 3
    # Pain before: baseline (6+7+8)/3 = 7, recent (3+2+4)/3 = 3, change -4: less pain, and it matters.
    assert comparison.pain.baseline == pytest.approx(7)
    assert comparison.pain.recent == pytest.approx(3)
    assert comparison.pain.change == pytest.approx(-4)
    assert comparison.pain.meaningful and comparison.pain.improved and not comparison.pain.worsened
    # Fatigue before: baseline 5, recent (5+6+5)/3 = 5.33, change +0.33: under the threshold.
    assert comparison.fatigue.baseline == pytest.approx(5)
    assert comparison.fatigue.recent == pytest.approx(16 / 3)
    assert not comparison.fatigue.meaningful


def test_a_change_of_exactly_two_points_matters_and_one_and_two_thirds_does_not(person, therapist):
    # Pain before 4,4,4 then 2,2,2: change -2. Fatigue before 6,6,6 then 5,4,4: change -1.67.
    for week, (pain, fatigue) in enumerate([(4, 6), (4, 6), (4, 6), (2, 5), (2, 4), (2, 4)]):
        add(person, therapist, at(2025, 3, 3) + dt.timedelta(weeks=week), pain=(pain, pain), fatigue=(fatigue, fatigue))

    comparison = report_for(person).comparison

    assert MEANINGFUL_CHANGE == 2
    assert comparison.pain.change == pytest.approx(-2)
    assert comparison.pain.meaningful
    assert comparison.fatigue.change == pytest.approx(-5 / 3)
    assert not comparison.fatigue.meaningful


def test_a_rise_of_two_points_is_flagged_as_worse(person, therapist):
    for week, pain in enumerate([2, 2, 3, 5]):
        add(person, therapist, at(2025, 3, 3) + dt.timedelta(weeks=week), pain=(pain, pain))

    comparison = report_for(person).comparison

    # Four sessions: 2 against 2. Baseline (2+2)/2 = 2, recent (3+5)/2 = 4: +2.
    assert comparison.size == 2
    assert comparison.pain.change == pytest.approx(2)
    assert comparison.pain.worsened and not comparison.pain.improved


def test_baseline_and_recent_never_share_a_session_when_there_are_few(person, therapist):
    sessions = [add(person, therapist, at(2025, 3, 3) + dt.timedelta(weeks=week)) for week in range(5)]

    comparison = report_for(person).comparison

    # Five sessions: the first two against the last two; the middle one is in neither.
    assert comparison.size == 2
    assert comparison.baseline_sessions == (sessions[0].pk, sessions[1].pk)
    assert comparison.recent_sessions == (sessions[3].pk, sessions[4].pk)
    assert not comparison.is_full


# --- immediate change, overall and per phase


@pytest.fixture
def phased(person):
    """Remission in January, a flare 1-14 Feb, subacute 15 Feb-14 Mar, remission from 15 Mar."""
    factories.make_phase(person, Phase.REMISSION, D(2025, 1, 1), D(2025, 2, 1))
    factories.make_phase(person, Phase.ACUTE_FLARE, D(2025, 2, 1), D(2025, 2, 15))
    factories.make_phase(person, Phase.SUBACUTE, D(2025, 2, 15), D(2025, 3, 15))
    factories.make_phase(person, Phase.REMISSION, D(2025, 3, 15))
    return person


def test_mean_immediate_change_overall_and_per_phase(phased, therapist):
    add(phased, therapist, at(2025, 1, 10), pain=(6, 4), fatigue=(6, 5))  # remission: -2, -1
    add(phased, therapist, at(2025, 1, 20), pain=(5, 4), fatigue=(7, 4))  # remission: -1, -3
    add(phased, therapist, at(2025, 2, 5), pain=(7, 7), fatigue=(8, 7))  # flare: 0, -1
    add(phased, therapist, at(2025, 2, 20), pain=(6, 3), fatigue=(6, 6))  # subacute: -3, 0
    add(phased, therapist, at(2025, 3, 20), pain=(4, 4), fatigue=(5, 3))  # remission: 0, -2

    report = report_for(phased)

    # Overall: pain (-2-1+0-3+0)/5 = -1.2, fatigue (-1-3-1+0-2)/5 = -1.4.
    assert report.overall.count == 5
    assert report.overall.pain_mean == pytest.approx(-1.2)
    assert report.overall.fatigue_mean == pytest.approx(-1.4)
    by_phase = {row.key: row for row in report.by_phase}
    assert [row.key for row in report.by_phase] == ["acute_flare", "subacute", "remission"]
    assert (by_phase["acute_flare"].count, by_phase["acute_flare"].pain_mean) == (1, 0)
    assert by_phase["acute_flare"].fatigue_mean == pytest.approx(-1)
    assert (by_phase["subacute"].pain_mean, by_phase["subacute"].fatigue_mean) == (-3, 0)
    # Remission: pain (-2-1+0)/3 = -1, fatigue (-1-3-2)/3 = -2.
    assert by_phase["remission"].count == 3
    assert by_phase["remission"].pain_mean == pytest.approx(-1)
    assert by_phase["remission"].fatigue_mean == pytest.approx(-2)


def test_drafts_without_after_scores_count_as_sessions_but_not_in_the_means(person, therapist):
    add(person, therapist, at(2025, 1, 10), pain=(6, 4), fatigue=(6, 5))
    add(person, therapist, at(2025, 1, 17), pain=(6, None), fatigue=(6, None), signed=False)

    report = report_for(person)

    assert (report.overall.sessions, report.overall.count) == (2, 1)
    assert report.overall.pain_mean == -2
    assert report.sessions[1].pain_change is None and not report.sessions[1].signed


def test_phase_on_date_at_band_edges(phased, therapist):
    before_any = add(phased, therapist, at(2024, 12, 31))
    flare_first_day = add(phased, therapist, at(2025, 2, 1, 9))
    flare_last_day = add(phased, therapist, at(2025, 2, 14, 17))
    subacute_first_day = add(phased, therapist, at(2025, 2, 15, 9))

    report = report_for(phased, start=D(2024, 12, 1))
    phases = {point.id: point.phase for point in report.sessions}

    # Episodes are half-open: the remission ending on 1 Feb does not cover 1 Feb; the flare does.
    assert phases[before_any.pk] is None
    assert phases[flare_first_day.pk] == Phase.ACUTE_FLARE
    assert phases[flare_last_day.pk] == Phase.ACUTE_FLARE
    assert phases[subacute_first_day.pk] == Phase.SUBACUTE
    assert report.sessions[0].phase_label == "No phase recorded"
    assert report.by_phase[-1].label == "No phase recorded"


def test_phase_and_range_use_the_local_date_not_utc(person, therapist):
    # 00:30 on 1 June in London (summer time) is still 31 May in UTC.
    factories.make_phase(person, Phase.REMISSION, D(2025, 5, 1), D(2025, 6, 1))
    factories.make_phase(person, Phase.ACUTE_FLARE, D(2025, 6, 1), D(2025, 6, 20))
    just_after_midnight = add(person, therapist, at(2025, 6, 1, 0, 30))

    june = report_for(person, start=D(2025, 6, 1), end=D(2025, 6, 30))
    may = report_for(person, start=D(2025, 5, 1), end=D(2025, 5, 31))

    assert [p.id for p in june.sessions] == [just_after_midnight.pk]
    assert june.sessions[0].date == D(2025, 6, 1)
    assert june.sessions[0].phase == Phase.ACUTE_FLARE
    assert may.sessions == ()


def test_phase_bands_are_clipped_to_the_range_and_half_open(phased):
    report = report_for(phased, start=D(2025, 1, 15), end=D(2025, 3, 31))

    bands = [(b.phase, b.start, b.end, b.ongoing) for b in report.phase_bands]
    assert bands == [
        (Phase.REMISSION, D(2025, 1, 15), D(2025, 2, 1), False),
        (Phase.ACUTE_FLARE, D(2025, 2, 1), D(2025, 2, 15), False),
        (Phase.SUBACUTE, D(2025, 2, 15), D(2025, 3, 15), False),
        # The open remission is cut at the day after the range's last day.
        (Phase.REMISSION, D(2025, 3, 15), D(2025, 4, 1), True),
    ]
    # Half-open: the flare's last day, 14 Feb, is inside its band; the band's end, 15 Feb, is not.
    flare = report.phase_bands[1]
    assert flare.start <= D(2025, 2, 14) < flare.end
    assert not flare.start <= D(2025, 2, 15) < flare.end
    chart = chart_data(report)
    assert [band["phase"] for band in chart["bands"]] == [b[0] for b in bands]


def test_phases_outside_the_range_are_not_bands(phased):
    report = report_for(phased, start=D(2025, 2, 2), end=D(2025, 2, 10))

    assert [(b.phase, b.start, b.end) for b in report.phase_bands] == [
        (Phase.ACUTE_FLARE, D(2025, 2, 2), D(2025, 2, 11))
    ]


# --- per technique


def test_per_technique_means_count_each_session_once(person, therapist):
    add(
        person,
        therapist,
        at(2025, 4, 1),
        pain=(6, 4),
        fatigue=(5, 4),
        uses=[("swedish", "upper_back", "light"), ("reflexology", "foot_left", "light")],
    )  # pain -2, fatigue -1
    add(person, therapist, at(2025, 4, 8), pain=(5, 5), fatigue=(6, 4), uses=[("swedish", "neck", "light")])  # 0, -2
    add(
        person,
        therapist,
        at(2025, 4, 15),
        pain=(7, 4),
        fatigue=(5, 5),
        uses=[("reflexology", "foot_left", "light"), ("reflexology", "foot_right", "light")],
    )  # -3, 0 (reflexology on two regions is still one session)

    rows = {row.label: row for row in report_for(person).by_technique}

    assert set(rows) == {"Swedish massage", "Reflexology"}
    # Swedish: sessions 1 and 2, pain (-2+0)/2 = -1, fatigue (-1-2)/2 = -1.5.
    assert (rows["Swedish massage"].sessions, rows["Swedish massage"].count) == (2, 2)
    assert rows["Swedish massage"].pain_mean == pytest.approx(-1)
    assert rows["Swedish massage"].fatigue_mean == pytest.approx(-1.5)
    # Reflexology: sessions 1 and 3, pain (-2-3)/2 = -2.5, fatigue (-1+0)/2 = -0.5.
    assert rows["Reflexology"].sessions == 2
    assert rows["Reflexology"].pain_mean == pytest.approx(-2.5)
    assert rows["Reflexology"].fatigue_mean == pytest.approx(-0.5)
    assert rows["Reflexology"].few  # two sessions: flagged so no one reads too much into it
    assert report_for(person).sessions[2].techniques == ("Reflexology",)


def test_techniques_are_listed_most_used_first(person, therapist):
    add(person, therapist, at(2025, 4, 1), uses=[("shiatsu", "neck", "light")])
    add(person, therapist, at(2025, 4, 8), uses=[("swedish", "neck", "light"), ("shiatsu", "neck", "light")])

    assert [row.label for row in report_for(person).by_technique] == ["Shiatsu", "Swedish massage"]


# --- edges: empty, one session, two on one day


def test_empty_range_gives_an_empty_report_with_the_months_and_phases(phased, therapist):
    add(phased, therapist, at(2025, 6, 1))

    report = report_for(phased, start=D(2025, 1, 10), end=D(2025, 3, 5))

    assert report.is_empty and report.sessions == ()
    assert report.comparison is None
    assert (report.overall.count, report.overall.pain_mean, report.overall.fatigue_mean) == (0, None, None)
    assert report.by_phase == () and report.by_technique == () and report.rolling == ()
    assert [(m.month, m.sessions) for m in report.per_month] == [
        (D(2025, 1, 1), 0),
        (D(2025, 2, 1), 0),
        (D(2025, 3, 1), 0),
    ]
    assert len(report.phase_bands) == 3
    assert list(csv_rows(report)) == []
    assert chart_data(report)["sessions"] == []


def test_all_time_for_a_client_without_data_has_no_period(person):
    report = trend_report(person, start=None, end=None)

    assert report.is_empty
    assert (report.period_start, report.period_end) == (None, None)
    assert report.phase_bands == () and report.per_month == ()
    assert chart_data(report)["range"] == {"min": None, "max": None}


def test_all_time_spans_the_first_to_the_last_session(phased, therapist):
    add(phased, therapist, at(2025, 1, 20))
    add(phased, therapist, at(2025, 2, 20))

    report = trend_report(phased, start=None, end=None)

    assert (report.period_start, report.period_end) == (D(2025, 1, 20), D(2025, 2, 20))
    assert [b.phase for b in report.phase_bands] == [Phase.REMISSION, Phase.ACUTE_FLARE, Phase.SUBACUTE]
    assert [m.sessions for m in report.per_month] == [1, 1]


def test_a_client_with_one_session(person, therapist):
    add(person, therapist, at(2025, 5, 5), pain=(6, 3), fatigue=(7, 6), uses=[("swedish", "neck", "light")])

    report = report_for(person)

    assert report.session_count == 1
    assert report.comparison is None  # one session cannot be compared with itself
    assert report.rolling == ()
    assert (report.overall.count, report.overall.pain_mean, report.overall.fatigue_mean) == (1, -3, -1)
    assert [(row.label, row.sessions) for row in report.by_technique] == [("Swedish massage", 1)]
    assert sum(m.sessions for m in report.per_month) == 1
    assert len(report.per_month) == 12


def test_two_sessions_on_one_day_are_both_kept(person, therapist):
    morning = add(person, therapist, at(2025, 5, 5, 9), pain=(6, 4))
    afternoon = add(person, therapist, at(2025, 5, 5, 15), pain=(5, 2))

    report = report_for(person)
    chart = chart_data(report)

    assert [p.id for p in report.sessions] == [morning.pk, afternoon.pk]
    assert report.sessions[0].date == report.sessions[1].date == D(2025, 5, 5)
    xs = [point["x"] for point in chart["sessions"]]
    assert len(xs) == 2 and xs[1] - xs[0] == 6 * 3600 * 1000
    assert [row[CSV_COLUMNS.index("time")] for row in csv_rows(report)] == ["09:00", "15:00"]
    assert report.per_month[4].sessions == 2


def test_rolling_average_is_the_mean_of_the_last_four_before_scores(person, therapist):
    for week, (pain, fatigue) in enumerate([(2, 8), (4, 8), (6, 4), (8, 4), (10, 0)]):
        add(person, therapist, at(2025, 3, 3) + dt.timedelta(weeks=week), pain=(pain, pain), fatigue=(fatigue, fatigue))

    rolling = report_for(person).rolling

    # From the fourth session: pain (2+4+6+8)/4 = 5 then (4+6+8+10)/4 = 7; fatigue 24/4 = 6 then 16/4 = 4.
    assert [(p.pain, p.fatigue) for p in rolling] == [(5, 6), (7, 4)]


def test_sessions_per_month_counts_each_calendar_month(person, therapist):
    for when in [at(2025, 1, 31, 18), at(2025, 2, 1), at(2025, 2, 28), at(2025, 4, 2)]:
        add(person, therapist, when)

    report = report_for(person, start=D(2025, 1, 15), end=D(2025, 4, 10))

    assert [(m.month, m.sessions) for m in report.per_month] == [
        (D(2025, 1, 1), 1),
        (D(2025, 2, 1), 2),
        (D(2025, 3, 1), 0),
        (D(2025, 4, 1), 1),
    ]


# --- self-reports, signed only, amendments


def test_self_reports_in_range_are_their_own_series(phased, therapist):
    add(phased, therapist, at(2025, 1, 10))
    SelfReport.objects.create(client=phased, recorded_on=D(2025, 1, 13), pain=4, fatigue=7, note="Bad night")
    SelfReport.objects.create(client=phased, recorded_on=D(2025, 2, 3), pain=8, fatigue=8)
    SelfReport.objects.create(client=phased, recorded_on=D(2025, 4, 1), pain=1, fatigue=1)  # after the range
    other = factories.make_client()
    SelfReport.objects.create(client=other, recorded_on=D(2025, 1, 14), pain=9, fatigue=9)  # someone else's

    report = report_for(phased, end=D(2025, 3, 31))

    assert [(r.date, r.pain, r.fatigue, r.phase) for r in report.self_reports] == [
        (D(2025, 1, 13), 4, 7, Phase.REMISSION),
        (D(2025, 2, 3), 8, 8, Phase.ACUTE_FLARE),
    ]
    assert report.self_reports[0].note == "Bad night"
    # Self-reports do not enter the session summaries.
    assert report.overall.sessions == 1
    assert [(r["pain"], r["fatigue"]) for r in chart_data(report)["self_reports"]] == [(4, 7), (8, 8)]
    rows = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in csv_rows(report)]
    assert [row["kind"] for row in rows] == ["session", "self_report", "self_report"]
    assert rows[2]["date"] == "2025-02-03" and rows[2]["phase"] == "acute_flare"
    assert (rows[2]["reported_pain"], rows[2]["reported_fatigue"], rows[2]["pain_before"]) == (8, 8, "")


def test_self_reports_alone_make_a_period_for_all_time(person):
    SelfReport.objects.create(client=person, recorded_on=D(2025, 3, 5), pain=4, fatigue=4)

    report = trend_report(person, start=None, end=None)

    assert not report.is_empty and report.sessions == ()
    assert (report.period_start, report.period_end) == (D(2025, 3, 5), D(2025, 3, 5))


def test_signed_only_leaves_drafts_out(person, therapist):
    signed = add(person, therapist, at(2025, 5, 5))
    add(person, therapist, at(2025, 5, 12), pain=(9, None), fatigue=(9, None), signed=False)

    everything = report_for(person)
    for_the_client = report_for(person, signed_only=True)

    assert everything.session_count == 2
    assert [p.id for p in for_the_client.sessions] == [signed.pk]
    assert for_the_client.signed_only


def test_amended_scores_replace_the_signed_ones(person, therapist):
    session = add(person, therapist, at(2025, 5, 5), pain=(6, 5), fatigue=(6, 6))
    session_amend(session=session, author=therapist, reason="Misheard the score", changes={"pain_after": 2})
    session_amend(session=session, author=therapist, reason="Client corrected it", changes={"pain_after": 3})

    point = report_for(person).sessions[0]

    assert point.amended
    assert (point.pain_before, point.pain_after, point.pain_change) == (6, 3, -3)
    assert next(csv_rows(report_for(person)))[CSV_COLUMNS.index("amended")] == "yes"


def test_other_clients_sessions_are_not_included(person, therapist, client_b, other_therapist):
    add(person, therapist, at(2025, 5, 5))
    add(client_b, other_therapist, at(2025, 5, 6))

    assert report_for(person).session_count == 1


# --- queries


@pytest.mark.parametrize("count", [1, 30])
def test_a_report_costs_five_queries_whatever_the_number_of_sessions(
    phased, therapist, django_assert_num_queries, count
):
    for week in range(count):
        session = add(phased, therapist, at(2025, 1, 6) + dt.timedelta(weeks=week), uses=[("swedish", "neck", "light")])
        if week % 3 == 0:
            session_amend(session=session, author=therapist, reason="Correction", changes={"pain_after": 1})
        SelfReport.objects.create(
            client=phased, recorded_on=D(2025, 1, 8) + dt.timedelta(weeks=week), pain=3, fatigue=3
        )

    with django_assert_num_queries(5):
        report = report_for(phased)
        chart_data(report)
        list(csv_rows(report))

    assert report.session_count == count


# --- CSV rows and the range control


def test_csv_rows_follow_the_columns(phased, therapist):
    add(phased, therapist, at(2025, 2, 20, 14, 30), pain=(6, 3), fatigue=(5, 6), uses=[("swedish", "neck", "light")])

    (row,) = list(csv_rows(report_for(phased)))

    assert dict(zip(CSV_COLUMNS, row, strict=True)) == {
        "date": "2025-02-20",
        "phase": "subacute",
        "duration_minutes": 60,
        "setting": "clinic",
        "techniques": "Swedish massage",
        "pain_before": 6,
        "pain_after": 3,
        "pain_change": -3,
        "fatigue_before": 5,
        "fatigue_after": 6,
        "fatigue_change": 1,
        "time": "14:30",
        "status": "signed",
        "amended": "no",
        "kind": "session",
        "reported_pain": "",
        "reported_fatigue": "",
        "score": "",
    }


def test_preset_ranges_end_today():
    assert (preset_range("3m", D(2025, 5, 31)).start, preset_range("3m", D(2025, 5, 31)).end) == (
        D(2025, 2, 28),
        D(2025, 5, 31),
    )
    assert preset_range("1y", D(2024, 2, 29)).start == D(2023, 2, 28)
    assert (preset_range("all", D(2025, 5, 31)).start, preset_range("all", D(2025, 5, 31)).end) == (None, None)


def test_resolve_range_reads_a_custom_range():
    form, trend_range = resolve_range(
        {"range": "custom", "start": "2025-01-01", "end": "2025-03-31"}, today=D(2025, 6, 1)
    )

    assert form.is_valid()
    assert (trend_range.key, trend_range.start, trend_range.end) == ("custom", D(2025, 1, 1), D(2025, 3, 31))
    assert trend_range.as_query() == {"range": "custom", "start": "2025-01-01", "end": "2025-03-31"}
    assert trend_range.label == "1 Jan 2025 to 31 Mar 2025"
    _form, open_ended = resolve_range({"range": "custom", "start": "2025-01-01"}, today=D(2025, 6, 1))
    assert (open_ended.start, open_ended.end, open_ended.label) == (D(2025, 1, 1), None, "From 1 Jan 2025")


def test_resolve_range_falls_back_to_the_default_with_errors_on_the_fields():
    today = D(2025, 6, 1)
    backwards, fallback = resolve_range({"range": "custom", "start": "2025-03-01", "end": "2025-01-01"}, today=today)
    garbled, _ = resolve_range({"range": "custom", "start": "1 March", "end": ""}, today=today)
    empty, _ = resolve_range({"range": "custom"}, today=today)

    assert fallback == preset_range(DEFAULT_RANGE, today)
    assert backwards.errors["end"] == ["The end date must be on or after the start date."]
    assert "start" in garbled.errors
    assert "start" in empty.errors


def test_resolve_range_refuses_far_off_years():
    form, trend_range = resolve_range(
        {"range": "custom", "start": "0001-01-01", "end": "9999-12-31"}, today=D(2025, 6, 1)
    )

    assert form.errors == {
        "start": ["Choose a date between 1900 and 2200."],
        "end": ["Choose a date between 1900 and 2200."],
    }
    assert trend_range.key == DEFAULT_RANGE


def test_resolve_range_ignores_dates_beside_a_preset():
    form, trend_range = resolve_range({"range": "3m", "start": "garbage", "end": "2025-01-01"}, today=D(2025, 6, 1))

    assert not form.errors
    assert trend_range == preset_range("3m", D(2025, 6, 1))


def test_resolve_range_ignores_an_unknown_preset_and_defaults_quietly():
    form, trend_range = resolve_range({"range": "forever"}, today=D(2025, 6, 1))

    assert trend_range.key == DEFAULT_RANGE
    assert not form.errors
