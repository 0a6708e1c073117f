"""A believable demo practice: an owner, two therapists, clients with MS and years of sessions.

Deterministic for a given seed and safe to run again: demo clients are recognised by
their e-mail address and are never created twice. Each batch of clients is written in
one transaction, so an interrupted run leaves whole clients behind and a re-run carries on.

Large data sets (``seed_demo --clients 10000 --years 10``: millions of rows) are planned
here as plain tuples, never model instances, and written by ``devtools.bulk`` (COPY on
PostgreSQL). No per-object signals are sent, so the change history (django-simple-history)
starts with the first edit after seeding, as for any bulk import.
"""

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.utils import timezone

from clients.body_regions import BodyRegion
from clients.intake import consent_text_add
from clients.models import (
    ClearanceCondition,
    Client,
    Consent,
    ConsentKind,
    ConsentText,
    DiseasePhase,
    Goal,
    MSType,
    Phase,
)
from devtools.bulk import analyze, insert_rows, skip_foreign_key_checks
from measures.models import EnteredIn, Instrument, QuestionnaireResponse, ResponseStatus
from measures.selectors import DUE_EVERY_DAYS
from practice.roles import OWNER, THERAPIST
from sessions.models import Pressure, SessionStatus, Setting, Technique, TechniqueUse, TreatmentSession

DEMO_PASSWORD = "demo-practice-2026"
OWNER_USERNAME = "owner"
THERAPISTS = [("maria", "Maria", "Santos"), ("james", "James", "Okafor")]
CLIENT_USERNAME = "alex"
EMAIL_DOMAIN = "demo.invalid"

FIRST_NAMES = [
    "Alex",
    "Sam",
    "Priya",
    "Tom",
    "Grace",
    "Omar",
    "Lucy",
    "Daniel",
    "Hannah",
    "Ravi",
    "Chloe",
    "Peter",
    "Aisha",
    "Ben",
    "Ingrid",
    "Mateo",
    "Nora",
    "Kofi",
    "Elena",
    "Jack",
    "Mei",
    "Liam",
    "Sofia",
    "Yusuf",
]
LAST_NAMES = [
    "Morgan",
    "Patel",
    "Nowak",
    "Hughes",
    "Chen",
    "Haddad",
    "Murphy",
    "Fischer",
    "Evans",
    "Iyer",
    "Dubois",
    "Walsh",
    "Khan",
    "Larsen",
    "Garcia",
    "Okoye",
    "Rossi",
    "Berg",
    "Novak",
    "Reid",
    "Silva",
    "Ward",
]
# Demo client 0 is in remission (and has the portal account), 1 is in an acute flare now,
# 2 is recovering: the workspace and its tests rely on these three.
FIXED_CURRENT_PHASES = [Phase.REMISSION, Phase.ACUTE_FLARE, Phase.SUBACUTE]
PHASE_LEVELS = {Phase.REMISSION: (3.0, 3.5), Phase.SUBACUTE: (5.0, 5.5), Phase.ACUTE_FLARE: (7.0, 7.5)}
# Clients per transaction: about 90,000 sessions at ten years each, a few seconds of COPY.
BATCH = 200

SUBJECTIVE = ["Stiff after a poor night.", "Tired, legs heavy.", "Feeling fairly well.", "Shoulders tense from work."]
OBJECTIVE = "Tone increased in calves; skin intact."
ASSESSMENT = "Tolerated light to moderate pressure well."
PLAN = "Continue weekly; keep the room cool."
CLIENT_SUMMARIES = [
    "We worked gently on your back and legs. Drink water and rest this evening.",
    "Light work on shoulders and feet today. Keep up the stretches we practised.",
    "A calm session focused on relaxation. Let us know if the tingling returns.",
]
DURATIONS = [30, 45, 60, 60, 60, 90]
SETTINGS = [Setting.CLINIC.value] * 6 + [Setting.HOME.value] * 2 + [Setting.HOSPITAL.value]
ROOM_TEMPERATURES = [Decimal(t) for t in ("20", "20.5", "21", "21.5", "22")]
PAIN_RELIEF = [0, 1, 1, 2, 2, 3]
FATIGUE_RELIEF = [0, 0, 1, 1, 2]
WEEK = dt.timedelta(days=7)
HOUR = dt.timedelta(hours=1)

