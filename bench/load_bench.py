"""Load test: `onaboard serve` (gunicorn, production settings) on PostgreSQL under 50 concurrent users.

    .venv/bin/python bench/load_bench.py [--users 50] [--duration 60] [--patients 300] [--database-url postgres://...]

Builds a throwaway clinic in a fresh PostgreSQL database (named after ONABOARD_TEST_DATABASE_URL's server,
dropped afterwards; or ``--database-url`` of an empty database you made): the demo clinic, grown to ``--patients``
(default 300, a clinic of realistic size) with copies of the demo patients' diaries and sessions. It starts
`onaboard serve` with its default workers and threads (or ``--workers``/``--threads``), the production settings
plus one bare view (bench/load_settings.py), opens the worklist once (the day's first view, which fills the shared
pathway cache), then runs two phases with a bounded asyncio client (httpx):

1. the bare view (a constant response through the whole middleware stack), users without pauses, for a tenth of
   the duration: the machine's ceiling for a Django request;
2. the mix, each user pausing 1-4 s between actions like a person (``--think``): patients not yet treated saving
   diary days (API PUT, a new date each time), clinicians opening the worklist (the dashboard page, signed in
   through the login form), nurses recording injection sessions (API POST, a new date each time, with an override
   reason as the dates are not 12 weeks apart) and API readers (patient list, a diary range, the worklist).

It prints p50/p95/p99 per action, errors, throughput, the mix's throughput as a ratio of the bare view's, the app
server's CPU time per request in each phase (the steady figure on a shared machine), and checks that the diary
rows (and injection sessions) written equal the ones acknowledged. Exit 1 when a target is missed: dashboard p95
under 150 ms (unless ``--no-latency-target``), no errors, no lost writes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.ops.serving import (  # noqa: E402
    PROXY_HEADERS,
    Server,
    django_json,
    manage,
    production_env,
    throwaway_postgres,
)

from onaboard.clinical import preempt_plan  # noqa: E402
from onaboard.commands.ops import SERVE_THREADS, default_workers  # noqa: E402

LOAD_SETTINGS = "bench.load_settings"
DASHBOARD_P95_TARGET_MS = 150.0
DEMO_PASSWORD = "onaboard-demo"  # noqa: S105 - the synthetic demo clinic's published password
THINK_SECONDS = (1.0, 4.0)
"""A person's pause between actions (reading the page, typing): uniform in this range, 2.5 s on average."""
_TODAY = datetime.now(tz=UTC).date()
DIARY_EPOCH = _TODAY - timedelta(days=12 * 365)
"""Diary days the load writes start here, long before the demo diaries, so every PUT creates a new row; and after
every demo patient's birth (the youngest is 16 today), since a diary day before the birth date is refused."""
DIARY_END = _TODAY - timedelta(days=9 * 365)
SESSION_EPOCH = _TODAY - timedelta(days=8 * 365)
"""Sessions the load records are dated from here (before the demo's sessions, after every birth), one new date per
recording."""
SESSION_END = _TODAY - timedelta(days=4 * 365)
FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)
"""One connection per request, as a reverse proxy talks to its app servers by default (nginx: HTTP/1.0 upstream)."""
MIX = (("diary entry", 0.35), ("dashboard", 0.30), ("api read", 0.25), ("session recording", 0.10))

COUNT_LOAD_ROWS = f"""
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession
result = {{
    "diary": DiaryEntry.objects.filter(date__gte="{DIARY_EPOCH}", date__lt="{DIARY_END}").count(),
    "sessions": InjectionSession.objects.filter(
        date__gte="{SESSION_EPOCH}", date__lt="{SESSION_END}", status="recorded"
    ).count(),
}}
"""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    diary_acknowledged: int = 0
    sessions_acknowledged: int = 0

    def record(self, action: str, seconds: float) -> None:
        self.latencies.setdefault(action, []).append(seconds)

    def error(self, action: str, what: str) -> None:
        self.errors.setdefault(action, []).append(what)


