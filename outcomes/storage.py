"""Keeping the report's stored visits current: a client's rows are rewritten from their signed sessions.

``client_visits_rebuild`` runs inside the transaction that signed or amended a session (through
``sessions.signals.signed_sessions_changed``) or saved a phase, so the report never sees a half-done
change. Rewriting one client's rows is cheap (a few hundred sessions at most) and leaves nothing to
drift: the rows are always exactly what the client's sessions say now. ``visits_rebuild_all`` rebuilds
every client's, a batch of clients at a time (after bulk loads, which bypass the services).
"""

import bisect
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from clients.models import Client, DiseasePhase, PhaseTimeline
from measures.models import QuestionnaireResponse, ResponseStatus
from measures.schedule import PAIRING_DAYS
from outcomes.courses import VisitPoint, in_order, number_runs
from outcomes.models import (
    REPORTED_INSTRUMENT,
    TechniqueClient,
    TechniqueWeek,
    TherapistWeek,
    Visit,
    VisitTechnique,
    week_of,
)
from practice.dates import local_midnight
from sessions.models import (
    TECHNIQUE_USES,
    SessionAmendment,
    SessionStatus,
    TechniqueUse,
    TreatmentSession,
    apply_amendments,
)

# The session's values the report reads; an amendment to any of them (the date too, where amendable) counts.
_FIELDS = ("started_at", "therapist_id", "pain_before", "pain_after", "fatigue_before", "fatigue_after")
_BATCH_CLIENTS = 200
_INSERT_BATCH = 5000


def client_visits_rebuild(client_id: int) -> None:
    """Rewrite one client's visits from their signed sessions as they stand now."""
    with transaction.atomic():
        _lock_client(client_id)
        visits, techniques = _build([client_id])
        old = VisitTechnique.objects.filter(client_id=client_id).values_list(*_CELL_SOURCE)
        delta = _cells(techniques_to_cells(old), sign=-1)
        _add_cells(delta, _cells(techniques_to_cells(_cell_rows(techniques))))
        old_visits = Visit.objects.filter(client_id=client_id).values_list("therapist_id", "day")
        visit_delta = Counter((week_of(day), therapist) for therapist, day in old_visits)
        visit_delta.subtract((week_of(visit[4]), visit[2]) for visit in visits)
        TechniqueClient.objects.filter(client_id=client_id)._raw_delete(TechniqueClient.objects.db)
        VisitTechnique.objects.filter(client_id=client_id)._raw_delete(VisitTechnique.objects.db)
        Visit.objects.filter(client_id=client_id)._raw_delete(Visit.objects.db)
        _insert(visits, techniques)
        _apply_cells(delta)
        _apply_therapist_cells(visit_delta)


def _lock_client(client_id: int) -> None:
    """One writer of a client's stored rows at a time: a rebuild (a session signed) and a re-pairing (a
    questionnaire submitted) at the same moment would each read what the other is replacing."""
    Client.objects.select_for_update().filter(pk=client_id).first()


def visits_rebuild_all(progress: Callable[[int], Any] | None = None) -> int:
    """Rebuild every client's visits; returns the number of visits stored."""
    client_ids = list(TreatmentSession.objects.signed().order_by().values_list("client_id", flat=True).distinct())
    client_ids.sort()
    stored = 0
    with transaction.atomic():
        for model in (TherapistWeek, TechniqueWeek, TechniqueClient, VisitTechnique, Visit):
            model.objects.all()._raw_delete(model.objects.db)
    for index in range(0, len(client_ids), _BATCH_CLIENTS):
        batch = client_ids[index : index + _BATCH_CLIENTS]
        with transaction.atomic():
            visits, techniques = _build(batch)
            _insert(visits, techniques)
        stored += len(visits)
        if progress:
            progress(len(batch))
    with transaction.atomic():
        cells_rebuild_all()
    return stored


def cells_rebuild_all() -> None:
    """Every TechniqueWeek and TherapistWeek cell from the stored rows, one statement each."""
    TechniqueWeek.objects.all()._raw_delete(TechniqueWeek.objects.db)
    TherapistWeek.objects.all()._raw_delete(TherapistWeek.objects.db)
    with connection.cursor() as cursor:
        cursor.execute(CELLS_FROM_ROWS_SQL.format(week=week_sql("day")))
        cursor.execute(THERAPIST_CELLS_SQL.format(week=week_sql("day")))


def week_sql(column: str) -> str:
    """SQL for ``outcomes.models.week_of(column)`` on this database."""
    if connection.vendor == "postgresql":
        return f"(({column} - DATE '1999-12-27') / 7)"
    return f"(CAST(julianday({column}) - julianday('1999-12-27') AS INTEGER) / 7)"