# The columns the generator fills, by attribute name; every other column takes its model default.
SESSION_COLUMNS = (
    "client_id",
    "therapist_id",
    "started_at",
    "duration_minutes",
    "setting",
    "room_temperature_c",
    "pain_before",
    "pain_after",
    "fatigue_before",
    "fatigue_after",
    "subjective",
    "objective",
    "assessment",
    "plan",
    "client_summary",
    "status",
    "signed_at",
    "signed_by_id",
)
USE_COLUMNS = ("session_id", "technique_id", "body_region", "pressure")
PHASE_COLUMNS = ("client_id", "phase", "started_on", "ended_on")
QUESTIONNAIRE_COLUMNS = (
    "client_id",
    "instrument_id",
    "status",
    "started_at",
    "submitted_at",
    "answers",
    "score",
    "entered_by_id",
    "entered_in",
)
# The demo's questionnaire: filled on the therapist's tablet at a course's first session and every 4 weeks.
DEMO_INSTRUMENT = "mfis5"


@dataclass
class DemoResult:
    clients_created: int
    sessions_created: int
    clients_existing: int
    questionnaires_created: int = 0


def demo_email(index: int) -> str:
    return f"client{index:05d}@{EMAIL_DOMAIN}"


def ensure_users() -> tuple[User, list[User], User]:
    owner = _user(OWNER_USERNAME, "Olivia", "Owner", is_staff=True)
    owner.groups.add(Group.objects.get(name=OWNER))
    therapists = []
    for username, first, last in THERAPISTS:
        therapist = _user(username, first, last)
        therapist.groups.add(Group.objects.get(name=THERAPIST))
        therapists.append(therapist)
    client_user = _user(CLIENT_USERNAME, "Alex", "Morgan")
    return owner, therapists, client_user


def _user(username: str, first: str, last: str, *, is_staff: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@{EMAIL_DOMAIN}", "is_staff": is_staff},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def build_demo(
    *,
    clients: int = 12,
    years: float | None = None,
    seed: int = 2026,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH,
) -> DemoResult:
    """Create the demo practice; ``years=None`` gives each client one to three years."""
    today = today or timezone.localdate()
    _owner, therapists, client_user = ensure_users()
    techniques = recommended_techniques()
    instrument = demo_instrument()
    existing = set(Client.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True))
    therapist_ids = [therapist.pk for therapist in therapists]
    batches = [range(start, min(start + batch_size, clients)) for start in range(0, clients, batch_size)]
    todos = [[i for i in batch if demo_email(i) not in existing] for batch in batches]
    result = DemoResult(0, 0, 0)
    # One thread plans the next batch (pure Python, no database) while this one writes the current
    # batch, so the planning overlaps the database's work on the COPY and the commit. One batch ahead
    # at most: at ten years a batch holds about 90,000 sessions.
    with ThreadPoolExecutor(max_workers=1) as planner:

        def plan(todo: list[int]) -> Future:
            return planner.submit(_plan_batch, todo, years, seed, today, therapist_ids, techniques, instrument)

        upcoming = plan(todos[0]) if todos else None
        for number, (batch, todo) in enumerate(zip(batches, todos, strict=True)):
            assert upcoming is not None  # planned in the previous round (or before the first)
            rows = upcoming.result()
            upcoming = plan(todos[number + 1]) if number + 1 < len(todos) else None
            result.clients_existing += len(batch) - len(todo)
            if todo:
                with transaction.atomic():
                    result.sessions_created += _write_batch(rows)
                result.questionnaires_created += len(rows.questionnaires)
                result.clients_created += len(todo)
            if progress:
                progress(len(batch))
    if result.clients_created:
        analyze(Client, Client.therapists.through, DiseasePhase, TreatmentSession, TechniqueUse, QuestionnaireResponse)
    ensure_demo_consents(owner=_owner)
    first = Client.objects.filter(email=demo_email(0)).first()
    if first and first.user_id is None and not hasattr(client_user, "client_profile"):
        first.user = client_user
        first.save(update_fields=["user"])
    return result


