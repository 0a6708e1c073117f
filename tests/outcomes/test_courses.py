"""The report's definitions, worked by hand: runs, courses, baselines, follow-ups and changes."""

import datetime as dt

import pytest

from clients.models import Phase
from outcomes.chart import Bar, bars_height, improved_bars
from outcomes.selectors import Filters, by_ms_type, by_phase, courses, summarise, techniques, therapists
from sessions import services
from sessions.models import OVERRIDE_REASON, SessionAmendment
from sessions.safety import PlannedUse
from tests import factories
from tests.outcomes.helpers import DAY0, four_courses, on, rebuild, visit, weekly

pytestmark = pytest.mark.django_db

WIDE = dict(start=dt.date(2024, 1, 1), end=dt.date(2026, 1, 1))


def days(*offsets: int) -> list[dt.date]:
    return [DAY0 + dt.timedelta(days=n) for n in offsets]


def only_course(treatments=4, **kwargs):
    found = courses(Filters(treatments=treatments, **(WIDE | kwargs)))
    assert len(found) <= 1
    return found[0] if found else None


def test_a_gap_of_exactly_14_days_continues_the_run(client_a, therapist):
    for day in days(0, 7, 14, 28, 35):
        visit(client_a, therapist, day)
    rebuild(client_a)
    course = only_course()
    assert (course.course_start, course.follow_up_on) == (DAY0, DAY0 + dt.timedelta(days=35))


def test_a_gap_of_15_days_breaks_the_run_and_the_search_restarts_after_it(client_a, therapist):
    for day in days(0, 7, 14, 29, 36, 43, 50, 57):
        visit(client_a, therapist, day)
    rebuild(client_a)
    course = only_course()
    assert (course.course_start, course.follow_up_on) == (DAY0 + dt.timedelta(days=29), DAY0 + dt.timedelta(days=57))


def test_no_course_when_no_run_is_long_enough(client_a, therapist):
    for day in days(0, 7, 14, 29, 36, 43, 50):  # runs of 3 and 4 visits; a course of 4 needs 5
        visit(client_a, therapist, day)
    rebuild(client_a)
    assert only_course() is None
    assert only_course(treatments=3) is not None


def test_drafts_inside_a_run_are_ignored_not_gaps(client_a, therapist):
    visit(client_a, therapist, days(0)[0])
    visit(client_a, therapist, days(7)[0])
    visit(client_a, therapist, days(14)[0], signed=False)  # a draft: neither a visit nor a break
    for day in days(21, 28, 35):
        visit(client_a, therapist, day)
    rebuild(client_a)
    course = only_course()
    assert (course.course_start, course.follow_up_on) == (DAY0, DAY0 + dt.timedelta(days=35))


def test_baseline_follow_up_and_changes_by_hand(client_a, therapist):
    # Before/after per visit; visit 5 is the follow-up: its before-scores count, its own change does not.
    scores = [((7, 5), (8, 7)), ((6, 5), (7, 7)), ((6, 3), (6, 4)), ((5, 4), (6, 6)), ((4, 1), (5, 0))]
    for day, (pain, fatigue) in zip(days(0, 7, 14, 21, 28), scores, strict=True):
        visit(client_a, therapist, day, pain, fatigue)
    rebuild(client_a)
    course = only_course()
    assert (course.pain_baseline, course.pain_follow_up, course.pain_change) == (7, 4, -3)
    assert (course.fatigue_baseline, course.fatigue_follow_up, course.fatigue_change) == (8, 5, -3)
    # Pain changes over visits 1-4: -2, -1, -3, -1 -> -7/4; fatigue: -1, 0, -2, 0 -> -3/4.
    assert course.immediate_pain_change == -1.75
    assert course.immediate_fatigue_change == -0.75


def test_an_amended_baseline_is_the_baseline(client_a, therapist):
    sessions = weekly(client_a, therapist, DAY0, 5, pain=(6, 4))
    rebuild(client_a)
    assert only_course().pain_baseline == 6
    # Through the service: the signal rewrites the client's visits in the same transaction.
    services.session_amend(session=sessions[0], author=therapist, reason="Typo", changes={"pain_before": 9})
    course = only_course()
    assert (course.pain_baseline, course.pain_change) == (9, -3)
    # Immediate change of visit 1 is now 4 - 9 = -5; the others -2: (-5 - 2 - 2 - 2) / 4.
    assert course.immediate_pain_change == -2.75


def test_signing_through_the_service_updates_the_report(client_a, therapist):
    weekly(client_a, therapist, DAY0, 4)
    draft = visit(client_a, therapist, DAY0 + dt.timedelta(days=28), signed=False)
    rebuild(client_a)
    assert only_course() is None
    draft.pain_after, draft.fatigue_after = 3, 5
    draft.save()
    services.session_sign(session=draft, user=therapist)
    assert only_course().follow_up_on == DAY0 + dt.timedelta(days=28)


