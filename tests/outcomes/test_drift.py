"""The stored visits never drift: after random signatures, amendments, back-dated sessions, phase changes and
questionnaires submitted and corrected, the report read from them equals the definitions computed from scratch
from the raw sessions and questionnaires."""

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.models import DiseasePhase, Phase, PhaseTimeline
from clients.services import phase_start
from measures.models import QuestionnaireResponse
from measures.services import questionnaire_amend
from outcomes.courses import VisitPoint, find_course
from outcomes.models import TechniqueWeek, TherapistWeek, Visit, VisitTechnique, week_of
from outcomes.questionnaires import pre_post_summary, report_courses
from outcomes.selectors import Filters, courses, signed_visits_by_therapist, techniques
from outcomes.storage import techniques_to_cells
from sessions import services
from sessions.models import (
    TECHNIQUE_USES,
    SessionAmendment,
    Technique,
    TechniqueUse,
    TreatmentSession,
    apply_amendments,
)
from sessions.safety import PlannedUse
from tests import factories
from tests.measures.helpers import mfis5, submitted
from tests.outcomes.helpers import on

pytestmark = pytest.mark.django_db

FIELDS = ("started_at", "therapist_id", "pain_before", "pain_after", "fatigue_before", "fatigue_after")
FIRST = dt.date(2024, 1, 1)
SLUGS = ("swedish", "reflexology", "light-acupressure")


def from_scratch(filters: Filters) -> list[tuple]:
    """Every client's course read literally from the definitions, from the sessions as stored."""
    amendments = defaultdict(list)
    for session_id, changes in SessionAmendment.objects.order_by("created_at", "pk").values_list(
        "session_id", "changes"
    ):
        amendments[session_id].append(changes)
    phases = defaultdict(list)
    for episode in DiseasePhase.objects.all():
        phases[episode.client_id].append(episode)
    visits = defaultdict(list)
    for row in TreatmentSession.objects.signed().values("id", "client_id", *FIELDS):
        values, _ = apply_amendments({name: row[name] for name in FIELDS}, amendments[row["id"]])
        day = timezone.localtime(values["started_at"]).date()
        episode = PhaseTimeline(phases[row["client_id"]]).phase_on(day)
        visits[row["client_id"]].append(
            VisitPoint(session_id=row["id"], day=day, phase=episode.phase if episode else "", **values)
        )
    ms_types = {c.pk: c.ms_type for c in factories.Client.objects.all()}
    result = []
    for client_id, points in sorted(visits.items()):
        course = find_course(client_id, points, filters.first_day, filters.last_day, filters.treatments)
        if course is None:
            continue
        if filters.phase and course.first.phase != filters.phase:
            continue
        if filters.ms_type and ms_types[client_id] != filters.ms_type:
            continue
        if filters.therapist is not None and course.first.therapist_id != filters.therapist:
            continue
        result.append(
            (
                client_id,
                course.first.therapist_id,
                course.first.day,
                course.follow_up.day,
                course.first.phase,
                course.first.pain_before,
                course.follow_up.pain_before,
                course.first.fatigue_before,
                course.follow_up.fatigue_before,
                pytest.approx(course.immediate_pain_change),
                pytest.approx(course.immediate_fatigue_change),
            )
        )
    return result


def stored(filters: Filters) -> list[tuple]:
    return [
        (
            c.client_id,
            c.therapist_id,
            c.course_start,
            c.follow_up_on,
            c.phase_at_start,
            c.pain_baseline,
            c.pain_follow_up,
            c.fatigue_baseline,
            c.fatigue_follow_up,
            c.immediate_pain_change,
            c.immediate_fatigue_change,
        )
        for c in courses(filters)
    ]