def recommended_techniques() -> list[tuple[int, bool]]:
    """(id, light touch) of the active techniques advised for MS, the ones generated sessions use."""
    recommended = Technique.objects.filter(guidance="recommended", is_active=True).order_by("slug")
    return [(t.pk, t.light_touch) for t in recommended]


@dataclass(frozen=True)
class DemoInstrument:
    """What planning questionnaires needs of the instrument, read once (the planner thread has no database)."""

    pk: int
    link_ids: list[str]
    top: int  # the highest answer value (the same for every item of MFIS-5)


def demo_instrument() -> DemoInstrument | None:
    instrument = Instrument.objects.active().filter(code=DEMO_INSTRUMENT).first()
    if instrument is None:
        return None
    top = min(max(o["value"] for o in item["options"]) for item in instrument.items)
    return DemoInstrument(instrument.pk, [item["link_id"] for item in instrument.items], top)


@dataclass
class _BatchRows:
    """One batch of clients as rows; ``client_ref`` columns hold the client's place in ``clients``."""

    clients: list[Client]
    therapist_links: list[tuple[int, int]]  # (client_ref, user id)
    phases: list[tuple]  # PHASE_COLUMNS
    sessions: list[tuple]  # SESSION_COLUMNS
    uses: list[tuple]  # USE_COLUMNS, with the session's place in ``sessions`` for its id
    questionnaires: list[tuple] = field(default_factory=list)  # QUESTIONNAIRE_COLUMNS, client_ref first


def _plan_batch(
    indexes: list[int],
    years: float | None,
    seed: int,
    today: dt.date,
    therapist_ids: list[int],
    techniques: list[tuple[int, bool]],
    instrument: DemoInstrument | None = None,
) -> _BatchRows:
    rows = _BatchRows([], [], [], [], [])
    for client_ref, index in enumerate(indexes):
        # Each client has its own generator: the same seed gives the same client whatever the batches.
        plan = ClientPlan(index, random.Random(f"{seed}-{index}"), years, today)
        rows.clients.append(plan.client())
        cared_by = plan.therapists(therapist_ids)
        rows.therapist_links.extend((client_ref, user_id) for user_id in cared_by)
        phases = plan.phases(client_ref)
        rows.phases.extend(phases)
        first_session = len(rows.sessions)
        plan.sessions(client_ref, phases, cared_by[0], techniques, rows.sessions, rows.uses)
        if instrument is not None:
            # Drawn last, so the sessions and everything before them are as they were without questionnaires.
            rows.questionnaires.extend(plan.questionnaires(instrument, rows.sessions[first_session:]))
    return rows


DEMO_CONSENT_TEXTS = {
    ConsentKind.TREATMENT: (
        "I agree to massage treatment by the practice's therapists. My therapist will ask about my MS and my "
        "health before each session, work within my pain tolerance, and stop whenever I ask."
    ),
    ConsentKind.DATA_USE: (
        "The practice keeps my record (health profile, sessions, scores and what I write in the portal) to "
        "treat me safely, shows it only to the therapists who care for me and the practice owner, and never "
        "shares it without my consent."
    ),
}