def test_a_run_ending_after_the_end_date_is_clipped(client_a, therapist):
    weekly(client_a, therapist, DAY0, 6)  # days 0..35
    rebuild(client_a)
    end = DAY0 + dt.timedelta(days=30)
    assert only_course(treatments=4, end=end).follow_up_on == DAY0 + dt.timedelta(days=28)
    assert only_course(treatments=5, end=end) is None
    assert only_course(treatments=5).follow_up_on == DAY0 + dt.timedelta(days=35)


def test_a_run_begun_before_the_start_date_counts_from_its_first_visit_inside(client_a, therapist):
    weekly(client_a, therapist, DAY0, 6)
    rebuild(client_a)
    course = only_course(start=DAY0 + dt.timedelta(days=1))
    assert (course.course_start, course.follow_up_on) == (DAY0 + dt.timedelta(days=7), DAY0 + dt.timedelta(days=35))
    assert only_course(start=DAY0 + dt.timedelta(days=8)) is None


def test_each_client_has_one_course_the_earliest(client_a, therapist):
    weekly(client_a, therapist, DAY0, 5)
    weekly(client_a, therapist, DAY0 + dt.timedelta(days=100), 5)
    rebuild(client_a)
    assert only_course().course_start == DAY0


def test_two_sessions_on_the_same_day_are_two_visits_in_time_order(client_a, therapist):
    visit(client_a, therapist, DAY0, pain=(5, 4), hour=15)
    visit(client_a, therapist, DAY0, pain=(8, 6), hour=9)  # earlier that day: visit 1
    for day in days(7, 14, 21):
        visit(client_a, therapist, day)
    rebuild(client_a)
    course = only_course()
    assert (course.course_start, course.follow_up_on) == (DAY0, DAY0 + dt.timedelta(days=21))
    assert course.pain_baseline == 8


def test_dates_are_the_practices_local_dates(client_a, therapist):
    # 00:30 in London in July is 23:30 UTC the day before: the course starts on the local date.
    first = dt.date(2025, 7, 1)
    for n in range(5):
        day = first + dt.timedelta(days=7 * n)
        factories.make_session(
            client_a,
            therapist,
            started_at=on(day, 0).replace(minute=30),
            signed=True,
            pain_before=5,
            fatigue_before=5,
        )
    rebuild(client_a)
    assert on(first, 0).astimezone(dt.UTC).date() == first - dt.timedelta(days=1)
    assert only_course().course_start == first


def test_filters_apply_to_each_clients_course_not_before_choosing_it(client_a, therapist, other_therapist):
    weekly(client_a, therapist, DAY0, 5)
    weekly(client_a, other_therapist, DAY0 + dt.timedelta(days=100), 5)
    rebuild(client_a)
    assert courses(Filters(treatments=4, therapist=other_therapist.pk, **WIDE)) == []
    assert len(courses(Filters(treatments=4, therapist=therapist.pk, **WIDE))) == 1
    assert len(courses(Filters(treatments=4, ms_type=client_a.ms_type, **WIDE))) == 1
    assert courses(Filters(treatments=4, ms_type="ppms" if client_a.ms_type != "ppms" else "cis", **WIDE)) == []


def test_phase_at_the_start_of_the_course(client_a, therapist):
    client = factories.make_client(therapists=[therapist], ms_type="rrms")
    factories.make_phase(
        client, Phase.ACUTE_FLARE, started_on=DAY0 - dt.timedelta(days=30), ended_on=DAY0 + dt.timedelta(days=1)
    )
    factories.make_phase(client, Phase.SUBACUTE, started_on=DAY0 + dt.timedelta(days=1))
    weekly(client, therapist, DAY0, 5)
    rebuild(client)
    assert [c.phase_at_start for c in courses(Filters(treatments=4, **WIDE))] == [Phase.ACUTE_FLARE]
    assert len(courses(Filters(treatments=4, phase=Phase.ACUTE_FLARE, **WIDE))) == 1
    assert courses(Filters(treatments=4, phase=Phase.SUBACUTE, **WIDE)) == []