def techniques_from_scratch(filters: Filters) -> dict:
    """(technique id, phase) -> (sessions, clients, pain change sum) from the raw sessions."""
    courses_by_session = {}
    amendments = defaultdict(list)
    for session_id, changes in SessionAmendment.objects.order_by("created_at", "pk").values_list(
        "session_id", "changes"
    ):
        amendments[session_id].append(changes)
    phases = defaultdict(list)
    for episode in DiseasePhase.objects.all():
        phases[episode.client_id].append(episode)
    ms_types = {c.pk: c.ms_type for c in factories.Client.objects.all()}
    for row in TreatmentSession.objects.signed().values("id", "client_id", *FIELDS):
        values, _ = apply_amendments({name: row[name] for name in FIELDS}, amendments[row["id"]])
        day = timezone.localtime(values["started_at"]).date()
        if filters.ms_type and ms_types[row["client_id"]] != filters.ms_type:
            continue
        if filters.therapist is not None and values["therapist_id"] != filters.therapist:
            continue
        if filters.first_day <= day <= filters.last_day:
            episode = PhaseTimeline(phases[row["client_id"]]).phase_on(day)
            phase = episode.phase if episode else ""
            if not filters.phase or phase == filters.phase:
                courses_by_session[row["id"]] = (row["client_id"], phase, values)
    groups: dict = defaultdict(lambda: [0, set(), 0, 0])
    uses = set(TechniqueUse.objects.values_list("session_id", "technique_id"))
    # Corrected technique rows replace the signed ones (the latest correction wins).
    for session_id, changes in amendments.items():
        for change in changes:
            if TECHNIQUE_USES in change:
                uses = {use for use in uses if use[0] != session_id}
                uses |= {(session_id, int(row["technique"])) for row in change[TECHNIQUE_USES]["to"]}
    for session_id, technique_id in uses:
        if session_id in courses_by_session:
            client_id, phase, values = courses_by_session[session_id]
            group = groups[(technique_id, phase)]
            group[0] += 1
            group[1].add(client_id)
            group[2] += values["pain_after"] - values["pain_before"]
            group[3] += values["fatigue_after"] - values["fatigue_before"]
    return {key: (n, len(clients), pain, fatigue) for key, (n, clients, pain, fatigue) in groups.items()}


def stored_techniques(filters: Filters) -> dict:
    return {
        (r.technique_id, r.phase): (
            r.sessions,
            r.clients,
            round(r.pain_mean * r.sessions),
            round(r.fatigue_mean * r.sessions),
        )
        for r in techniques(filters)
    }


def signed_visits_from_scratch(filters: Filters) -> dict:
    """Signed sessions per therapist whose (corrected) date lies in the range."""
    amendments = defaultdict(list)
    for session_id, changes in SessionAmendment.objects.order_by("created_at", "pk").values_list(
        "session_id", "changes"
    ):
        amendments[session_id].append(changes)
    counts: dict = defaultdict(int)
    for row in TreatmentSession.objects.signed().values("id", *FIELDS):
        values, _ = apply_amendments({name: row[name] for name in FIELDS}, amendments[row["id"]])
        day = timezone.localtime(values["started_at"]).date()
        mine = filters.therapist is None or values["therapist_id"] == filters.therapist
        if mine and filters.first_day <= day <= filters.last_day:
            counts[values["therapist_id"]] += 1
    return dict(counts)


def stored_cells_match_rows() -> None:
    """The weekly cells, kept by adding differences, equal the cells summed afresh from the technique rows."""
    rows = VisitTechnique.objects.values_list(
        "day", "technique_id", "phase", "therapist_id", "ms_type", "pain_change", "fatigue_change"
    )
    expected = {key: sums for key, sums in techniques_to_cells(rows).items()}
    cells = {
        (c.week, c.technique_id, c.phase, c.therapist_id, c.ms_type): [
            c.sessions,
            c.pain_sum,
            c.pain_squares,
            c.fatigue_sum,
            c.fatigue_squares,
        ]
        for c in TechniqueWeek.objects.all()
    }
    assert cells == expected
    visits = Counter((week_of(day), therapist) for therapist, day in Visit.objects.values_list("therapist_id", "day"))
    assert {(c.week, c.therapist_id): c.sessions for c in TherapistWeek.objects.all()} == dict(visits)