def ensure_demo_consents(*, owner: User | None = None) -> int:
    """Give the practice its consent texts (if it has none) and every demo client a consent to each current one.

    In bulk, and for clients seeded before consents existed too: a demo client without consent to treatment
    could not have a session logged (sessions.services.create_refusal). Returns how many consents it wrote.
    """
    texts = [
        ConsentText.objects.current(kind) or consent_text_add(kind=kind, text=wording, created_by=owner)
        for kind, wording in DEMO_CONSENT_TEXTS.items()
    ]
    demo = Client.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
    written = 0
    for text in texts:
        missing = demo.exclude(consents__consent_text=text).values_list("pk", "first_name", "last_name")
        written += len(
            Consent.objects.bulk_create(
                [
                    Consent(client_id=pk, consent_text=text, typed_name=f"{first} {last}")
                    for pk, first, last in missing.iterator()
                ],
                batch_size=2000,
            )
        )
    return written


def _write_batch(rows: _BatchRows) -> int:
    skip_foreign_key_checks()
    client_ids = [client.pk for client in Client.objects.bulk_create(rows.clients)]
    through = Client.therapists.through
    through.objects.bulk_create(
        [through(client_id=client_ids[ref], user_id=user) for ref, user in rows.therapist_links]
    )
    insert_rows(DiseasePhase, PHASE_COLUMNS, [(client_ids[ref], *rest) for ref, *rest in rows.phases])
    sessions = [(client_ids[ref], *rest) for ref, *rest in rows.sessions]
    session_ids = insert_rows(TreatmentSession, SESSION_COLUMNS, sessions, return_ids=True)
    with techniques_of_sessions_loaded_signed():
        insert_rows(TechniqueUse, USE_COLUMNS, [(session_ids[ref], *rest) for ref, *rest in rows.uses])
    # COPY passes the answers as JSON text; the other path lets the field encode the dict.
    encode = json.dumps if connection.vendor == "postgresql" else (lambda answers: answers)
    questionnaires = [
        (client_ids[ref], instrument, status, started, submitted, encode(answers), *rest)
        for ref, instrument, status, started, submitted, answers, *rest in rows.questionnaires
    ]
    insert_rows(QuestionnaireResponse, QUESTIONNAIRE_COLUMNS, questionnaires)
    return len(sessions)


@contextmanager
def techniques_of_sessions_loaded_signed() -> Iterator[None]:
    """Let this transaction give sessions it has just loaded as signed their technique rows.

    On PostgreSQL a trigger refuses technique rows for a signed session (migration practice 0006); the
    application signs a session with its rows in place, but generated history arrives signed. The trigger
    is lifted for this transaction only (transactional DDL: a rollback restores it too). Where
    skip_foreign_key_checks() could switch the role to replica, triggers are off already.
    """
    if connection.vendor != "postgresql":
        yield
        return
    table, trigger = "treatment_sessions_techniqueuse", "practice_no_use_for_signed_session"
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        yield
        # The rows' deferred foreign-key checks must run before the table can be altered again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