def test_summary_by_hand(therapist):
    clients = [factories.make_client(therapists=[therapist]) for _ in range(3)]
    # Pain baselines 8, 6, 4 and follow-ups 5, 6, 6: changes -3, 0, +2.
    for client, (base, follow) in zip(clients, [(8, 5), (6, 6), (4, 6)], strict=True):
        weekly(client, therapist, DAY0, 4, pain=(base, base - 1))
        visit(client, therapist, DAY0 + dt.timedelta(days=28), pain=(follow, follow))
    rebuild(*clients)
    found = courses(Filters(treatments=4, **WIDE))
    pain = summarise("pain", found)
    assert pain.clients == 3
    assert pain.baseline_mean == 6 and pain.baseline_sd == pytest.approx(2.0)
    assert pain.follow_up_mean == pytest.approx(17 / 3)
    assert pain.mean_change == pytest.approx(-1 / 3)
    # Changes -3, 0, +2: squared deviations from -1/3 sum to 38/3; variance 19/3; t(0.975, 2) = 4.302653.
    half = 4.302653 * (19 / 3) ** 0.5 / 3**0.5
    assert (pain.change_ci.low, pain.change_ci.high) == pytest.approx((-1 / 3 - half, -1 / 3 + half), abs=1e-4)
    assert (pain.improved, pain.worsened) == (1, 1)
    assert pain.improved_share == pytest.approx(1 / 3)
    assert pain.immediate_change == -1
    fatigue = summarise("fatigue", found)
    # Fatigue 7 -> 7 for everyone: no change, a zero-width interval.
    assert (fatigue.mean_change, fatigue.improved, fatigue.worsened) == (0, 0, 0)
    assert (fatigue.change_ci.low, fatigue.change_ci.high) == (0, 0)


def _groups(groups) -> list[tuple]:
    return [
        (g.key, g.label, g.pain.clients, g.pain.mean_change, g.pain.improved, g.fatigue.mean_change, g.fatigue.improved)
        for g in groups
    ]


def test_breakdowns_by_phase_and_by_ms_type_by_hand(therapist):
    four_courses(therapist)  # the table in tests/outcomes/helpers.py
    found = courses(Filters(treatments=4, **WIDE))
    assert len(found) == 4
    # Phases in the order of the disease (flare, recovering, remission), "no phase" last; empty groups left out.
    assert _groups(by_phase(found)) == [
        # Pain -3 and +2: mean -0.5, one better; fatigue 0 and -3: mean -1.5, one better.
        ("acute_flare", "Acute flare", 2, -0.5, 1, -1.5, 1),
        ("remission", "Remission", 1, 0, 0, -3, 1),
        ("", "No phase recorded", 1, -3, 1, 0, 0),
    ]
    flare = by_phase(found)[0]
    assert (flare.pain.baseline_mean, flare.pain.follow_up_mean, flare.pain.worsened) == (6, 5.5, 1)
    # Changes -3 and +2: SD 3.5355; t(0.975, 1) = 12.7062: -0.5 +/- 12.7062 * 3.5355 / sqrt(2) = -0.5 +/- 31.7655.
    assert (flare.pain.change_ci.low, flare.pain.change_ci.high) == pytest.approx((-32.2655, 31.2655), abs=1e-3)
    # MS types in the catalogue's order (CIS, RRMS, SPMS, PPMS, unknown), each with its name.
    assert _groups(by_ms_type(found)) == [
        ("rrms", "Relapsing-remitting (RRMS)", 2, -1.5, 1, -1.5, 1),
        ("spms", "Secondary progressive (SPMS)", 1, 2, 0, -3, 1),
        ("ppms", "Primary progressive (PPMS)", 1, -3, 1, 0, 0),
    ]


def test_share_improved_by_phase_bars_by_hand(therapist):
    four_courses(therapist)
    bars = improved_bars(by_phase(courses(Filters(treatments=4, **WIDE))))
    # Two bars (pain, fatigue) per phase, 24 apart, 10 more between phases; 240 wide at 100%.
    assert bars == (
        Bar("Acute flare", "pain", 0.5, 120.0, 2, 10),
        Bar("Acute flare", "fatigue", 0.5, 120.0, 2, 34),
        Bar("Remission", "pain", 0.0, 0.0, 1, 68),
        Bar("Remission", "fatigue", 1.0, 240.0, 1, 92),
        Bar("No phase recorded", "pain", 1.0, 240.0, 1, 126),
        Bar("No phase recorded", "fatigue", 0.0, 0.0, 1, 150),
    )
    assert bars_height(bars) == 180
    assert improved_bars([]) == () and bars_height(()) == 0


def test_one_course_has_no_intervals(client_a, therapist):
    weekly(client_a, therapist, DAY0, 5)
    rebuild(client_a)
    pain = summarise("pain", courses(Filters(treatments=4, **WIDE)))
    assert pain.clients == 1
    assert (pain.change_ci, pain.improved_ci, pain.baseline_sd) == (None, None, None)


def test_no_course_summary_is_empty_not_an_error():
    pain = summarise("pain", [])
    assert (pain.clients, pain.mean_change, pain.improved_share, pain.change_ci) == (0, None, None, None)


