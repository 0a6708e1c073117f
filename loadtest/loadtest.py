"""Load test: therapists browsing and logging sessions against a running app server, then a check of every write.

Run it through ``loadtest/run.sh``, which starts gunicorn on loopback against PostgreSQL. Three steps:

    loadtest.py prepare --users 50            # therapists load-01..load-50, each caring for 20 clients
    loadtest.py run --base-url http://127.0.0.1:8765 --users 50 --duration 60 --json out.json
    loadtest.py verify --results out.json     # every session the run created is in the database exactly once

Each virtual therapist signs in through the sign-in page before the clock starts (the ``sign-in`` step, two at a
time, keeps their cookies for ``run``), then loops until the
time is up: caseload, a client's record, their trend page, the new-session form, a POST of the form
(each session carries a unique marker in its notes), the saved session. Standard library only: the load
generator is one process of threads, bounded by ``--duration`` and ``--max-requests`` per user, and it
only talks to 127.0.0.1.
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import resource
import secrets
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USERNAME = "load-{:02d}"
PASSWORD = "load-test-therapist-2026"
CLIENTS_PER_THERAPIST = 20
MARKER = "loadtest {run} {user} #{n}"
REQUEST_TIMEOUT = 15.0
# Sign-ins in flight together: about the server's cores, so each password check gets one.
SIGN_INS_AT_ONCE = 2


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "practice.settings")
    import django

    django.setup()


# --- prepare and verify (in the database) -----------------------------------------------------------------------------


def prepare(users: int) -> None:
    """Therapists load-01.. with a password, each caring for their own demo clients (seeded if missing)."""
    setup_django()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from clients.models import Client
    from devtools import demo
    from practice.roles import THERAPIST

    needed = users * CLIENTS_PER_THERAPIST
    demo_clients = Client.objects.filter(email__endswith=f"@{demo.EMAIL_DOMAIN}", archived_at__isnull=True)
    if demo_clients.count() < needed:
        call_command("seed_demo", "--clients", str(needed), "--no-progress")
    ids = list(demo_clients.order_by("pk").values_list("pk", flat=True)[:needed])
    group = Group.objects.get(name=THERAPIST)
    through = Client.therapists.through
    for number in range(1, users + 1):
        user, created = User.objects.get_or_create(
            username=USERNAME.format(number), defaults={"first_name": "Load", "last_name": f"Therapist {number}"}
        )
        if created or not user.check_password(PASSWORD):
            user.set_password(PASSWORD)
            user.save()
        user.groups.add(group)
        mine = ids[(number - 1) * CLIENTS_PER_THERAPIST : number * CLIENTS_PER_THERAPIST]
        have = set(through.objects.filter(user=user).values_list("client_id", flat=True))
        through.objects.bulk_create([through(user=user, client_id=pk) for pk in mine if pk not in have])
    print(f"{users} load-test therapists ready, {CLIENTS_PER_THERAPIST} clients each.")


PAGE_PATTERNS = [
    ("caseload", re.compile(r"^GET /clients/$")),
    ("client record", re.compile(r"^GET /clients/\d+/$")),
    ("trend page", re.compile(r"^GET /clients/\d+/trends/$")),
    ("session form", re.compile(r"^GET /clients/\d+/sessions/new/$")),
    ("log session", re.compile(r"^POST /clients/\d+/sessions/new/$")),
    ("session", re.compile(r"^GET /sessions/\d+/$")),
]


def server_times(log_path: str) -> dict:
    """Server time per request from gunicorn's access log ("METHOD PATH STATUS MICROSECONDS" lines).

    What the workers spent, without the wait for a free worker and without the load generator's own delays.
    """
    times: dict[str, list[float]] = {}
    for line in Path(log_path).read_text().splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        request = f"{parts[0]} {parts[1]}"
        kind = next((name for name, pattern in PAGE_PATTERNS if pattern.match(request)), "other")
        times.setdefault(kind, []).append(int(parts[3]) / 1000)
    every = [ms for values in times.values() for ms in values]
    return {"all": {"requests": len(every), **percentiles(every)}} | {
        kind: {"requests": len(values), **percentiles(values)} for kind, values in sorted(times.items())
    }


def verify(results_path: str) -> bool:
    """Every session the run saw created is in the database exactly once, and nothing else carries its run id."""
    setup_django()
    from django.db.models import Count

    from sessions.models import TreatmentSession

    results = json.loads(Path(results_path).read_text())
    run = results["run_id"]
    attempts = results["writes"]
    rows = (
        TreatmentSession.objects.filter(subjective__startswith=f"loadtest {run} ")
        .values("subjective")
        .annotate(n=Count("pk"))
    )
    in_db = {row["subjective"]: row["n"] for row in rows}
    ids = dict(
        TreatmentSession.objects.filter(subjective__startswith=f"loadtest {run} ").values_list("subjective", "pk")
    )
    created = [w for w in attempts if w["session_id"] is not None]
    unconfirmed = [w for w in attempts if w["session_id"] is None]
    lost = [w["marker"] for w in created if in_db.get(w["marker"], 0) == 0]
    doubled = [marker for marker, n in in_db.items() if n > 1]
    wrong_id = [w["marker"] for w in created if w["marker"] in ids and ids[w["marker"]] != w["session_id"]]
    unknown = sorted(set(in_db) - {w["marker"] for w in attempts})
    unconfirmed_saved = [w["marker"] for w in unconfirmed if in_db.get(w["marker"], 0) == 1]
    report = {
        "run_id": run,
        "sessions_created": len(created),
        "rows_in_database": sum(in_db.values()),
        "lost": len(lost),
        "doubled": len(doubled),
        "wrong_id": len(wrong_id),
        "not_attempted": len(unknown),
        "attempts_without_answer": len(unconfirmed),
        "of_which_saved": len(unconfirmed_saved),
    }
    ok = not (lost or doubled or wrong_id or unknown) and sum(in_db.values()) == len(created) + len(unconfirmed_saved)
    print("Verification: " + json.dumps(report))
    print(
        f"{'OK' if ok else 'FAILED'}: {len(created)} sessions created by the load test, "
        f"{sum(in_db.values())} rows carry its markers; {len(lost)} lost, {len(doubled)} doubled."
    )
    return ok


# --- the load ---------------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer (timeout, connection error)
    ms: float
    ok: bool


@dataclass
class Therapist:
    """One virtual therapist: their own connection and cookies, like one browser."""

    username: str
    base: str
    rng: random.Random
    cookies: dict[str, str] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    writes: list[dict] = field(default_factory=list)

    def __post_init__(self):
        parts = urlsplit(self.base)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("The load test only runs against loopback (127.0.0.1).")
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT)

    def request(self, kind: str, method: str, path: str, data: dict | None = None, expect=(200,)):
        body = urlencode(data, doseq=True) if data is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.samples.append(Sample(kind, 0, (time.perf_counter() - start) * 1000, False))
            return None, "", ""
        elapsed = (time.perf_counter() - start) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        self.samples.append(Sample(kind, response.status, elapsed, response.status in expect))
        return response.status, content, response.getheader("Location", "")

    def sign_in(self) -> bool:
        from devtools.html_forms import FormFields

        _status, html, _location = self.request("sign-in form", "GET", "/accounts/login/")
        form = FormFields(html, "username")
        data = {**form.fields, "username": [self.username], "password": [PASSWORD]}
        status, _html, location = self.request("sign in", "POST", "/accounts/login/", data, expect=(302,))
        return status == 302 and "/accounts/login/" not in location

    def visit(self, run: str, number: int) -> None:
        from devtools.html_forms import SESSION_FORM_FIELD, FormFields, confirm_findings, fill_session_form

        _status, html, _location = self.request("caseload", "GET", "/clients/")
        client_ids = re.findall(r'href="/clients/(\d+)/"', html)
        if not client_ids:
            return
        client = self.rng.choice(client_ids)
        self.think()
        self.request("client record", "GET", f"/clients/{client}/")
        self.think()
        self.request("trend page", "GET", f"/clients/{client}/trends/")
        self.think()
        form_path = f"/clients/{client}/sessions/new/"
        _status, html, _location = self.request("session form", "GET", form_path)
        self.think()
        marker = MARKER.format(run=run, user=self.username, n=number)
        data = fill_session_form(FormFields(html, SESSION_FORM_FIELD), marker=marker)
        write = {"marker": marker, "session_id": None, "status": None}
        self.writes.append(write)
        # A 200 is the form again: the safety screen showed findings (a flare, heat...). The therapist reads
        # them, confirms and saves again; if that is refused too, it counts as an error.
        status, html, location = self.request("log session", "POST", form_path, data, expect=(302, 200))
        if status == 200:
            data = confirm_findings(FormFields(html, SESSION_FORM_FIELD), data)
            status, html, location = self.request("log session, confirmed", "POST", form_path, data, expect=(302,))
        write["status"] = status
        match = re.search(r"/sessions/(\d+)/", location or "")
        if status == 302 and match:
            write["session_id"] = int(match.group(1))
            self.request("session", "GET", urlsplit(location).path)
        self.think()

    def think(self) -> None:
        time.sleep(self.rng.uniform(*THINK_SECONDS))


THINK_SECONDS = (0.2, 1.0)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def nearest_rank(fraction: float) -> float:
        return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]

    return {
        "p50": round(nearest_rank(0.50), 1),
        "p90": round(nearest_rank(0.90), 1),
        "p95": round(nearest_rank(0.95), 1),
        "p99": round(nearest_rank(0.99), 1),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


def sign_in_all(therapists: list["Therapist"], at_once: int = SIGN_INS_AT_ONCE) -> int:
    """Sign every therapist in, ``at_once`` at a time, each trying up to three times; how many failed.

    Password hashing is slow on purpose (hundreds of ms of CPU each): fifty at once on two cores would queue
    past any sane timeout, and a real practice's therapists do not all sign in in the same second.
    """
    gate = threading.Semaphore(at_once)

    def sign_in(therapist: Therapist) -> bool:
        with gate:
            return any(therapist.sign_in() for _attempt in range(3))

    return _in_threads(therapists, sign_in).count(False)


def save_cookies(therapists: list["Therapist"], path: str) -> None:
    Path(path).write_text(json.dumps({t.username: t.cookies for t in therapists}))


def load_cookies(therapists: list["Therapist"], path: str) -> bool:
    """The cookies of an earlier ``sign-in`` step, if there are some for every therapist."""
    try:
        saved = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return False
    if not all(t.username in saved for t in therapists):
        return False
    for therapist in therapists:
        therapist.cookies = dict(saved[therapist.username])
    return True


def run(base: str, users: int, duration: float, max_requests: int, out: str, seed: int, cookies: str = "") -> dict:
    run_id = uuid.uuid4().hex[:12]
    therapists = [Therapist(USERNAME.format(n), base, random.Random(f"{seed}-{n}")) for n in range(1, users + 1)]
    # Signed in before the clock starts (by the `sign-in` step, or here): the minute measures the work.
    if not (cookies and load_cookies(therapists, cookies)):
        print(f"Signing in {users} therapists, {SIGN_INS_AT_ONCE} at a time...", flush=True)
        if failed := sign_in_all(therapists):
            raise SystemExit(f"{failed} therapists could not sign in; run `loadtest.py prepare` first.")
    for therapist in therapists:
        therapist.samples.clear()
    print(f"Run {run_id}: {users} therapists for {duration:.0f} s...", flush=True)
    deadline = time.monotonic() + duration
    started = time.monotonic()

    def loop(therapist: Therapist) -> None:
        number = 0
        while time.monotonic() < deadline and len(therapist.samples) < max_requests:
            number += 1
            therapist.visit(run_id, number)

    _in_threads(therapists, loop)
    elapsed = time.monotonic() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    samples = [s for t in therapists for s in t.samples]
    writes = [w for t in therapists for w in t.writes]
    kinds = sorted({s.kind for s in samples})
    report = {
        "run_id": run_id,
        "base_url": base,
        "users": users,
        "duration_s": round(elapsed, 1),
        "think_s": THINK_SECONDS,
        "requests": len(samples),
        "errors": sum(not s.ok for s in samples),
        "throughput_rps": round(len(samples) / elapsed, 1),
        "latency_ms": percentiles([s.ms for s in samples]),
        "by_page": {
            kind: {
                "requests": sum(s.kind == kind for s in samples),
                "errors": sum(s.kind == kind and not s.ok for s in samples),
                **percentiles([s.ms for s in samples if s.kind == kind]),
            }
            for kind in kinds
        },
        "error_statuses": sorted({s.status for s in samples if not s.ok}),
        "sessions_created": sum(w["session_id"] is not None for w in writes),
        # The load generator shares the machine with the server: what it used, sign-in included.
        "load_generator_cpu_s": round(cpu.ru_utime + cpu.ru_stime, 1),
        "writes": writes,
    }
    Path(out).write_text(json.dumps(report, indent=2) + "\n")
    summary = {k: v for k, v in report.items() if k != "writes"}
    print(json.dumps(summary, indent=2))
    return report


def _in_threads(therapists: list[Therapist], work) -> list:
    results: list = [None] * len(therapists)

    def target(index: int) -> None:
        results[index] = work(therapists[index])

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(len(therapists))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * 20 + 600)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--users", type=int, default=50)
    r = sub.add_parser("run")
    r.add_argument("--base-url", default="http://127.0.0.1:8765")
    r.add_argument("--users", type=int, default=50)
    r.add_argument("--duration", type=float, default=60.0)
    r.add_argument("--max-requests", type=int, default=5000, help="Per therapist: a bound besides the time.")
    r.add_argument("--seed", type=int, default=secrets.randbelow(10_000))
    r.add_argument("--json", default="var/loadtest-results.json")
    s = sub.add_parser("sign-in", help="Sign every therapist in and keep their cookies for `run`.")
    s.add_argument("--base-url", default="http://127.0.0.1:8765")
    s.add_argument("--users", type=int, default=50)
    s.add_argument("--cookies", default="var/loadtest-cookies.json")
    r.add_argument("--cookies", default="", help="Cookies saved by the `sign-in` step.")
    v = sub.add_parser("verify")
    v.add_argument("--results", default="var/loadtest-results.json")
    v.add_argument("--server-log", help="gunicorn's access log of the run, for server-side times.")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        prepare(args.users)
        return 0
    if args.step == "sign-in":
        therapists = [Therapist(USERNAME.format(n), args.base_url, random.Random(n)) for n in range(1, args.users + 1)]
        started = time.monotonic()
        if failed := sign_in_all(therapists):
            print(f"{failed} therapists could not sign in; run `loadtest.py prepare` first.")
            return 1
        save_cookies(therapists, args.cookies)
        took = time.monotonic() - started
        print(f"{args.users} therapists signed in ({SIGN_INS_AT_ONCE} at a time) in {took:.1f} s.")
        return 0
    if args.step == "run":
        # Nothing here touches the database or needs Django: the form helpers are standard library only.
        report = run(args.base_url, args.users, args.duration, args.max_requests, args.json, args.seed, args.cookies)
        return 0 if report["errors"] == 0 else 1
    if args.server_log:
        results = json.loads(Path(args.results).read_text())
        results["server_ms"] = server_times(args.server_log)
        Path(args.results).write_text(json.dumps(results, indent=2) + "\n")
        print("Server time (gunicorn access log, ms):")
        for kind, figures in results["server_ms"].items():
            print(f"  {kind:<14} " + "  ".join(f"{key} {value}" for key, value in figures.items()))
    return 0 if verify(args.results) else 1


if __name__ == "__main__":
    sys.exit(main())
