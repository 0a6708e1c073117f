"""A believable demo practice: an owner, two therapists, clients with MS and years of sessions.

Deterministic for a given seed and safe to run again: demo clients are recognised by
their e-mail address and are never created twice. Large data sets use bulk inserts.
"""

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from clients.body_regions import BodyRegion
from clients.models import ClearanceCondition, Client, DiseasePhase, Goal, MSType, Phase
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
BATCH = 200


@dataclass
class DemoResult:
    clients_created: int
    sessions_created: int
    clients_existing: int


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
) -> DemoResult:
    """Create the demo practice; ``years=None`` gives each client one to three years."""
    today = today or timezone.localdate()
    _owner, therapists, client_user = ensure_users()
    techniques = list(Technique.objects.filter(guidance="recommended", is_active=True).order_by("slug"))
    existing = set(Client.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True))
    result = DemoResult(0, 0, 0)
    for batch in _batches(range(clients), BATCH):
        todo = [i for i in batch if demo_email(i) not in existing]
        result.clients_existing += len(batch) - len(todo)
        if todo:
            with transaction.atomic():
                result.sessions_created += _create_batch(todo, years, seed, today, therapists, techniques)
            result.clients_created += len(todo)
        if progress:
            progress(len(batch))
    first = Client.objects.filter(email=demo_email(0)).first()
    if first and first.user_id is None and not hasattr(client_user, "client_profile"):
        first.user = client_user
        first.save(update_fields=["user"])
    return result


def _batches(items: range, size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _create_batch(indexes, years, seed, today, therapists, techniques) -> int:
    plans = [_ClientPlan(index, random.Random(f"{seed}-{index}"), years, today) for index in indexes]
    created = Client.objects.bulk_create([plan.client() for plan in plans])
    through = Client.therapists.through
    through.objects.bulk_create(
        [
            through(client=client, user=therapist)
            for plan, client in zip(plans, created, strict=True)
            for therapist in plan.therapists(therapists)
        ]
    )
    phases, sessions, uses = [], [], []
    for plan, client in zip(plans, created, strict=True):
        client_phases = plan.phases(client)
        phases.extend(client_phases)
        for session, session_uses in plan.sessions(client, client_phases, plan.therapists(therapists)[0], techniques):
            sessions.append(session)
            uses.append(session_uses)
    DiseasePhase.objects.bulk_create(phases, batch_size=2000)
    saved = TreatmentSession.objects.bulk_create(sessions, batch_size=2000)
    rows = []
    for session, session_uses in zip(saved, uses, strict=True):
        for use in session_uses:
            use.session = session
            rows.append(use)
    TechniqueUse.objects.bulk_create(rows, batch_size=5000)
    return len(saved)


class _ClientPlan:
    def __init__(self, index: int, rng: random.Random, years: float | None, today: dt.date):
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

    def therapists(self, therapists: list[User]) -> list[User]:
        primary = therapists[self.index % len(therapists)]
        return [primary] if self.index % 5 else therapists

    def phases(self, client: Client) -> list[DiseasePhase]:
        rng, day, phases = self.rng, self.start, []
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
            phases.append(DiseasePhase(client=client, phase=current, started_on=day, ended_on=end))
            day = end
            current = {Phase.REMISSION: Phase.ACUTE_FLARE, Phase.ACUTE_FLARE: Phase.SUBACUTE}.get(
                current, Phase.REMISSION
            )
        if self.index < len(FIXED_CURRENT_PHASES) and current != FIXED_CURRENT_PHASES[self.index]:
            # Close what is running and open the fixed current phase a few days ago.
            wanted = FIXED_CURRENT_PHASES[self.index]
            opened = self.today - dt.timedelta(days=3 if wanted == Phase.ACUTE_FLARE else 20)
            opened = max(opened, day + dt.timedelta(days=1))
            phases.append(DiseasePhase(client=client, phase=current, started_on=day, ended_on=opened))
            day, current = opened, wanted
        phases.append(DiseasePhase(client=client, phase=current, started_on=day))
        return phases

    def sessions(self, client, phases, therapist, techniques) -> Iterator[tuple[TreatmentSession, list[TechniqueUse]]]:
        rng = self.rng
        tz = timezone.get_current_timezone()
        total_days = max((self.today - self.start).days, 1)
        day = self.start + dt.timedelta(days=rng.randint(0, 6))
        phase_index = 0
        while day < self.today:
            while phase_index + 1 < len(phases) and phases[phase_index + 1].started_on <= day:
                phase_index += 1
            phase = phases[phase_index].phase
            # No massage during an acute flare; a few weeks are missed anyway.
            if phase != Phase.ACUTE_FLARE and rng.random() > 0.1:
                started = dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.choice([0, 30])), tzinfo=tz)
                improvement = 1.2 * (day - self.start).days / total_days
                pain_level, fatigue_level = PHASE_LEVELS[phase]
                pain_before = _score(rng.gauss(pain_level - improvement, 1.2))
                fatigue_before = _score(rng.gauss(fatigue_level - improvement, 1.2))
                is_last = day + dt.timedelta(days=7) >= self.today
                session = TreatmentSession(
                    client=client,
                    therapist=therapist,
                    started_at=started,
                    duration_minutes=rng.choice([30, 45, 60, 60, 60, 90]),
                    setting=rng.choice([Setting.CLINIC] * 6 + [Setting.HOME] * 2 + [Setting.HOSPITAL]),
                    room_temperature_c=rng.choice([20, 20.5, 21, 21.5, 22]),
                    pain_before=pain_before,
                    pain_after=_score(pain_before - rng.choice([0, 1, 1, 2, 2, 3])),
                    fatigue_before=fatigue_before,
                    fatigue_after=_score(fatigue_before - rng.choice([0, 0, 1, 1, 2])),
                    subjective=rng.choice(
                        [
                            "Stiff after a poor night.",
                            "Tired, legs heavy.",
                            "Feeling fairly well.",
                            "Shoulders tense from work.",
                        ]
                    ),
                    objective="Tone increased in calves; skin intact.",
                    assessment="Tolerated light to moderate pressure well.",
                    plan="Continue weekly; keep the room cool.",
                    client_summary=rng.choice(
                        [
                            "We worked gently on your back and legs. Drink water and rest this evening.",
                            "Light work on shoulders and feet today. Keep up the stretches we practised.",
                            "A calm session focused on relaxation. Let us know if the tingling returns.",
                        ]
                    ),
                    status=SessionStatus.DRAFT if is_last and self.index % 4 == 0 else SessionStatus.SIGNED,
                    signed_at=None if is_last and self.index % 4 == 0 else started + dt.timedelta(hours=1),
                    signed_by=None if is_last and self.index % 4 == 0 else therapist,
                )
                yield session, self._uses(techniques)
            day += dt.timedelta(days=7)

    def _uses(self, techniques) -> list[TechniqueUse]:
        rng = self.rng
        uses, seen = [], set()
        for technique in rng.sample(techniques, rng.randint(1, 3)):
            region = rng.choice([r for r in BodyRegion.values if r not in self.sores])
            if (technique.pk, region) in seen:
                continue
            seen.add((technique.pk, region))
            pressure = (
                Pressure.LIGHT
                if region in self.reduced or technique.light_touch
                else rng.choice([Pressure.LIGHT, Pressure.MODERATE])
            )
            uses.append(TechniqueUse(technique=technique, body_region=region, pressure=pressure))
        return uses


def _score(value: float) -> int:
    return max(0, min(10, round(value)))