class ClientPlan:
    """One generated client: their profile, therapists, phase history and weekly sessions, as rows.

    Everything is drawn from ``rng``, so the same index and seed give the same client.
    """

    def __init__(self, index: int, rng: random.Random, years: float | None, today: dt.date) -> None:
        self.index, self.rng, self.today = index, rng, today
        self.years = years if years is not None else rng.choice([1, 1.5, 2, 2.5, 3])
        self.start = today - dt.timedelta(days=int(365 * self.years))
        ms_types = [MSType.RRMS] * 6 + [MSType.SPMS] * 2 + [MSType.PPMS, MSType.CIS]
        self.ms_type = MSType.RRMS if index < 3 else rng.choice(ms_types)
        self.heat_sensitive = index < 3 or rng.random() < 0.8
        self.reduced = rng.sample(BodyRegion.values, rng.choice([0, 0, 1, 2]))
        if index == 0:
            self.reduced = [BodyRegion.FOOT_LEFT, BodyRegion.FOOT_RIGHT]
        self.sores = (
            [] if index < 3 or rng.random() > 0.1 else [rng.choice([BodyRegion.LOWER_BACK, BodyRegion.HIP_LEFT])]
        )

    def client(self) -> Client:
        rng = self.rng
        first = FIRST_NAMES[self.index % len(FIRST_NAMES)]
        last = LAST_NAMES[(self.index * 7 + self.index // len(FIRST_NAMES)) % len(LAST_NAMES)]
        conditions = rng.sample(ClearanceCondition.values[:-1], 1) if rng.random() < 0.15 else []
        cleared = self.today - dt.timedelta(days=rng.randint(30, 300)) if conditions and rng.random() < 0.5 else None
        return Client(
            first_name=first,
            last_name=last,
            email=demo_email(self.index),
            phone=f"07700 9{self.index % 100000:05d}",
            date_of_birth=dt.date(rng.randint(1955, 1995), rng.randint(1, 12), rng.randint(1, 28)),
            emergency_contact_name=f"{rng.choice(FIRST_NAMES)} {last}",
            emergency_contact_relationship=rng.choice(["Partner", "Parent", "Sibling", "Friend"]),
            emergency_contact_phone=f"07700 8{self.index % 100000:05d}",
            physician_name=f"Dr {rng.choice(LAST_NAMES)}",
            neurologist_name=f"Dr {rng.choice(LAST_NAMES)}",
            ms_type=self.ms_type,
            diagnosis_year=self.today.year - rng.randint(int(self.years) + 1, 20),
            edss=rng.choice([None, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 6.5]),
            heat_sensitive=self.heat_sensitive,
            cold_sensitive=not self.heat_sensitive and rng.random() < 0.5,
            conditions_needing_clearance=conditions,
            physician_clearance_on=cleared,
            reduced_sensation_regions=self.reduced,
            pressure_sore_regions=self.sores,
            goals=rng.sample(Goal.values, rng.randint(1, 3)),
        )

    def therapists(self, therapist_ids: list[int]) -> list[int]:
        primary = therapist_ids[self.index % len(therapist_ids)]
        return [primary] if self.index % 5 else therapist_ids

    def phases(self, client_id: int) -> list[tuple]:
        """Rows of PHASE_COLUMNS: remission, flare, recovery and round again, then the current phase."""
        rng, day = self.rng, self.start
        phases: list[tuple[int, str, dt.date, dt.date | None]] = []
        progressive = self.ms_type in (MSType.PPMS, MSType.SPMS)
        current = Phase.REMISSION
        while True:
            if current == Phase.REMISSION:
                length = rng.randint(200, 500) if progressive else rng.randint(90, 260)
            elif current == Phase.ACUTE_FLARE:
                length = rng.randint(7, 28)
            else:
                length = rng.randint(21, 60)
            end = day + dt.timedelta(days=length)
            if end >= self.today:
                break
            phases.append((client_id, current.value, day, end))
            day = end
            current = {Phase.REMISSION: Phase.ACUTE_FLARE, Phase.ACUTE_FLARE: Phase.SUBACUTE}.get(
                current, Phase.REMISSION
            )
        if self.index < len(FIXED_CURRENT_PHASES) and current != FIXED_CURRENT_PHASES[self.index]:
            # Close what is running and open the fixed current phase a few days ago.
            wanted = FIXED_CURRENT_PHASES[self.index]
            opened = self.today - dt.timedelta(days=3 if wanted == Phase.ACUTE_FLARE else 20)
            opened = max(opened, day + dt.timedelta(days=1))
            phases.append((client_id, current.value, day, opened))
            day, current = opened, wanted
        phases.append((client_id, current.value, day, None))
        return phases

    def sessions(
        self,
        client_id: int,
        phases: list[tuple],
        therapist_id: int,
        techniques: list[tuple[int, bool]],
        sessions: list[tuple],
        uses: list[tuple],
    ) -> None:
        """Append weekly rows of SESSION_COLUMNS to ``sessions`` and their technique rows to ``uses``.

        A technique row starts with the session's index in ``sessions``, replaced by its id once written.
        Hot loop of the large seed: plain tuples, lookups hoisted, one pass over the phases.
        """
        rng, today, start = self.rng, self.today, self.start
        random_, gauss = rng.random, rng.gauss

        def pick(options):  # rng.choice, a third of the cost: it runs ten times per session
            return options[int(random_() * len(options))]

        tz = timezone.get_current_timezone()
        total_days = max((today - start).days, 1)
        regions = [r for r in BodyRegion.values if r not in self.sores]
        reduced = set(self.reduced)
        drafts_last = self.index % 4 == 0
        signed, draft = SessionStatus.SIGNED.value, SessionStatus.DRAFT.value
        light, moderate = Pressure.LIGHT.value, Pressure.MODERATE.value
        times = [dt.time(hour, minute) for hour in range(9, 17) for minute in (0, 30)]
        starts = [p[2] for p in phases]
        day = start + dt.timedelta(days=int(random_() * 7))
        phase_index = 0
        while day < today:
            while phase_index + 1 < len(phases) and starts[phase_index + 1] <= day:
                phase_index += 1
            phase = phases[phase_index][1]
            # No massage during an acute flare; a few weeks are missed anyway.
            if phase != Phase.ACUTE_FLARE and random_() > 0.1:
                started = dt.datetime.combine(day, pick(times), tzinfo=tz)
                improvement = 1.2 * (day - start).days / total_days
                pain_level, fatigue_level = PHASE_LEVELS[phase]
                pain_before = _score(gauss(pain_level - improvement, 1.2))
                fatigue_before = _score(gauss(fatigue_level - improvement, 1.2))
                is_draft = drafts_last and day + WEEK >= today
                index = len(sessions)
                sessions.append(
                    (
                        client_id,
                        therapist_id,
                        started,
                        pick(DURATIONS),
                        pick(SETTINGS),
                        pick(ROOM_TEMPERATURES),
                        pain_before,
                        _score(pain_before - pick(PAIN_RELIEF)),
                        fatigue_before,
                        _score(fatigue_before - pick(FATIGUE_RELIEF)),
                        pick(SUBJECTIVE),
                        OBJECTIVE,
                        ASSESSMENT,
                        PLAN,
                        pick(CLIENT_SUMMARIES),
                        draft if is_draft else signed,
                        None if is_draft else started + HOUR,
                        None if is_draft else therapist_id,
                    )
                )
                seen = set()
                for technique_id, light_touch in rng.sample(techniques, 1 + int(random_() * 3)):
                    region = pick(regions)
                    if (technique_id, region) in seen:
                        continue
                    seen.add((technique_id, region))
                    pressure = light if light_touch or region in reduced else pick((light, moderate))
                    uses.append((index, technique_id, region, pressure))
            day += WEEK

    def questionnaires(self, instrument: DemoInstrument, sessions: list[tuple]) -> list[tuple]:
        """Rows of QUESTIONNAIRE_COLUMNS (client_ref first), filled on the tablet at the client's first session
        and at the first session at least 4 weeks after the one before; answers follow the fatigue before it."""
        rows: list[tuple] = []
        due_from: dt.datetime | None = None
        rng = self.rng
        fatigue_column = SESSION_COLUMNS.index("fatigue_before")
        for session in sessions:
            client_ref, therapist_id, started = session[:3]
            if due_from is not None and started < due_from:
                continue
            fatigue_before = session[fatigue_column]
            answers = {
                link_id: max(0, min(instrument.top, round(rng.gauss(fatigue_before * instrument.top / 10, 0.7))))
                for link_id in instrument.link_ids
            }
            submitted = started + dt.timedelta(minutes=5)
            rows.append(
                (
                    client_ref,
                    instrument.pk,
                    ResponseStatus.SUBMITTED.value,
                    started,
                    submitted,
                    answers,
                    sum(answers.values()),
                    therapist_id,
                    EnteredIn.SESSION.value,
                )
            )
            due_from = started + dt.timedelta(days=DUE_EVERY_DAYS)
        return rows


def _score(value: float) -> int:
    return max(0, min(10, round(value)))
