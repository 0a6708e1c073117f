"""Time the trend page against a raw SQL fetch of the same rows, for clients with 5, 52 and 520 sessions.

    DEBUG=1 .venv/bin/python manage.py bench_trends [--repeats 20] [--sizes 5,52,520]

Everything it creates lives in one transaction that is rolled back at the end: clinical
records are never deleted, so rolling back is the only clean way to remove them.
"""

import datetime as dt
import statistics
import time
import uuid

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, DiseasePhase, Phase
from practice.roles import THERAPIST
from sessions.models import SessionStatus, Technique, TechniqueUse, TreatmentSession

# A year of remission, a flare and a recovery, repeated over the client's history.
PHASE_CYCLE = [(Phase.REMISSION, 280), (Phase.ACUTE_FLARE, 21), (Phase.SUBACUTE, 49)]


class Command(BaseCommand):
    help = "Benchmark the trend page (server time) against a raw SQL fetch of the same rows. Rolls back its data."

    def add_arguments(self, parser):
        parser.add_argument("--repeats", type=int, default=20, help="Timed requests per size (default 20).")
        parser.add_argument("--sizes", default="5,52,520", help="Weekly sessions per client (default 5,52,520).")

    def handle(self, *args, repeats: int, sizes: str, **options):
        try:
            counts = [int(size) for size in sizes.split(",")]
        except ValueError:
            raise CommandError("--sizes must be whole numbers separated by commas, e.g. 5,52,520.") from None
        if repeats < 1 or any(count < 1 for count in counts):
            raise CommandError("--repeats and every size must be at least 1.")
        self.stdout.write(
            f"Database: {connection.vendor}; {repeats} timed repeats per size. Medians, and the fastest run in "
            "brackets (less disturbed by other work on the machine)."
        )
        self.stdout.write(f"{'sessions':>8}  {'page ms':>16}  {'raw SQL ms':>16}  {'ratio':>6}  {'(fastest)':>9}")
        with transaction.atomic():
            therapist = self._therapist()
            http = HttpClient(HTTP_HOST=_host())
            http.force_login(therapist)
            for count in counts:
                client = self._client_with_sessions(therapist, count)
                page, raw = self._time(http, client, count, repeats)
                ratio = statistics.median(page) / statistics.median(raw)
                self.stdout.write(
                    f"{count:>8}  {_ms(page, 1)}  {_ms(raw, 2)}  {ratio:>5.0f}x  {min(page) / min(raw):>8.0f}x"
                )
            transaction.set_rollback(True)
        self.stdout.write("Benchmark data rolled back.")

    def _therapist(self) -> User:
        user = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:12]}", password=None)
        user.groups.add(Group.objects.get(name=THERAPIST))
        return user

    def _client_with_sessions(self, therapist: User, count: int) -> Client:
        client = Client.objects.create(first_name="Bench", last_name=f"Client {count}")
        client.therapists.add(therapist)
        today = timezone.localdate()
        first_day = today - dt.timedelta(days=7 * count)
        self._phases(client, first_day - dt.timedelta(days=30), today)
        techniques = list(Technique.objects.order_by("pk")[:4])
        sessions = TreatmentSession.objects.bulk_create(
            [
                TreatmentSession(
                    client=client,
                    therapist=therapist,
                    started_at=timezone.make_aware(
                        dt.datetime.combine(first_day + dt.timedelta(weeks=week), dt.time(10))
                    ),
                    pain_before=3 + week % 5,
                    pain_after=2 + week % 4,
                    fatigue_before=4 + week % 5,
                    fatigue_after=3 + week % 3,
                    status=SessionStatus.SIGNED,
                    signed_at=timezone.now(),
                    signed_by=therapist,
                )
                for week in range(count)
            ]
        )
        TechniqueUse.objects.bulk_create(
            [
                TechniqueUse(
                    session=session, technique=techniques[(index + offset) % len(techniques)], body_region=region
                )
                for index, session in enumerate(sessions)
                for offset, region in enumerate(["upper_back", "foot_left"])
            ]
        )
        return client

    def _phases(self, client: Client, start: dt.date, today: dt.date) -> None:
        day, episodes, index = start, [], 0
        while True:
            phase, length = PHASE_CYCLE[index % len(PHASE_CYCLE)]
            end = day + dt.timedelta(days=length)
            if end >= today:
                episodes.append(DiseasePhase(client=client, phase=phase, started_on=day))
                break
            episodes.append(DiseasePhase(client=client, phase=phase, started_on=day, ended_on=end))
            day, index = end, index + 1
        DiseasePhase.objects.bulk_create(episodes)

    def _time(self, http: HttpClient, client: Client, count: int, repeats: int) -> tuple[list[float], list[float]]:
        url = reverse("trends:page", args=[client.pk]) + "?range=all"
        response = http.get(url)  # warm up; and check the page really shows every session
        expected = f"All {count} session{'s' if count != 1 else ''} in this range".encode()
        if response.status_code != 200 or expected not in response.content:
            raise CommandError(f"The trend page did not show {count} sessions (status {response.status_code}).")
        page = [_timed(lambda: http.get(url)) for _ in range(repeats)]
        raw = [_timed(lambda: _raw_fetch(client.pk)) for _ in range(repeats)]
        return page, raw


def _ms(seconds: list[float], digits: int) -> str:
    text = f"{statistics.median(seconds) * 1000:.{digits}f} ({min(seconds) * 1000:.{digits}f})"
    return f"{text:>16}"


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _raw_fetch(client_id: int) -> None:
    """The same rows the page reads: the client's sessions, then their technique uses with names."""
    sessions = TreatmentSession._meta.db_table
    uses = TechniqueUse._meta.db_table
    techniques = Technique._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, started_at, status, duration_minutes, setting, pain_before, pain_after, "
            f"fatigue_before, fatigue_after FROM {sessions} WHERE client_id = %s ORDER BY started_at, id",
            [client_id],
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT u.session_id, t.name FROM {uses} u JOIN {techniques} t ON t.id = u.technique_id "
            f"JOIN {sessions} s ON s.id = u.session_id WHERE s.client_id = %s ORDER BY u.session_id, u.id",
            [client_id],
        )
        cursor.fetchall()


def _host() -> str:
    hosts = [host for host in settings.ALLOWED_HOSTS if host and "*" not in host and not host.startswith(".")]
    return hosts[0] if hosts else "localhost"