def test_stored_report_equals_a_computation_from_scratch(therapist, other_therapist):
    rng = random.Random(14)
    clients = [
        factories.make_client(therapists=[therapist, other_therapist], ms_type=ms)
        for ms in ("rrms", "spms", "rrms", "ppms")
    ]
    signed: list[TreatmentSession] = []
    filter_sets = [
        Filters(start=None, end=None, treatments=4),
        Filters(start=None, end=None, treatments=6),
        Filters(start=FIRST + dt.timedelta(days=40), end=FIRST + dt.timedelta(days=200), treatments=4),
        Filters(start=FIRST + dt.timedelta(days=10), end=None, treatments=5, ms_type="rrms"),
        Filters(start=None, end=None, treatments=4, therapist=therapist.pk),
        Filters(start=None, end=None, treatments=4, phase=Phase.REMISSION),
        # Mid-week edges around whole weeks (Wednesday to Thursday), a Monday-to-Sunday range, a few days.
        Filters(start=dt.date(2024, 1, 17), end=dt.date(2024, 6, 13), treatments=4),
        Filters(start=dt.date(2024, 2, 5), end=dt.date(2024, 5, 26), treatments=4, therapist=therapist.pk),
        Filters(start=dt.date(2024, 3, 6), end=dt.date(2024, 3, 9), treatments=4, ms_type="spms"),
    ]
    catalogue = {t.slug: t for t in Technique.objects.filter(slug__in=SLUGS)}
    for step in range(200):
        client = rng.choice(clients)
        action = rng.random()
        if action < 0.6 or not signed:
            # A new session: usually after the last, sometimes back-dated among the others.
            day = FIRST + dt.timedelta(days=rng.randrange(0, 300))
            who = rng.choice([therapist, other_therapist])
            session = factories.make_session(
                client,
                who,
                started_at=on(day, rng.choice([8, 12, 17])),
                pain_before=rng.randrange(11),
                pain_after=rng.randrange(11),
                fatigue_before=rng.randrange(11),
                fatigue_after=rng.randrange(11),
                uses=[(slug, "neck", "light") for slug in rng.sample(SLUGS, rng.randrange(0, 3))],
            )
            if rng.random() < 0.85:  # some stay drafts
                try:
                    signed.append(services.session_sign(session=session, user=who))
                except ValidationError:
                    pass  # refused (the service's rules): it stays a draft
        elif action < 0.75:
            # An MFIS-5 answered on a day among the sessions (any hour), or a submitted one corrected: both
            # change which questionnaire the stored visits pair with.
            instrument = mfis5()
            answered = list(QuestionnaireResponse.objects.filter(client=client))
            if answered and rng.random() < 0.3:
                response = rng.choice(answered)
                link_id = rng.choice(instrument.items)["link_id"]
                try:
                    questionnaire_amend(
                        response=response, author=therapist, reason="Read back", answers={link_id: rng.randrange(5)}
                    )
                except ValidationError:
                    pass  # the same answer as before: nothing to correct
            else:
                # Mostly up to 15 days before one of the client's sessions (in a window, or a day too early).
                theirs = [session for session in signed if session.client_id == client.pk]
                day = FIRST + dt.timedelta(days=rng.randrange(-20, 300))
                if theirs and rng.random() < 0.8:
                    day = timezone.localdate(rng.choice(theirs).started_at) - dt.timedelta(days=rng.randrange(16))
                values = [rng.randrange(5) for _ in instrument.items]
                submitted(client, instrument, values, by=therapist, at=on(day, rng.choice([7, 12, 23])))
            # At once: a later session would rebuild the client's visits and hide a pairing left behind.
            found = courses(filter_sets[0])
            assert report_courses(filter_sets[0]) == (found, pre_post_summary(found)), step
        elif action < 0.9:
            session = rng.choice(signed)
            field = rng.choice(["pain_before", "pain_after", "fatigue_before", "fatigue_after", "started_at", "uses"])
            changes: dict = {}
            uses = None
            if field == "started_at":  # a corrected date moves the visit (back or forward)
                changes[field] = session.started_at + dt.timedelta(days=rng.choice([-9, -4, 3, 6]), hours=1)
            elif field == "uses":  # corrected technique rows
                slugs = rng.sample(SLUGS, rng.randrange(0, 3))
                uses = [PlannedUse(catalogue[slug], "neck", "light") for slug in slugs]
            else:
                changes[field] = rng.randrange(11)
            try:
                services.session_amend(
                    session=session, author=therapist, reason="Correction", changes=changes, uses=uses
                )
            except ValidationError:
                pass  # refused (a safety stop on the corrected session, say): nothing saved
        elif action < 0.93:
            # A client's MS type changes: their technique rows move to other weekly cells.
            client.ms_type = rng.choice(["rrms", "spms", "ppms"])
            client.save()
        else:
            # A new phase (through the service, as the pages start one) re-labels the client's visits.
            start = FIRST + dt.timedelta(days=rng.randrange(0, 300))
            try:
                phase_start(client=client, phase=rng.choice(Phase.values), started_on=start, recorded_by=therapist)
            except ValidationError:
                pass  # overlapping or the same phase: refused, nothing saved
        if step % 20 == 19:
            for filters in filter_sets:
                assert stored(filters) == from_scratch(filters), (step, filters)
                assert stored_techniques(filters) == techniques_from_scratch(filters), (step, filters)
                assert signed_visits_by_therapist(filters) == signed_visits_from_scratch(filters), (step, filters)
                # The stored pairing (outcomes.storage) against nearest_questionnaires' probes of the raw rows.
                found = courses(filters)
                assert report_courses(filters) == (found, pre_post_summary(found)), (step, filters)
            stored_cells_match_rows()
    # The test is not vacuous: courses were found and amendments made.
    assert len(stored(filter_sets[0])) >= 3
    assert SessionAmendment.objects.count() > 10
    corrected_uses = SessionAmendment.objects.filter(changes__has_key=TECHNIQUE_USES).count()
    moved = SessionAmendment.objects.filter(changes__has_key="started_at").count()
    assert corrected_uses >= 2 and moved >= 2
    paired = pre_post_summary(courses(filter_sets[0]))
    assert paired.clients >= 1 and QuestionnaireResponse.objects.filter(amendments__isnull=False).exists()