CELLS_FROM_ROWS_SQL = """
INSERT INTO outcomes_techniqueweek
    (week, technique_id, phase, therapist_id, ms_type, sessions, pain_sum, pain_squares, fatigue_sum, fatigue_squares)
SELECT {week}, technique_id, phase, therapist_id, ms_type, COUNT(*), SUM(pain_change),
       SUM(pain_change * pain_change), SUM(fatigue_change), SUM(fatigue_change * fatigue_change)
FROM outcomes_visittechnique
GROUP BY {week}, technique_id, phase, therapist_id, ms_type
"""

THERAPIST_CELLS_SQL = """
INSERT INTO outcomes_therapistweek (week, therapist_id, sessions)
SELECT {week}, therapist_id, COUNT(*) FROM outcomes_visit GROUP BY {week}, therapist_id
"""

# A cell's key (week, technique, phase, therapist, MS type) and its sums, as TechniqueWeek stores them.
CellKey = tuple[int, int, str, int, str]
_CELL_SOURCE = ("day", "technique_id", "phase", "therapist_id", "ms_type", "pain_change", "fatigue_change")
_SUMS = ("sessions", "pain_sum", "pain_squares", "fatigue_sum", "fatigue_squares")


def _cell_rows(techniques: Iterable[tuple]) -> Iterable[tuple]:
    """TECHNIQUE_COLUMNS tuples as _CELL_SOURCE tuples."""
    for _visit, technique_id, _client, therapist_id, day, phase, ms_type, pain, fatigue in techniques:
        yield day, technique_id, phase, therapist_id, ms_type, pain, fatigue