@dataclass
class World:
    url: str
    clinician_token: str
    nurse_token: str
    patients: list[tuple[str, str]]
    """(API token, patient id) of the own login of each demo patient not yet treated (``TOKENS``)."""
    staff_patients: list[str]
    """The patients the load records sessions for: all but those writing diary days."""
    dashboard_cookies: list[str]
    think: tuple[float, float] = THINK_SECONDS
    diary_dates: itertools.count = field(default_factory=itertools.count)
    session_dates: itertools.count = field(default_factory=itertools.count)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


# --- Setting up ---------------------------------------------------------------------------------------------


TOKENS = """
from onaboard.web.accounts.models import ApiToken, User
from onaboard.web.patients.models import Patient
result = {"staff": {}, "patients": []}
for name in ("dr.demo", "nurse.demo"):
    result["staff"][name] = ApiToken.issue(User.objects.get(username=name), "load")[1]
untreated = Patient.objects.filter(user__isnull=False).exclude(injection_sessions__status="recorded")
for patient in untreated.select_related("user").order_by("record_number"):
    result["patients"].append([ApiToken.issue(patient.user, "load")[1], str(patient.external_id)])
writers = {patient_id for _token, patient_id in result["patients"]}
everyone = [str(p.external_id) for p in Patient.objects.order_by("record_number")]
result["all"] = [patient_id for patient_id in everyone if patient_id not in writers]
"""
"""API tokens: the clinician's, the nurse's, and those of the demo patients not yet treated, who write the load's
diary days; sessions are recorded for every other patient. A treated patient no longer writes days before their
first session (``diary.services.before_treatment_problem``), and the load's days are years before the demo's."""


