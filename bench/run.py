"""The benchmark: kanban-api against a bare Starlette + asyncpg baseline, on PostgreSQL.

`nox -s bench` runs this (`python -m bench.run --help` for options). It creates a
PostgreSQL database, fills it with `kanban-api demo --plain`, starts `kanban-api serve`
as users run it (production settings, after `kanban-api migrate`; the command is
run as `python -P -m kanban_api` so that it is this interpreter's) and the baseline
(bench/baseline.py) the same way, drives them in turns with wrk and writes
results.md, results.json and list-latency.png to the output folder.

`--only` runs some of its parts: `baseline` (every scenario against the baseline, the
fresh list, the size sweep), `workers` (1 and 2 workers, the mixed clients),
`full-board` (the memory goal: concurrent unpaged lists of a board at the card
cap) and `before-after` (this version against another one installed for `--before`,
for example a checkout of an older commit in a venv of its own).

The server gets one CPU and wrk another (`taskset`), as far as the machine has
them; PostgreSQL runs where the OS puts it. Each wrk run is short, so the whole
bench takes a few minutes; numbers move between runs by several per cent, more
on a machine others are using, which results.md reports (load average).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

HERE = Path(__file__).parent
WRK_SCRIPT = HERE / "wrk" / "scenario.lua"
LIST_SIZE, BOARDS, LABELS = 500, 20, 2
LIST = f"GET /api/boards/{{id}}/cards ({LIST_SIZE} cards)"
FRESH_LIST = f"GET /api/boards/{{id}}/cards ({LIST_SIZE} cards just created, no ANALYZE)"
GET_CARD = "GET /api/cards/{id}"
GET_BOARDS = f"GET /api/boards ({BOARDS} boards)"
DRAG_ONE = "PATCH /api/cards/{id} column, one card"
DRAG_SPREAD = f"PATCH /api/cards/{{id}} column, over {BOARDS} boards"
MIXED_CLIENTS, MIXED_USERS = 50, 5
MIXED = f"{MIXED_CLIENTS} clients, one board, mixed, 2 workers"
# A card's description as people write them (the demo's are one short line).
DESCRIPTION = (
    "As a user I want this to work the way the team agreed on, with the details below. " * 4
).strip()
SIZES = (10, 100, 250, 500, 1000, 2500, 5000)
MEMORY_LIMIT_MB = 150
# Issue 12's goal: a worker answering this many unpaged lists at once of a board at the
# default card cap (KANBAN_MAX_CARDS_PER_BOARD) stays under FULL_BOARD_LIMIT_MB.
FULL_BOARD_CARDS, FULL_BOARD_CLIENTS, FULL_BOARD_LIMIT_MB = 5000, 20, 300
FULL_LIST = (
    f"GET /api/boards/{{id}}/cards ({FULL_BOARD_CARDS:,} cards), {FULL_BOARD_CLIENTS} clients"
)
# The kanban_api package installed in the interpreter's environment: -P keeps a checkout
# in the working directory (this one, when --before names another version) off sys.path.
KANBAN_API = ("-P", "-m", "kanban_api")
PARTS = ("baseline", "workers", "full-board", "before-after")
MIXED_P99_MS = 300
WRK_MISSING = """wrk, the load generator, is not installed. Install it with
  Debian/Ubuntu:  sudo apt-get install wrk
  macOS:          brew install wrk