def test_techniques_count_a_technique_once_per_session(client_a, therapist):
    uses = [("swedish", "neck", "light"), ("swedish", "feet", "light"), ("reflexology", "feet", "light")]
    visit(client_a, therapist, DAY0, pain=(6, 3), uses=uses)
    visit(client_a, therapist, DAY0 + dt.timedelta(days=3), pain=(6, 5), uses=uses[:1])
    rebuild(client_a)
    rows = {r.technique: r for r in techniques(Filters(treatments=6, **WIDE))}
    swedish = next(r for name, r in rows.items() if "wedish" in name)
    assert (swedish.sessions, swedish.clients, swedish.pain_mean) == (2, 1, -2)
    assert swedish.few
    reflexology = next(r for name, r in rows.items() if "eflexology" in name)
    assert (reflexology.sessions, reflexology.pain_mean, reflexology.pain_ci) == (1, -3, None)


def test_therapists_count_sessions_overrides_and_old_drafts(client_a, therapist):
    visit(client_a, therapist, DAY0)
    visit(client_a, therapist, DAY0 + dt.timedelta(days=1), signed=False)
    factories.make_session(
        client_a, therapist, started_at=on(DAY0 + dt.timedelta(days=2)), safety_override_reason="Cleared by GP"
    )
    rebuild(client_a)
    (row,) = therapists(Filters(treatments=6, **WIDE))
    assert (row.therapist_id, row.sessions, row.overrides, row.overdue_drafts) == (therapist.pk, 3, 1, 2)
    assert row.override_share == pytest.approx(1 / 3)


HOT_STONE_REASON = "Stones were lukewarm, the client asked for them; skin checked before and after."
OWN_REASON = "Cleared by her neurologist on the phone this morning."


def _hot_stone_correction(session, therapist, reason: str):
    """A correction that adds hot stone for a heat-sensitive client: a safety stop, saved over with ``reason``."""
    hot_stone = PlannedUse(factories.technique("hot-stone"), "lower_back", "light")
    return services.session_amend(
        session=session,
        author=therapist,
        reason="Forgot a row.",
        changes={},
        uses=[hot_stone],
        safety_override_reason=reason,
    )


def test_therapists_count_a_stop_a_correction_was_saved_over_once_per_session(client_a, therapist):
    assert client_a.heat_sensitive
    neck = [("swedish", "neck", "light")]
    corrected_over_stop = visit(client_a, therapist, DAY0, uses=neck)
    both = factories.make_session(
        client_a,
        therapist,
        started_at=on(DAY0 + dt.timedelta(days=1)),
        signed=True,
        uses=neck,
        safety_override_reason=OWN_REASON,
    )
    corrected_plainly = visit(client_a, therapist, DAY0 + dt.timedelta(days=2), uses=neck)
    visit(client_a, therapist, DAY0 + dt.timedelta(days=3))
    rebuild(client_a)
    (row,) = therapists(Filters(treatments=6, **WIDE))
    assert (row.sessions, row.overrides) == (4, 1)

    _hot_stone_correction(corrected_over_stop, therapist, HOT_STONE_REASON)
    also_corrected = _hot_stone_correction(both, therapist, HOT_STONE_REASON)
    assert also_corrected.changes[OVERRIDE_REASON] == {"from": OWN_REASON, "to": HOT_STONE_REASON}
    services.session_amend(session=corrected_plainly, author=therapist, reason="Typo", changes={"pain_after": 2})
    assert set(SessionAmendment.objects.values_list("session_id", flat=True)) == {
        corrected_over_stop.pk,
        both.pk,
        corrected_plainly.pk,
    }
    (row,) = therapists(Filters(treatments=6, **WIDE))
    # Four signed sessions; saved over a stop: the corrected one, and the one with a reason of its own and a
    # correction's (once); the plain correction records no override.
    assert (row.sessions, row.overrides) == (4, 2)
    assert row.override_share == pytest.approx(2 / 4)


def test_a_signed_session_is_placed_by_its_corrected_date_and_its_override_by_its_stored_date(client_a, therapist):
    session = factories.make_session(
        client_a,
        therapist,
        started_at=on(DAY0),
        signed=True,
        uses=[("swedish", "neck", "light")],
        safety_override_reason=OWN_REASON,
    )
    moved = on(DAY0 + dt.timedelta(days=40))
    services.session_amend(session=session, author=therapist, reason="Wrong month", changes={"started_at": moved})
    march = Filters(treatments=6, start=DAY0, end=DAY0 + dt.timedelta(days=30))
    april = Filters(treatments=6, start=DAY0 + dt.timedelta(days=31), end=DAY0 + dt.timedelta(days=60))
    # As docs/outcomes-csv.md says: the signed session counts on its corrected date, its override on the stored one.
    assert [(r.sessions, r.overrides) for r in therapists(march)] == [(0, 1)]
    assert [(r.sessions, r.overrides) for r in therapists(april)] == [(1, 0)]