GROW_CLINIC = """
from django.db import transaction
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession
from onaboard.web.patients.models import Patient

def copied(row, **changes):
    names = [f.attname for f in type(row)._meta.concrete_fields if f.name not in ("id", "external_id")]
    return type(row)(**{{**{{name: getattr(row, name) for name in names}}, **changes}})

demo = list(Patient.objects.order_by("record_number"))
diaries = {{p.pk: list(DiaryEntry.objects.filter(patient=p)) for p in demo}}
sessions = {{p.pk: list(InjectionSession.objects.filter(patient=p).exclude(status="cancelled")) for p in demo}}
with transaction.atomic():
    for n in range(max(0, {patients} - len(demo))):
        source = demo[n % len(demo)]
        copy = copied(source, user_id=None, record_number=f"{{source.record_number}}-{{n // len(demo) + 1:03d}}")
        copy.save()
        DiaryEntry.objects.bulk_create([copied(row, patient_id=copy.pk) for row in diaries[source.pk]])
        InjectionSession.objects.bulk_create([copied(row, patient_id=copy.pk) for row in sessions[source.pk]])
result = {{"patients": Patient.objects.count(), "diary rows": DiaryEntry.objects.count()}}
"""
"""Copies of the demo patients (diaries and sessions included, no portal login) until the clinic has ``patients``:
a clinic of realistic size for the worklist, whose states are the demo's own spread over the pathway."""
CLINIC_PATIENTS = 300
"""A clinic of realistic size: a few hundred patients on the pathway (the demo alone has 13)."""


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def _remember(jar: dict[str, str], response: httpx.Response) -> None:
    # Production cookies are Secure; the proxy header stands in for TLS, so the cookies are carried by hand.
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def sign_in(url: str, username: str) -> str:
    """Sign in through the login form (CSRF and all) and return the Cookie header of the signed-in session."""
    jar: dict[str, str] = {}
    origin = "https://" + url.removeprefix("http://")
    with httpx.Client(base_url=url, headers=PROXY_HEADERS, timeout=30) as client:
        page = client.get("/accounts/login/")
        _remember(jar, page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = client.post(
            "/accounts/login/",
            data={"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Cookie": _cookie_header(jar), "Referer": f"{origin}/accounts/login/", "Origin": origin},
        )
        _remember(jar, answer)
        if answer.status_code != 302 or "sessionid" not in jar:
            raise RuntimeError(f"signing in as {username} failed: {answer.status_code}")
    return _cookie_header(jar)


def warm_up(world: World) -> None:
    """The day's first worklist computes every patient's pathway and fills the shared cache (a server that has run
    for a day is warm); the load measures the clinic after it."""
    with httpx.Client(base_url=world.url, headers=PROXY_HEADERS, timeout=120) as client:
        response = client.get("/worklist/", headers={"Cookie": world.dashboard_cookies[0]})
        response.raise_for_status()


# --- The actions ----------------------------------------------------------------------------------------------


def _site_payload() -> list[dict[str, object]]:
    return [
        {"muscle": s.muscle.value, "side": s.side.value, "units": s.units, "follow_the_pain": s.follow_the_pain}
        for s in preempt_plan().sites
    ]


SITES = _site_payload()


async def diary_entry(client: httpx.AsyncClient, world: World, stats: Stats, rng: random.Random) -> bool:
    n = next(world.diary_dates)
    day = DIARY_EPOCH + timedelta(days=n // len(world.patients))
    token, patient = world.patients[n % len(world.patients)]
    hours = rng.choice([0, 0, 2, 5, 9])
    body = {"headache_hours": hours, "intensity": "moderate" if hours else "", "nausea": bool(hours and n % 2)}
    response = await client.put(
        f"/api/patients/{patient}/diary/{day.isoformat()}", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code == 200:
        stats.diary_acknowledged += 1
        return True
    stats.error("diary entry", f"{response.status_code} {response.text[:120]}")
    return False


async def dashboard(client: httpx.AsyncClient, world: World, stats: Stats, rng: random.Random) -> bool:
    cookie = world.dashboard_cookies[rng.randrange(len(world.dashboard_cookies))]
    response = await client.get("/worklist/", headers={"Cookie": cookie})
    if response.status_code == 200 and "<table" in response.text:
        return True
    stats.error("dashboard", f"{response.status_code}")
    return False


async def api_read(client: httpx.AsyncClient, world: World, stats: Stats, rng: random.Random) -> bool:
    auth = {"Authorization": f"Bearer {world.clinician_token}"}
    choice = rng.randrange(3)
    if choice == 0:
        response = await client.get("/api/patients", headers=auth)
    elif choice == 1:
        patient = world.staff_patients[rng.randrange(len(world.staff_patients))]
        response = await client.get(f"/api/patients/{patient}/diary", headers=auth)
    else:
        response = await client.get("/api/worklist", headers=auth)
    if response.status_code == 200:
        return True
    stats.error("api read", f"{response.status_code} {response.request.url.path}")
    return False


async def session_recording(client: httpx.AsyncClient, world: World, stats: Stats, rng: random.Random) -> bool:
    n = next(world.session_dates)
    patient = world.staff_patients[n % len(world.staff_patients)]
    day = SESSION_EPOCH + timedelta(days=n // len(world.staff_patients))
    body = {
        "date": day.isoformat(),
        "sites": SITES,
        "vial_units": 200,
        "product_lot": f"LOAD{n:05d}",
        "product_expiry": (day + timedelta(days=365)).isoformat(),
    }
    if n >= len(world.staff_patients):
        # the patient's load session of the day before fails the 12-week interval check; a first one fails none, and
        # a reason with no failed check is refused (OVERRIDE_NOT_NEEDED)
        body["override_reason"] = "Load test: sessions on consecutive days."
    response = await client.post(
        f"/api/patients/{patient}/sessions", json=body, headers={"Authorization": f"Bearer {world.nurse_token}"}
    )
    if response.status_code == 201:
        stats.sessions_acknowledged += 1
        return True
    stats.error("session recording", f"{response.status_code} {response.text[:160]}")
    return False


ACTIONS = {
    "diary entry": diary_entry,
    "dashboard": dashboard,
    "api read": api_read,
    "session recording": session_recording,
}


async def timed(action: str, client: httpx.AsyncClient, world: World, stats: Stats, rng: random.Random) -> None:
    started = time.perf_counter()
    try:
        await ACTIONS[action](client, world, stats, rng)
    except httpx.HTTPError as error:
        stats.error(action, f"{type(error).__name__}: {error}")
    stats.record(action, time.perf_counter() - started)


async def mixed_user(seed: int, world: World, stats: Stats, until: float) -> None:
    rng = random.Random(seed)
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    async with httpx.AsyncClient(
        base_url=world.url, headers=PROXY_HEADERS, timeout=30, limits=FRESH_CONNECTIONS
    ) as client:
        await asyncio.sleep(rng.uniform(0, world.think[1]))
        while time.monotonic() < until:
            await timed(rng.choices(names, weights)[0], client, world, stats, rng)
            await asyncio.sleep(rng.uniform(*world.think))


async def bare_user(world: World, stats: Stats, until: float) -> None:
    async with httpx.AsyncClient(
        base_url=world.url, headers=PROXY_HEADERS, timeout=30, limits=FRESH_CONNECTIONS
    ) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                response = await client.get("/bench/bare/")
                if response.status_code != 200:
                    stats.error("bare view", str(response.status_code))
            except httpx.HTTPError as error:
                stats.error("bare view", type(error).__name__)
            stats.record("bare view", time.perf_counter() - started)


def server_cpu_seconds(session: int) -> float:
    """CPU seconds used so far by the processes of `onaboard serve` (gunicorn's master and its workers, which share
    the session the server was started in), workers that have already exited included (their master's reaped
    children). On a machine others share, this is the steady figure: wall-clock latency moves with their load."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # after the command: state ppid pgrp session ...; utime stime cutime cstime are the 12th to 15th
            if int(fields[3]) == session:
                total += sum(int(value) for value in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    seconds: float
    cpu_seconds: float
    """The app server's CPU time during the phase (``server_cpu_seconds``)."""


async def run_phase(users: int, seconds: float, make, server_session: int) -> Phase:
    started = time.monotonic()
    cpu = server_cpu_seconds(server_session)
    until = started + seconds
    await asyncio.gather(*(make(i, until) for i in range(users)))
    return Phase(time.monotonic() - started, server_cpu_seconds(server_session) - cpu)


# --- Reporting -------------------------------------------------------------------------------------------------


def report(
    stats: Stats, bare: Stats, mixed: Phase, bare_phase: Phase, users: int, think: tuple[float, float]
) -> dict[str, float]:
    print(f"\n{'action':<20}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    figures: dict[str, float] = {}
    for name in [*(n for n, _ in MIX), "bare view"]:
        source = bare if name == "bare view" else stats
        values = source.latencies.get(name, [])
        if not values:
            continue
        errors = len(source.errors.get(name, []))
        p50, p95, p99 = (percentile(values, q) * 1000 for q in (0.50, 0.95, 0.99))
        figures[f"{name} p95"] = p95
        print(f"{name:<20}{len(values):>9}{errors:>8}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
    mixed_requests = sum(len(v) for v in stats.latencies.values())
    bare_requests = len(bare.latencies.get("bare view", []))
    mixed_rps = mixed_requests / mixed.seconds
    bare_rps = bare_requests / bare_phase.seconds
    figures["ratio"] = mixed_rps / bare_rps
    mean_mixed = statistics.fmean(v for vs in stats.latencies.values() for v in vs)
    mean_bare = statistics.fmean(bare.latencies["bare view"])
    print(
        f"\nthroughput: mix {mixed_rps:.1f} req/s ({users} users pausing {think[0]}-{think[1]} s), "
        f"bare view {bare_rps:.1f} req/s ({users} users, no pauses): ratio {figures['ratio']:.3f}"
    )
    print(f"mean latency: mix {mean_mixed * 1000:.1f} ms, bare view {mean_bare * 1000:.1f} ms")
    mixed_cpu_ms = mixed.cpu_seconds / mixed_requests * 1000
    bare_cpu_ms = bare_phase.cpu_seconds / bare_requests * 1000
    print(
        f"app server CPU: mix {mixed_cpu_ms:.1f} ms a request ({mixed.cpu_seconds / mixed.seconds:.2f} cores), "
        f"bare view {bare_cpu_ms:.1f} ms a request ({bare_phase.cpu_seconds / bare_phase.seconds:.2f} cores); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for name, problems in {**stats.errors, **bare.errors}.items():
        print(f"errors in {name}: {len(problems)}, e.g. {problems[:3]}")
    return figures


async def load(world: World, users: int, duration: float, server_session: int) -> tuple[Stats, Stats, Phase, Phase]:
    bare = Stats()
    bare_phase = await run_phase(
        users, max(duration / 10, 5), lambda i, until: bare_user(world, bare, until), server_session
    )
    stats = Stats()
    mixed = await run_phase(users, duration, lambda i, until: mixed_user(1000 + i, world, stats, until), server_session)
    return stats, bare, mixed, bare_phase


SERVER_TRIES = 3


def start_server(env: dict[str, str], log: Path, workers: int, threads: int) -> Server:
    """`onaboard serve` with the load settings. Other test suites on the machine take ports from the same range, and
    one may bind the free port found before gunicorn does (after collectstatic): then try another port."""
    for attempt in range(1, SERVER_TRIES + 1):
        try:
            return Server(env, settings=LOAD_SETTINGS, workers=workers, log=log, threads=threads)
        except AssertionError as error:
            if attempt == SERVER_TRIES or "Address already in use" not in str(error):
                raise
            print("the port was taken meanwhile; starting the server again", flush=True)
    raise AssertionError  # unreachable: the last attempt returns or raises


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the mixed phase")
    parser.add_argument(
        "--patients", type=int, default=CLINIC_PATIENTS, help="clinic size: the demo's patients and copies of them"
    )
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="gunicorn worker processes (default: onaboard serve's)"
    )
    parser.add_argument(
        "--threads", type=int, default=SERVE_THREADS, help="threads per worker (default: onaboard serve's)"
    )
    parser.add_argument(
        "--think", type=float, nargs=2, default=THINK_SECONDS, metavar=("MIN", "MAX"), help="pause range, seconds"
    )
    parser.add_argument(
        "--no-latency-target",
        dest="latency_target",
        action="store_false",
        help="report the dashboard p95 without failing on it (a shared CI machine); errors and lost writes still fail",
    )
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a throwaway one)")
    options = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="onaboard-load-")))
        database_url = options.database_url
        if database_url is None:
            if not os.environ.get("ONABOARD_TEST_DATABASE_URL"):
                print("set ONABOARD_TEST_DATABASE_URL (a PostgreSQL server) or pass --database-url", file=sys.stderr)
                return 2
            database_url = stack.enter_context(throwaway_postgres("load"))
        env = production_env(folder / "data", database_url)
        env["GUNICORN_CMD_ARGS"] = "--access-logfile=/dev/null"
        print("setting up the demo clinic on PostgreSQL ...", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        clinic = django_json(env, GROW_CLINIC.format(patients=options.patients))
        print(f"{clinic['patients']} patients, {clinic['diary rows']} diary rows", flush=True)
        ids = django_json(env, TOKENS)
        server = start_server(env, folder / "serve.log", options.workers, options.threads)
        stack.callback(server.stop)
        world = World(
            url=server.url,
            clinician_token=ids["staff"]["dr.demo"],
            nurse_token=ids["staff"]["nurse.demo"],
            patients=[tuple(pair) for pair in ids["patients"]],
            staff_patients=ids["all"],
            dashboard_cookies=[sign_in(server.url, "dr.demo") for _ in range(3)],
            think=(options.think[0], options.think[1]),
        )
        warm_up(world)
        before = django_json(env, COUNT_LOAD_ROWS)
        print(
            f"{options.users} users: bare view, then the mix for {options.duration:.0f} s "
            f"({options.workers} workers x {options.threads} threads) ...",
            flush=True,
        )
        stats, bare, mixed, bare_phase = asyncio.run(load(world, options.users, options.duration, server.process.pid))
        after = django_json(env, COUNT_LOAD_ROWS)
        figures = report(stats, bare, mixed, bare_phase, options.users, world.think)
        diary_rows = after["diary"] - before["diary"]
        session_rows = after["sessions"] - before["sessions"]
        print(f"diary rows written {diary_rows}, entries acknowledged {stats.diary_acknowledged}")
        print(f"sessions recorded {session_rows}, recordings acknowledged {stats.sessions_acknowledged}")
        errors = sum(len(v) for v in stats.errors.values()) + sum(len(v) for v in bare.errors.values())
        missed = []
        if options.latency_target and figures.get("dashboard p95", float("inf")) >= DASHBOARD_P95_TARGET_MS:
            missed.append(f"dashboard p95 {figures.get('dashboard p95', 0):.0f} ms >= {DASHBOARD_P95_TARGET_MS:.0f}")
        if errors:
            missed.append(f"{errors} errors")
        if diary_rows != stats.diary_acknowledged or session_rows != stats.sessions_acknowledged:
            missed.append("writes lost or unacknowledged")
        print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
        return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