then run the bench again."""


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    wrk_args: tuple[str, ...] = ("get",)
    authorized: bool = True
    # The baseline answers it too (it has no ordering service: no column changes).
    on_baseline: bool = True


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    # The server's own CPU time per request (its processes' user + system time over the
    # run); steadier than req/s when other processes take turns on the CPUs.
    cpu_us: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


@dataclass
class Run:
    """Everything measured, as written to results.json."""

    environment: dict[str, Any]
    app: dict[str, Result] = field(default_factory=dict)
    baseline: dict[str, Result] = field(default_factory=dict)
    app_sizes: dict[int, Result] = field(default_factory=dict)
    baseline_sizes: dict[int, Result] = field(default_factory=dict)
    workers: dict[str, Result] = field(default_factory=dict)
    memory_mb: dict[str, float] = field(default_factory=dict)
    # The goals: name → (measured ratio, goal), and the mixed run's p99.
    goals: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Issue 12's full board: the concurrent lists, and the worker's VmHWM before and after.
    full_board: Result | None = None
    full_board_mb: dict[str, float] = field(default_factory=dict)
    # This version and --before's, on the scenarios both answer.
    after: dict[str, Result] = field(default_factory=dict)
    before: dict[str, Result] = field(default_factory=dict)


class BenchError(Exception):
    """A step failed; the message says which and why."""


# --- processes --------------------------------------------------------------------------------


def cpus() -> tuple[list[str], list[str]]:
    """`taskset` prefixes for the server and for wrk: one CPU each, when there are two."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if shutil.which("taskset") is None or len(available) < 2:
        return [], []
    return ["taskset", "-c", str(available[0])], ["taskset", "-c", str(available[1])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A server process (and its workers) started in its own process group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [arg.replace("{port}", str(self.port)) for arg in command]
        self.log = log.open("w")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_ready(log)

    def _wait_ready(self, log: Path, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited at start; see {log}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/boards", timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # 401: it answers
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"{self.name} did not answer within {timeout:.0f} s; see {log}")

    def pids(self) -> list[int]:
        """The process and its descendants (uvicorn's workers when --workers > 1)."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                queue.extend(int(child) for child in task.read_text().split())
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far."""
        ticks = 0
        for pid in self.pids():
            # Fields after the command name, which is in parentheses and may hold spaces.
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def worker_peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident memory) of each process that serves requests.

        With --workers N, uvicorn's supervisor spawns them (multiprocessing
        `spawn_main`), next to multiprocessing's resource tracker, which serves none.
        """
        pids = self.pids()
        spawned = [pid for pid in pids[1:] if b"spawn_main" in _cmdline(pid)]
        return [_vm_hwm_mb(pid) for pid in spawned or pids[:1]]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _vm_hwm_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else float("nan")


@contextmanager
def serving(name: str, command: list[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    server = Server(name, command, env, log)
    try:
        yield server
    finally:
        server.stop()


# --- database and API -------------------------------------------------------------------------


def create_database(admin_url: str, name: str) -> str:
    """A fresh database named `name`; returns its URL."""
    url = make_url(admin_url)

    async def recreate() -> None:
        connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    try:
        asyncio.run(recreate())
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(
            f"cannot create database {name} at {url.render_as_string()}: {error}\n"
            "Start PostgreSQL or pass --postgres-url postgresql://user:password@host:port"
        ) from error
    return url.set(database=name).render_as_string(hide_password=False)


def analyze(database_url: str) -> None:
    """Fresh planner statistics after the bulk load, as autovacuum would soon make them."""

    async def vacuum() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()

    asyncio.run(vacuum())


def kanban_api(*args: str, env: dict[str, str], python: str = sys.executable) -> str:
    """Run the kanban-api command of `python`'s environment as a user would; its output."""
    command = [python, *KANBAN_API, *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"kanban-api {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def demo_command(python: str) -> tuple[str, ...]:
    """The command that makes plain demo data: `demo --plain`, or `seed` in older
    versions, which made the same users, boards and cards."""
    done = subprocess.run([python, *KANBAN_API, "demo", "--help"], capture_output=True, text=True)
    return ("demo", "--plain") if done.returncode == 0 else ("seed",)


def seed(
    env: dict[str, str], *, boards: int, cards: int, password: str, python: str = sys.executable
) -> str:
    """One user with `boards` boards of `cards` plain cards; their email."""
    out = kanban_api(
        *demo_command(python),
        "--users",
        "1",
        "--boards",
        str(boards),
        "--cards",
        str(cards),
        "--labels",
        str(LABELS),
        "--password",
        password,
        env=env,
        python=python,
    )
    return out.split()[0]


def call(
    url: str,
    *,
    token: str | None = None,
    form: dict[str, str] | None = None,
    body: Any = None,
    method: str | None = None,
) -> Any:
    data = urllib.parse.urlencode(form).encode() if form else None
    if body is not None:
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def login(server: Server, email: str, password: str) -> str:
    answer = call(f"{server.url}/api/auth/tokens", form={"username": email, "password": password})
    token: str = answer["access_token"]
    return token


# --- load -------------------------------------------------------------------------------------


def wrk(
    url: str,
    args: Sequence[str],
    *,
    token: str | None,
    seconds: int,
    connections: int,
    pin: list[str],
) -> Result:
    command = [*pin, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    command += ["-s", str(WRK_SCRIPT), url, "--", *args]
    done = subprocess.run(command, capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed on {url}:\n{done.stdout}{done.stderr}")
    stats = json.loads(line.removeprefix("BENCH "))
    if stats["non_2xx"] or stats["socket_errors"]:
        raise BenchError(
            f"{url}: {stats['non_2xx']} error answers, {stats['socket_errors']} "
            "socket errors; the server log says why"
        )
    return Result(
        requests=stats["requests"],
        seconds=stats["duration_us"] / 1e6,
        p50_ms=stats["p50_us"] / 1e3,
        p99_ms=stats["p99_us"] / 1e3,
    )


@dataclass
class Fixture:
    """The demo data the scenarios use."""

    email: str
    password: str
    token: str
    board_id: int
    card_ids: list[int]
    # A card of each of the user's boards, for writes spread over boards.
    spread_card_ids: list[int]
    boards_by_size: dict[int, tuple[int, str]]  # cards → (board id, its owner's token)


def scenarios(fixture: Fixture) -> list[Scenario]:
    form = urllib.parse.urlencode({"username": fixture.email, "password": fixture.password})
    card_id = fixture.card_ids[0]
    return [
        Scenario(LIST, f"/api/boards/{fixture.board_id}/cards"),
        Scenario(GET_CARD, f"/api/cards/{card_id}"),
        Scenario(GET_BOARDS, "/api/boards"),
        Scenario(
            "PATCH /api/cards/{id} title",
            "/",
            ("patch", ",".join(map(str, fixture.card_ids[:100]))),
        ),
        Scenario(DRAG_ONE, "/", ("column", str(fixture.card_ids[1])), on_baseline=False),
        Scenario(
            DRAG_SPREAD,
            "/",
            ("column", ",".join(map(str, fixture.spread_card_ids))),
            on_baseline=False,
        ),
        Scenario(
            "POST /api/auth/tokens (login)", "/api/auth/tokens", ("login", form), authorized=False
        ),
    ]


def measure(
    servers: Sequence[Server],
    fixtures: Sequence[Fixture],
    options: argparse.Namespace,
    pin: list[str],
    *,
    all_serve: bool = False,
) -> dict[str, dict[str, Result]]:
    """Each scenario on each server in turn: a warm-up, then the best of `--repeat` runs.

    `fixtures` are each server's data, in the order of `servers`. The scenarios the
    baseline does not answer run on the first server only, or not at all with
    `all_serve` (when every server must answer each scenario).

    Taking turns within a scenario, rather than one server after the other, keeps a
    change in the machine's load from landing on one side of a ratio; the best run
    is the one least disturbed by other processes.
    """
    results: dict[str, dict[str, Result]] = {server.name: {} for server in servers}
    tokens = {server.name: fixture.token for server, fixture in zip(servers, fixtures, strict=True)}
    per_server = [scenarios(fixture) for fixture in fixtures]
    for index, scenario in enumerate(per_server[0]):
        if all_serve and not scenario.on_baseline:
            continue
        # The same scenario on each server's own data.
        own = {server.name: mine[index] for server, mine in zip(servers, per_server, strict=True)}

        def load(server: Server, seconds: int, own: dict[str, Scenario] = own) -> Result:
            cpu_before = server.cpu_seconds()
            scenario = own[server.name]
            result = wrk(
                server.url + scenario.path,
                scenario.wrk_args,
                token=tokens[server.name] if scenario.authorized else None,
                seconds=seconds,
                connections=options.connections,
                pin=pin,
            )
            result.cpu_us = (server.cpu_seconds() - cpu_before) * 1e6 / result.requests
            return result

        serving = servers if scenario.on_baseline else servers[:1]
        for server in serving:
            load(server, 1)
        runs: dict[str, list[Result]] = {server.name: [] for server in serving}
        for _ in range(options.repeat):
            for server in serving:
                runs[server.name].append(load(server, options.seconds))
        for server in serving:
            best = max(runs[server.name], key=lambda result: result.rps)
            results[server.name][scenario.name] = best
            print(f"  {server.name:10} {scenario.name:38} {_brief(best)}")
    return results


def sweep(
    servers: Sequence[Server], fixture: Fixture, options: argparse.Namespace, pin: list[str]
) -> dict[str, dict[int, Result]]:
    """List latency against board size, one connection, so latency is the service time."""
    results: dict[str, dict[int, Result]] = {server.name: {} for server in servers}
    for size, (board_id, token) in sorted(fixture.boards_by_size.items()):
        for server in servers:
            result = wrk(
                f"{server.url}/api/boards/{board_id}/cards",
                ("get",),
                token=token,
                seconds=max(2, options.seconds // 2),
                connections=1,
                pin=pin,
            )
            results[server.name][size] = result
            print(f"  {server.name:10} list {size:>5} cards, 1 connection     {_brief(result)}")
    return results


def _cpu(result: Result) -> str:
    return "-" if result.cpu_us is None else f"{result.cpu_us:,.0f}"


def _brief(result: Result) -> str:
    brief = f"{result.rps:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms"
    if result.cpu_us is not None:
        brief += f"  CPU {result.cpu_us:7.0f} µs/req"
    return brief


# --- the run ----------------------------------------------------------------------------------


def prepare(
    env: dict[str, str],
    server: Server,
    *,
    sizes: Sequence[int] = SIZES,
    python: str = sys.executable,
) -> Fixture:
    """Make the bench's data with `kanban-api demo --plain` (one board per size in `sizes`
    too) and look up its ids through the API."""
    password = secrets.token_urlsafe(12)
    started = time.monotonic()
    email = seed(env, boards=BOARDS, cards=LIST_SIZE, password=password, python=python)
    size_users = {
        size: seed(env, boards=1, cards=size, password=password, python=python) for size in sizes
    }
    print(f"  demo data made in {time.monotonic() - started:.0f} s")
    token = login(server, email, password)
    board_ids = [board["id"] for board in call(f"{server.url}/api/boards", token=token)]
    board_id = board_ids[0]
    cards = call(f"{server.url}/api/boards/{board_id}/cards", token=token)
    spread = [
        call(f"{server.url}/api/boards/{other}/cards?limit=1", token=token)[0]["id"]
        for other in board_ids
    ]
    boards_by_size = {}
    for size, size_email in size_users.items():
        size_token = login(server, size_email, password)
        [board] = call(f"{server.url}/api/boards", token=size_token)
        boards_by_size[size] = (board["id"], size_token)
    return Fixture(
        email, password, token, board_id, [card["id"] for card in cards], spread, boards_by_size
    )


def fresh_board(server: Server, token: str) -> int:
    """A new board whose cards are created over HTTP, as a client or an import makes them
    (two labels and a paragraph of description each): the planner has no statistics
    about them yet. Its id."""
    board = call(f"{server.url}/api/boards", token=token, body={"title": "Fresh board"})
    cards = [
        {
            "title": f"Card {number}",
            "description": DESCRIPTION,
            "column": ("BACKLOG", "TODO", "DOING", "DONE")[number % 4],
            "labels": [("red", "blue", "green")[number % 3], "gray"],
        }
        for number in range(LIST_SIZE)
    ]
    call(f"{server.url}/api/boards/{board['id']}/cards", token=token, body=cards)
    board_id: int = board["id"]
    return board_id


def shared_board(server: Server, token: str, password: str) -> tuple[int, list[int], list[str]]:
    """A board of 100 cards shared with editors, for the mixed scenario: its id, its
    cards' ids and the tokens of its MIXED_USERS users (the owner's first)."""
    board_id = fresh_board(server, token)
    tokens = [token]
    for number in range(1, MIXED_USERS):
        email = f"editor{number}-{secrets.token_hex(4)}@example.com"
        call(f"{server.url}/api/users", body={"email": email, "password": password})
        user = call(f"{server.url}/api/users/search", token=token, body={"email": email})
        call(
            f"{server.url}/api/boards/{board_id}/users/{user['id']}",
            token=token,
            body={"role": "editor"},
            method="PUT",
        )
        tokens.append(login(server, email, password))
    cards = call(f"{server.url}/api/boards/{board_id}/cards?limit=100", token=token)
    return board_id, [card["id"] for card in cards], tokens


def environment(options: argparse.Namespace, pinned: bool) -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "pinned": pinned,
        "wrk": f"1 thread, {options.connections} connections, best of {options.repeat} runs "
        f"of {options.seconds} s per scenario",
        "load_average_at_start": os.getloadavg()[0],
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def serve_command(python: str = sys.executable, *, workers: int = 1) -> list[str]:
    """`kanban-api serve` of `python`'s environment, on the port Server picks."""
    command = [python, *KANBAN_API, "serve", "--port", "{port}"]
    return [*command, "--workers", str(workers)] if workers > 1 else command


def server_env(options: argparse.Namespace, database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "KANBAN_ENV": "production",
        "KANBAN_SECRET_KEY": secrets.token_urlsafe(48),
        "KANBAN_DATABASE_URL": database_url,
        # As deployed, rate limits on, counted across workers (in Redis unless --redis-url
        # is empty: then in the database, one autocommitted statement per request); the
        # limit high enough that the bench's few users never reach it.
        "KANBAN_RATE_LIMIT_PER_MINUTE": str(10**6),
    }
    if options.redis_url:
        env["KANBAN_REDIS_URL"] = options.redis_url
    return env


def run(options: argparse.Namespace) -> Run:
    if shutil.which("wrk") is None:
        raise BenchError(WRK_MISSING)
    server_pin, wrk_pin = cpus()
    results = Run(environment(options, pinned=bool(server_pin)))
    options.output.mkdir(parents=True, exist_ok=True)
    env = server_env(options, create_database(options.postgres_url, options.database))
    kanban_api("migrate", env=env)
    fixture = None
    if "baseline" in options.only:
        fixture = against_baseline(results, options, env, server_pin, wrk_pin)
    if "workers" in options.only:
        workers(results, options, env, fixture)
    if "full-board" in options.only:
        full_board(results, options, env, server_pin, wrk_pin)
    if "before-after" in options.only:
        before_after(results, options, server_pin, wrk_pin)
    results.environment["load_average_at_end"] = os.getloadavg()[0]
    results.goals = goals(results)
    return results


def against_baseline(
    results: Run,
    options: argparse.Namespace,
    env: dict[str, str],
    server_pin: list[str],
    wrk_pin: list[str],
) -> Fixture:
    """Every scenario on kanban-api and the baseline, the fresh list and the size sweep;
    the data made for them."""
    baseline = [sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", "{port}"]
    app_log, baseline_log = options.output / "app.log", options.output / "baseline.log"
    print("kanban-api and the baseline, one process each on the same CPU, taking turns:")
    with (
        serving("kanban-api", [*server_pin, *serve_command()], env, app_log) as app,
        serving("baseline", [*server_pin, *baseline], env, baseline_log) as bare,
    ):
        fixture = prepare(env, app)
        analyze(env["KANBAN_DATABASE_URL"])
        measured = measure([app, bare], [fixture, fixture], options, wrk_pin)
        results.app, results.baseline = measured[app.name], measured[bare.name]
        print("  a board whose cards were just created over HTTP, listed at once (no ANALYZE):")
        fresh = fresh_board(app, fixture.token)
        results.app[FRESH_LIST] = wrk(
            f"{app.url}/api/boards/{fresh}/cards",
            ("get",),
            token=fixture.token,
            seconds=options.seconds,
            connections=options.connections,
            pin=wrk_pin,
        )
        print(f"  {app.name:10} {FRESH_LIST:38} {_brief(results.app[FRESH_LIST])}")
        sizes = sweep([app, bare], fixture, options, wrk_pin)
        results.app_sizes, results.baseline_sizes = sizes[app.name], sizes[bare.name]
        results.memory_mb["kanban-api, 1 worker, whole run"] = max(app.worker_peak_rss_mb())
        results.memory_mb["baseline, whole run"] = max(bare.worker_peak_rss_mb())
    return fixture


def workers(
    results: Run, options: argparse.Namespace, env: dict[str, str], fixture: Fixture | None
) -> None:
    """The list and the card read on 1 and 2 workers, and the mixed clients on 2."""
    print("kanban-api, 1 and 2 workers, unpinned (server, wrk and PostgreSQL share the CPUs):")
    for count in (1, 2):
        name = f"{count} worker{'s' * (count > 1)}"
        log = options.output / f"app-{count}-workers.log"
        with serving(name, serve_command(workers=count), env, log) as app:
            if fixture is None:
                fixture = prepare(env, app, sizes=())
                analyze(env["KANBAN_DATABASE_URL"])
            data: Fixture = fixture
            for scenario in scenarios(data)[:2]:
                key = f"{scenario.name}, {name}"

                def load(
                    seconds: int,
                    scenario: Scenario = scenario,
                    count: int = count,
                    token: str = data.token,
                ) -> Result:
                    return wrk(
                        app.url + scenario.path,
                        scenario.wrk_args,
                        token=token,
                        seconds=seconds,
                        connections=options.connections * count,
                        pin=[],
                    )

                # As in `measure`: a warm-up (each worker fills its own pool), then the best run.
                load(1)
                runs = [load(options.seconds) for _ in range(options.repeat)]
                results.workers[key] = max(runs, key=lambda result: result.rps)
                print(f"  {key:50} {_brief(results.workers[key])}")
            if count == 2:
                board_id, card_ids, tokens = shared_board(app, data.token, data.password)
                args = ("mixed", str(board_id), ",".join(map(str, card_ids)), ",".join(tokens))
                wrk(app.url, args, token=None, seconds=1, connections=MIXED_CLIENTS, pin=[])
                mixed = wrk(
                    app.url,
                    args,
                    token=None,
                    seconds=options.seconds,
                    connections=MIXED_CLIENTS,
                    pin=[],
                )
                results.workers[MIXED] = mixed
                print(f"  {MIXED:50} {_brief(mixed)}")
                for index, peak in enumerate(app.worker_peak_rss_mb(), 1):
                    results.memory_mb[f"2 workers, worker {index}"] = peak


def full_board(
    results: Run,
    options: argparse.Namespace,
    env: dict[str, str],
    server_pin: list[str],
    wrk_pin: list[str],
) -> None:
    """Issue 12's goal: a fresh worker answers FULL_BOARD_CLIENTS concurrent unpaged lists
    of a board at the default card cap; its peak resident memory (VmHWM) before and after."""
    print(f"kanban-api, 1 fresh worker, {FULL_BOARD_CLIENTS} clients listing a full board:")
    password = secrets.token_urlsafe(12)
    email = seed(env, boards=1, cards=FULL_BOARD_CARDS, password=password)
    analyze(env["KANBAN_DATABASE_URL"])
    log = options.output / "app-full-board.log"
    with serving("full board", [*server_pin, *serve_command()], env, log) as app:
        results.full_board_mb["at start"] = max(app.worker_peak_rss_mb())
        token = login(app, email, password)
        [board] = call(f"{app.url}/api/boards", token=token)
        results.full_board_mb["after one login"] = max(app.worker_peak_rss_mb())
        results.full_board = wrk(
            f"{app.url}/api/boards/{board['id']}/cards",
            ("get",),
            token=token,
            seconds=options.seconds,
            connections=FULL_BOARD_CLIENTS,
            pin=wrk_pin,
        )
        results.full_board_mb["peak"] = max(app.worker_peak_rss_mb())
    print(f"  {FULL_LIST:50} {_brief(results.full_board)}")
    print(f"  peak memory of the worker: {results.full_board_mb['peak']:.0f} MB")


def before_after(
    results: Run, options: argparse.Namespace, server_pin: list[str], wrk_pin: list[str]
) -> None:
    """Today's kanban-api and the one installed for `--before` (each on a database of
    its own, made and filled by its own version), taking turns on the scenarios both
    answer. Rate limits are off in both: versions before commit b299bda have none."""
    print("kanban-api, this version and --before, one process each on the same CPU, in turns:")
    servers, fixtures = [], []
    with contextlib.ExitStack() as stack:
        for name, python in (("after", sys.executable), ("before", options.before)):
            database_url = create_database(options.postgres_url, f"{options.database}_{name}")
            env = {**server_env(options, database_url), "KANBAN_RATE_LIMIT_PER_MINUTE": "0"}
            kanban_api("migrate", env=env, python=python)
            log = options.output / f"app-{name}.log"
            server = stack.enter_context(
                serving(name, [*server_pin, *serve_command(python)], env, log)
            )
            fixtures.append(prepare(env, server, sizes=(), python=python))
            analyze(database_url)
            servers.append(server)
        measured = measure(servers, fixtures, options, wrk_pin, all_serve=True)
    results.after, results.before = measured["after"], measured["before"]


def goals(results: Run) -> dict[str, tuple[float, float]]:
    """Issue 14's goals, as ratios to the bare baseline's card read (B) or list, so that
    they hold on any machine: name → (measured, goal), none without the baseline's run.
    The mixed run's p99 is in ms."""
    if GET_CARD not in results.baseline:
        return {}
    card = results.baseline[GET_CARD].rps
    bare_list = results.baseline[LIST].rps
    return {
        "PATCH column, one card, 8 clients (x B)": (results.app[DRAG_ONE].rps / card, 0.14),
        f"PATCH column, over {BOARDS} boards (x B)": (results.app[DRAG_SPREAD].rps / card, 0.20),
        "list 500 cards (x bare list)": (results.app[LIST].rps / bare_list, 0.6),
        "list 500 fresh cards, no ANALYZE (x bare list)": (
            results.app[FRESH_LIST].rps / bare_list,
            0.5,
        ),
        "GET card (x B)": (results.app[GET_CARD].rps / card, 0.5),
        f"GET boards, {BOARDS} boards (x B)": (results.app[GET_BOARDS].rps / card, 0.36),
    }


# --- report -----------------------------------------------------------------------------------


def markdown(results: Run) -> str:
    """results.md: a section for each part of the run that was measured."""
    lines: list[str] = []
    if results.app:
        lines += _against_baseline_table(results)
    lines += _goals_table(results)
    if results.app_sizes:
        lines += [
            "",
            "List latency against board size (one connection, so latency is the service time):",
            "",
            "| cards | kanban-api p50 ms | p99 ms | baseline p50 ms | p99 ms "
            "| kanban-api µs/card |",
            "|--:|--:|--:|--:|--:|--:|",
        ]
        for size, app in results.app_sizes.items():
            bare = results.baseline_sizes[size]
            lines.append(
                f"| {size:,} | {app.p50_ms:.1f} | {app.p99_ms:.1f} | {bare.p50_ms:.1f} "
                f"| {bare.p99_ms:.1f} | {app.p50_ms * 1000 / size:.0f} |"
            )
    if results.workers:
        lines += ["", "Workers (unpinned; wrk connections scaled with the workers):", ""]
        lines += ["| run | req/s | p50 ms | p99 ms |", "|---|--:|--:|--:|"]
        for name, result in results.workers.items():
            lines.append(
                f"| {name} | {result.rps:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} |"
            )
    if results.memory_mb:
        lines += ["", f"Peak resident memory per worker (VmHWM; goal < {MEMORY_LIMIT_MB} MB):", ""]
        lines += [f"- {name}: {mb:.0f} MB" for name, mb in results.memory_mb.items()]
    if results.full_board is not None:
        full = results.full_board
        lines += [
            "",
            f"{FULL_LIST}, one fresh worker: {full.rps:,.1f} req/s, p50 {full.p50_ms:.0f} ms, "
            f"p99 {full.p99_ms:.0f} ms; its peak resident memory (VmHWM) "
            + ", ".join(f"{name} {mb:.0f} MB" for name, mb in results.full_board_mb.items())
            + ".",
        ]
    if results.before:
        lines += _before_after_table(results)
    env = results.environment
    lines += [
        "",
        f"Machine: {env['cpu']}, {env['cores']} CPUs, Python {env['python']}; server "
        f"{'pinned to one CPU and wrk to another' if env['pinned'] else 'not pinned'}; wrk "
        f"{env['wrk']}. Load average {env['load_average_at_start']:.1f} at the start, "
        f"{env['load_average_at_end']:.1f} at the end (above 0.5 means other processes "
        f"shared the CPUs). {env['started']}.",
    ]
    return "\n".join(lines).lstrip("\n") + "\n"


def _against_baseline_table(results: Run) -> list[str]:
    lines = [
        "| scenario | kanban-api req/s | p50 ms | p99 ms | CPU µs/req | baseline req/s | p50 ms "
        "| p99 ms | CPU µs/req | kanban-api / baseline |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, app in results.app.items():
        bare = results.baseline.get(name)
        compared = (
            f"| {bare.rps:,.0f} | {bare.p50_ms:.1f} | {bare.p99_ms:.1f} | {_cpu(bare)} "
            f"| {app.rps / bare.rps:.0%} |"
            if bare
            else "| | | | | |"
        )
        lines.append(
            f"| {name} | {app.rps:,.0f} | {app.p50_ms:.1f} | {app.p99_ms:.1f} | {_cpu(app)} "
            + compared
        )
    return lines


def _goals_table(results: Run) -> list[str]:
    rows = []
    for name, (measured, wanted) in results.goals.items():
        met = "met" if measured >= wanted else "**not met**"
        # Three decimals, so that a ratio just under its goal never prints as equal to it.
        rows.append(f"| {name} | {measured:.3f} | >= {wanted:.2f} | {met} |")
    mixed = results.workers.get(MIXED)
    if mixed is not None:
        met = "met" if mixed.p99_ms < MIXED_P99_MS else "**not met**"
        rows.append(
            f"| {MIXED}: no 5xx, p99 (ms) | {mixed.p99_ms:.0f} | < {MIXED_P99_MS} | {met} |"
        )
    peaks = [mb for name, mb in results.memory_mb.items() if not name.startswith("baseline")]
    if peaks:
        met = "met" if max(peaks) < MEMORY_LIMIT_MB else "**not met**"
        rows.append(
            f"| peak memory of a worker (MB) | {max(peaks):.0f} | < {MEMORY_LIMIT_MB} | {met} |"
        )
    if "peak" in results.full_board_mb:
        peak = results.full_board_mb["peak"]
        met = "met" if peak < FULL_BOARD_LIMIT_MB else "**not met**"
        rows.append(
            f"| peak memory of a worker, {FULL_BOARD_CLIENTS} concurrent unpaged lists of a "
            f"{FULL_BOARD_CARDS:,}-card board (MB) | {peak:.0f} | < {FULL_BOARD_LIMIT_MB} | {met} |"
        )
    if not rows:
        return []
    heading = "Goals:"
    if GET_CARD in results.baseline:
        heading = (
            f"Goals (B = the baseline's GET /api/cards/{{id}}, "
            f"{results.baseline[GET_CARD].rps:,.0f} req/s in this run):"
        )
    return ["", heading, "", "| goal | measured | wanted | |", "|---|--:|--:|---|", *rows]


def _before_after_table(results: Run) -> list[str]:
    lines = [
        "",
        "This version (after) and --before's, rate limits off in both:",
        "",
        "| scenario | before req/s | p50 ms | p99 ms | CPU µs/req | after req/s | p50 ms "
        "| p99 ms | CPU µs/req | after / before |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, before in results.before.items():
        after = results.after[name]
        lines.append(
            f"| {name} | {before.rps:,.0f} | {before.p50_ms:.1f} | {before.p99_ms:.1f} "
            f"| {_cpu(before)} | {after.rps:,.0f} | {after.p50_ms:.1f} | {after.p99_ms:.1f} "
            f"| {_cpu(after)} | {after.rps / before.rps:.0%} |"
        )
    return lines


def chart(results: Run, path: Path) -> bool:
    """list-latency.png, if matplotlib is installed (nox -s bench installs it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    for label, sizes, style in (
        ("kanban-api", results.app_sizes, "o-"),
        ("baseline (Starlette + asyncpg)", results.baseline_sizes, "s--"),
    ):
        axes.plot(list(sizes), [r.p50_ms for r in sizes.values()], style, label=f"{label}, p50")
    axes.set(
        xlabel="cards on the board",
        ylabel="GET /api/boards/{id}/cards latency (ms)",
        title="List latency against board size (one connection)",
    )
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True


def _parts(text: str) -> tuple[str, ...]:
    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(PARTS)}")
    return parts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("KANBAN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"),
        help="a PostgreSQL server the bench may create a database on "
        "(default: $KANBAN_BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument("--database", default="kanban_bench", help="dropped and re-created")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per scenario, best kept (2)")
    parser.add_argument("--output", type=Path, default=Path(".bench"), help="default .bench/")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("KANBAN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="where the servers count rate limits (default: $KANBAN_BENCH_REDIS_URL or "
        "%(default)s); empty: in the database",
    )
    parser.add_argument(
        "--only",
        type=_parts,
        help=f"the parts to run, comma-separated, out of {', '.join(PARTS)} (default: all; "
        "before-after only with --before)",
    )
    parser.add_argument(
        "--before",
        metavar="PYTHON",
        help="the interpreter of an environment where another version of kanban-api is "
        "installed (for example a checkout of an older commit, `pip install -e .` in its own "
        "venv): before-after compares it with this one",
    )
    options = parser.parse_args(argv)
    if options.only is None:
        options.only = PARTS if options.before else PARTS[:-1]
    if "before-after" in options.only and not options.before:
        parser.error("before-after needs --before PYTHON")
    try:
        results = run(options)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    report = markdown(results)
    (options.output / "results.md").write_text(report, encoding="utf-8")
    (options.output / "results.json").write_text(
        json.dumps(asdict(results), indent=2, default=str), encoding="utf-8"
    )
    drawn = bool(results.app_sizes) and chart(results, options.output / "list-latency.png")
    print("\n" + report)
    chart_note = ", list-latency.png" if drawn else " (no chart: no size sweep or no matplotlib)"
    print(f"Written to {options.output}/: results.md, results.json{chart_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