def techniques_to_cells(rows: Iterable[tuple]) -> dict[CellKey, list[int]]:
    """The TechniqueWeek sums of technique rows given as _CELL_SOURCE tuples."""
    cells: dict[CellKey, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for day, technique_id, phase, therapist_id, ms_type, pain, fatigue in rows:
        cell = cells[(week_of(day), technique_id, phase, therapist_id, ms_type)]
        cell[0] += 1
        cell[1] += pain
        cell[2] += pain * pain
        cell[3] += fatigue
        cell[4] += fatigue * fatigue
    return cells


def _cells(cells: dict[CellKey, list[int]], sign: int = 1) -> dict[CellKey, list[int]]:
    return {key: [sign * value for value in sums] for key, sums in cells.items()}


def _add_cells(total: dict[CellKey, list[int]], more: dict[CellKey, list[int]]) -> None:
    for key, sums in more.items():
        current = total.setdefault(key, [0, 0, 0, 0, 0])
        for index, value in enumerate(sums):
            current[index] += value


_UPSERT_CELL_SQL = """
INSERT INTO outcomes_techniqueweek
    (week, technique_id, phase, therapist_id, ms_type, sessions, pain_sum, pain_squares, fatigue_sum, fatigue_squares)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (week, technique_id, phase, therapist_id, ms_type) DO UPDATE SET
    sessions = outcomes_techniqueweek.sessions + excluded.sessions,
    pain_sum = outcomes_techniqueweek.pain_sum + excluded.pain_sum,
    pain_squares = outcomes_techniqueweek.pain_squares + excluded.pain_squares,
    fatigue_sum = outcomes_techniqueweek.fatigue_sum + excluded.fatigue_sum,
    fatigue_squares = outcomes_techniqueweek.fatigue_squares + excluded.fatigue_squares
"""


_UPSERT_THERAPIST_CELL_SQL = """
INSERT INTO outcomes_therapistweek (week, therapist_id, sessions) VALUES (%s, %s, %s)
ON CONFLICT (week, therapist_id) DO UPDATE SET sessions = outcomes_therapistweek.sessions + excluded.sessions
"""


def _apply_therapist_cells(removed: Counter[tuple[int, int]]) -> None:
    """Take a client's old visits (positive counts) out of the cells and add the new ones (negative), in key order."""
    changed = sorted((key, -count) for key, count in removed.items() if count)
    if not changed:
        return
    with connection.cursor() as cursor:
        cursor.executemany(_UPSERT_THERAPIST_CELL_SQL, [(*key, count) for key, count in changed])
    weeks = sorted({key[0] for key, _ in changed})
    TherapistWeek.objects.filter(week__in=weeks, sessions=0).delete()


def _apply_cells(delta: dict[CellKey, list[int]]) -> None:
    """Add a client's change to the cells; in key order, so that two writers lock shared cells in one order."""
    changed = sorted((key, sums) for key, sums in delta.items() if any(sums))
    if not changed:
        return
    with connection.cursor() as cursor:
        cursor.executemany(_UPSERT_CELL_SQL, [(*key, *sums) for key, sums in changed])
    weeks = sorted({key[0] for key, _ in changed})
    TechniqueWeek.objects.filter(week__in=weeks, sessions=0).delete()


VISIT_COLUMNS = (
    "session_id",
    "client_id",
    "therapist_id",
    "started_at",
    "day",
    "phase",
    "run",
    "ordinal",
    "run_length",
    "prev_day",
    "pain_before",
    "pain_after",
    "fatigue_before",
    "fatigue_after",
    "pain_change_sum",
    "fatigue_change_sum",
    "questionnaire_id",
    "questionnaire_score",
)
TECHNIQUE_COLUMNS = (
    "visit_id",
    "technique_id",
    "client_id",
    "therapist_id",
    "day",
    "phase",
    "ms_type",
    "pain_change",
    "fatigue_change",
)
KEY_COLUMNS = ("technique_id", "phase", "therapist_id", "client_id", "ms_type", "first_week", "last_week", "weeks")


def _build(client_ids: Sequence[int]) -> tuple[list[tuple], list[tuple]]:
    """The rows of these clients' visits and visit techniques, as tuples in VISIT_COLUMNS / TECHNIQUE_COLUMNS."""
    sessions = TreatmentSession.objects.signed().filter(client_id__in=client_ids).order_by()
    rows = list(sessions.values_list("id", "client_id", *_FIELDS))
    amendments = _amendments(client_ids)
    techniques = _techniques(client_ids)
    techniques.update(_corrected_techniques(amendments))
    ms_types = dict(Client.objects.filter(pk__in=client_ids).values_list("pk", "ms_type"))
    timelines = _timelines(client_ids)
    questionnaires = _questionnaires(client_ids)
    windows: dict[dt.date, Window] = {}
    zone = timezone.get_current_timezone()
    by_client: dict[int, list[VisitPoint]] = defaultdict(list)
    for session_id, client_id, *values in rows:
        amended = dict(zip(_FIELDS, values, strict=True))
        if session_id in amendments:
            amended, _ = apply_amendments(amended, amendments[session_id])
        day = amended["started_at"].astimezone(zone).date()
        episode = timelines[client_id].phase_on(day)
        by_client[client_id].append(
            VisitPoint(session_id=session_id, day=day, phase=episode.phase if episode else "", **amended)
        )
    visits: list[tuple] = []
    uses: list[tuple] = []
    for client_id, points in by_client.items():
        answered = questionnaires.get(client_id, [])
        for visit in _client_visits(client_id, in_order(points)):
            visit = (*visit, *_paired(answered, pairing_window(visit[4], windows)))
            visits.append(visit)
            pain_change, fatigue_change = visit[11] - visit[10], visit[13] - visit[12]
            for technique_id in sorted(techniques.get(visit[0], ())):
                uses.append(
                    (
                        visit[0],
                        technique_id,
                        client_id,
                        visit[2],
                        visit[4],
                        visit[5],
                        ms_types[client_id],
                        pain_change,
                        fatigue_change,
                    )
                )
    return visits, uses


def _corrected_techniques(amendments: dict[int, list[dict[str, Any]]]) -> dict[int, set[int]]:
    """The techniques of sessions whose technique rows were corrected: the latest correction's rows."""
    found: dict[int, set[int]] = {}
    for session_id, changes in amendments.items():
        for change in changes:
            if TECHNIQUE_USES in change:
                found[session_id] = {int(row["technique"]) for row in change[TECHNIQUE_USES]["to"]}
    return found


def technique_keys(techniques: Iterable[tuple]) -> list[tuple]:
    """TechniqueClient rows (KEY_COLUMNS) of TECHNIQUE_COLUMNS tuples: the weeks of each key as 0s and 1s."""
    weeks: dict[tuple, set[int]] = defaultdict(set)
    for _visit, technique_id, client_id, therapist_id, day, phase, ms_type, _pain, _fatigue in techniques:
        weeks[(technique_id, phase, therapist_id, client_id, ms_type)].add(week_of(day))
    keys = []
    for key, used in weeks.items():
        first, last = min(used), max(used)
        keys.append((*key, first, last, "".join("1" if week in used else "0" for week in range(first, last + 1))))
    return keys


# A client's submitted REPORTED_INSTRUMENT questionnaires, oldest first: (submitted_at, id, score after corrections).
Answered = tuple[dt.datetime, int, int]


def client_questionnaires_refresh(client_id: int) -> None:
    """Pair the client's stored visits with their questionnaires again (one was submitted or corrected)."""
    with transaction.atomic():
        _lock_client(client_id)
        stored = Visit.objects.filter(client_id=client_id).values_list(
            "pk", "day", "questionnaire_id", "questionnaire_score"
        )
        answered = _questionnaires([client_id]).get(client_id, [])
        windows: dict[dt.date, Window] = {}
        changed = []
        for pk, day, *pairing in stored:
            paired = _paired(answered, pairing_window(day, windows))
            if paired != tuple(pairing):
                changed.append(Visit(session_id=pk, questionnaire_id=paired[0], questionnaire_score=paired[1]))
        Visit.objects.bulk_update(changed, ["questionnaire_id", "questionnaire_score"], batch_size=_INSERT_BATCH)


def _questionnaires(client_ids: Sequence[int]) -> dict[int, list[Answered]]:
    responses = (
        QuestionnaireResponse.objects.filter(
            client_id__in=client_ids, instrument__code=REPORTED_INSTRUMENT, status=ResponseStatus.SUBMITTED
        )
        .with_current_score()
        .order_by("client_id", "submitted_at", "pk")
        .values_list("client_id", "submitted_at", "pk", "current_score")
    )
    found: dict[int, list[Answered]] = defaultdict(list)
    for client_id, submitted_at, pk, score in responses:
        found[client_id].append((submitted_at, pk, score))
    return found


Window = tuple[dt.datetime, dt.datetime]


def pairing_window(day: dt.date, windows: dict[dt.date, Window]) -> Window:
    """A visit's questionnaire window: [local midnight of day - PAIRING_DAYS, local midnight of day + 1).

    Kept in ``windows``, once per day: visits share a few thousand days, and make_aware is slow.
    """
    if day not in windows:
        start, end = day - dt.timedelta(days=PAIRING_DAYS), day + dt.timedelta(days=1)
        windows[day] = (local_midnight(start), local_midnight(end))
    return windows[day]


def _paired(answered: Sequence[Answered], window: Window) -> tuple[int | None, int | None]:
    """The latest questionnaire submitted in the window (ties: the higher id), as (id, score); else (None, None)."""
    # Sorted by (submitted_at, id): the last one before the window's end, if it is not before its start.
    index = bisect.bisect_left(answered, (window[1],)) - 1
    if index < 0 or answered[index][0] < window[0]:
        return None, None
    return answered[index][1], answered[index][2]


def _client_visits(client_id: int, points: list[VisitPoint]) -> Iterable[tuple]:
    pain_sum = fatigue_sum = 0
    previous: VisitPoint | None = None
    numbers = number_runs(points)
    lengths = Counter(run for run, _ in numbers)
    for point, (run, ordinal) in zip(points, numbers, strict=True):
        if ordinal == 1:
            pain_sum = fatigue_sum = 0
        yield (
            point.session_id,
            client_id,
            point.therapist_id,
            point.started_at,
            point.day,
            point.phase,
            run,
            ordinal,
            lengths[run],
            previous.day if previous is not None and ordinal > 1 else None,
            point.pain_before,
            point.pain_after,
            point.fatigue_before,
            point.fatigue_after,
            pain_sum,
            fatigue_sum,
        )
        pain_sum += point.pain_after - point.pain_before
        fatigue_sum += point.fatigue_after - point.fatigue_before
        previous = point


def _amendments(client_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each session's amendments (their ``changes``), oldest first, as apply_amendments takes them."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    amendments = SessionAmendment.objects.filter(session__client_id__in=client_ids)
    rows = amendments.order_by("session_id", "created_at", "pk")
    for session_id, changes in rows.values_list("session_id", "changes"):
        found[session_id].append(changes)
    return found


def _techniques(client_ids: Sequence[int]) -> dict[int, set[int]]:
    """The techniques of each signed session, each once however many regions it was used on."""
    found: dict[int, set[int]] = defaultdict(set)
    uses = TechniqueUse.objects.filter(session__client_id__in=client_ids, session__status=SessionStatus.SIGNED)
    for session_id, technique_id in uses.order_by().values_list("session_id", "technique_id"):
        found[session_id].add(technique_id)
    return found


def _timelines(client_ids: Sequence[int]) -> dict[int, PhaseTimeline]:
    episodes: dict[int, list[DiseasePhase]] = defaultdict(list)
    # No ordering: the model's default would join the client table.
    phases = DiseasePhase.objects.filter(client_id__in=client_ids).order_by()
    for episode in phases.only("client_id", "phase", "started_on", "ended_on"):
        episodes[episode.client_id].append(episode)
    return {client_id: PhaseTimeline(episodes[client_id]) for client_id in client_ids}


def _insert(visits: list[tuple], techniques: list[tuple]) -> None:
    _insert_rows(Visit, VISIT_COLUMNS, visits)
    _insert_rows(VisitTechnique, TECHNIQUE_COLUMNS, techniques)
    _insert_rows(TechniqueClient, KEY_COLUMNS, technique_keys(techniques))


def _insert_rows(model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert plain rows: COPY on PostgreSQL (millions of rows after a bulk load), batched INSERTs elsewhere."""
    if not rows:
        return
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(name) for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        for index in range(0, len(rows), _INSERT_BATCH):
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[index : index + _INSERT_BATCH])
