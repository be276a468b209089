"""Pacte as several machines run it, simulated on one: the production settings on PostgreSQL and
a real redis-server, two web processes (uvicorn, the Procfile's `web`), two Celery workers and
one beat (`worker`, `beat`), each a process of its own, started and stopped by a test.

Around them, what such a test needs: a database of its own on the server DATABASE_URL names
(created, migrated by `manage.py migrate`, dropped), Django code run in the cluster's settings
(`manage.py shell`, the functions at the end of this module), and a client that speaks to the
web processes as the HTTPS proxy in front of them would, signing in through the sign-in page.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from psycopg import sql

from tests.accounts.second_factor import totp_code
from tests.factories import PASSWORD
from tests.services import ROOT, free_port

BIN = Path(sys.executable).parent
MARK = "CLUSTER-JSON "  # the line of `manage.py shell` output that carries the answer
# The test's own configuration, which no process of the cluster inherits.
NOT_INHERITED = ("DJANGO_", "PACTE_", "CELERY_", "DATABASE_URL", "REDIS_URL", "EMAIL_URL")
BASE_URL = "https://support.example.test"  # the public address, for links in mails


def production_env(
    *, database_url: str, redis_url: str, smtp_port: int, workdir: Path
) -> dict[str, str]:
    """What the production settings require (README, "Production"), pointing at this machine's
    servers; beat sweeps every second so that the test waits seconds, not minutes."""
    from cryptography.fernet import Fernet

    inherited = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PACTE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PACTE_BASE_URL": BASE_URL,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",  # plain SMTP: allowed to loopback only
        "PACTE_MEDIA_ROOT": str(workdir / "media"),  # the shared storage of the web machines
        "PACTE_SWEEP_SECONDS": "1",
        "PACTE_MAIL_SEND_SECONDS": "1",
        # One clock a task, spread over both workers; a clock still queued after a second is
        # queued again, so a lagging worker puts one clock in two workers' hands (the
        # escalation's conditional claim must withstand that).
        "PACTE_ESCALATION_BATCH": "1",
        "PACTE_ESCALATION_LEASE_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def own_database(server_url: str) -> Iterator[str]:
    """A database of this test's own on the server `server_url` names (its role may create
    databases), dropped afterwards however the test ended; yields its URL."""
    name = f"pacte_cluster_{os.getpid()}"

    def admin(statement: str) -> None:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.SQL(statement).format(sql.Identifier(name)))

    admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")  # left by a run killed before its cleanup
    admin("CREATE DATABASE {}")
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


def manage(env: dict[str, str], *args: str, timeout: float = 120.0) -> str:
    """`manage.py ARGS` in the cluster's settings; its output, or an error that shows it."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {args[0]} exited {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout


def in_cluster(env: dict[str, str], call: str) -> Any:
    """Run `tests.cluster.<call>` in the cluster's settings and database; what it answered."""
    output = manage(env, "shell", "-c", f"from tests import cluster; cluster.{call}")
    for line in reversed(output.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    raise RuntimeError(f"no answer from {call}:\n{output[-4000:]}")


# --- the processes ---------------------------------------------------------------------------


class Process:
    """One process of the cluster, in a session of its own (a worker's pool children and all
    are signalled together), its output in a log file of its own."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log = workdir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def exited(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _signal(self, signum: int) -> None:
        if self.popen is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def terminate(self) -> None:
        """SIGTERM: a worker's warm shutdown, the web process's graceful one."""
        if self.exited() is None:
            self._signal(signal.SIGTERM)

    def finish(self, deadline: float) -> None:
        """Wait for the exit until `deadline` (monotonic), then SIGKILL whatever is left of the
        process group."""
        if self.popen is None:
            return
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(max(0.0, deadline - time.monotonic()))
        self._signal(signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


def _listening(port: int) -> bool:
    with suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@dataclass
class Cluster:
    webs: list[Process]
    ports: list[int]
    workers: list[Process]
    beat: Process

    @property
    def processes(self) -> list[Process]:
        return [*self.webs, *self.workers, self.beat]

    def logs(self, chars: int = 3000) -> str:
        """The end of every process's output, for a failure's report."""
        return "\n".join(
            f"===== {p.name} (exit code {p.exited()}) =====\n{p.output()[-chars:]}"
            for p in self.processes
        )

    def succeeded(self, task: str) -> list[int]:
        """How many runs of the task each worker has logged as succeeded."""
        return [
            sum(
                f".{task}[" in line and " succeeded in " in line for line in w.output().splitlines()
            )
            for w in self.workers
        ]

    def wait(self, what: str, done: Callable[[], bool], timeout: float = 60.0) -> None:
        """Until `done()`, polled; TimeoutError naming `what` after `timeout` seconds, at once
        if a process of the cluster exits."""
        deadline = time.monotonic() + timeout
        while not done():
            dead = [p.name for p in self.processes if p.exited() is not None]
            if dead:
                raise RuntimeError(f"waiting for {what}: {', '.join(dead)} exited")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """All at once, as machines are stopped: SIGTERM, 20 s to exit, then SIGKILL."""
        for process in self.processes:
            process.terminate()
        deadline = time.monotonic() + 20
        for process in self.processes:
            process.finish(deadline)


def _processes(env: dict[str, str], workdir: Path) -> Cluster:
    """The Procfile's commands, on loopback, each worker named (two machines' workers have two
    host names; on one machine, two node names)."""
    ports = [free_port(), free_port()]
    uvicorn = [str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1"]
    uvicorn += ["--workers", "1", "--proxy-headers", "--no-server-header"]
    celery = [str(BIN / "celery"), "-A", "config"]
    worker = [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"]
    schedule = str(workdir / "celerybeat-schedule")
    argv = {
        **{f"web-{n}": [*uvicorn, "--port", str(port)] for n, port in enumerate(ports, 1)},
        **{f"worker-{n}": [*worker, "--hostname", f"worker{n}@%h"] for n in (1, 2)},
        "beat": [*celery, "beat", "--loglevel", "INFO", "--schedule", schedule],
    }
    made = {name: Process(name, args, env, workdir) for name, args in argv.items()}
    return Cluster(
        webs=[made["web-1"], made["web-2"]],
        ports=ports,
        workers=[made["worker-1"], made["worker-2"]],
        beat=made["beat"],
    )


@contextmanager
def running_cluster(env: dict[str, str], workdir: Path) -> Iterator[Cluster]:
    """The five processes started, ready when the block begins: the web processes listening,
    the workers saying they are ready, and a sweep sent by beat run by a worker. All stopped
    afterwards, whatever happened."""
    cluster = _processes(env, workdir)
    try:
        for process in cluster.processes:
            process.start()
        try:
            cluster.wait("the web processes", lambda: all(map(_listening, cluster.ports)))
            cluster.wait(
                "the workers", lambda: all(" ready." in w.output() for w in cluster.workers)
            )
            cluster.wait("a sweep", lambda: sum(cluster.succeeded("sla_clock_sweep_task")) > 0)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"the cluster did not start: {error}\n{cluster.logs()}") from error
        yield cluster
    finally:
        cluster.stop()


# --- speaking to the web processes -----------------------------------------------------------


class Web:
    """A web process as the HTTPS proxy in front of it speaks to it: plain HTTP on loopback
    with `X-Forwarded-Proto: https` (SECURE_PROXY_SSL_HEADER) and the browser's Origin."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.origin = f"https://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"
        self.proxy = {"X-Forwarded-Proto": "https", "Origin": self.origin}

    def api(self, method: str, path: str, token: str = "", **kwargs: Any) -> requests.Response:
        headers = {**self.proxy, **({"Authorization": f"Token {token}"} if token else {})}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def form(self, path: str, data: dict[str, str], cookies: dict[str, str]) -> requests.Response:
        """POST a form as a browser does (its CSRF cookie and token, here chosen by the
        client), without following the redirect; a new session cookie is kept in `cookies`.
        The cookies are sent by hand: they are Secure, which requests keeps for https://."""
        csrf = secrets.token_hex(16)
        jar = {**cookies, "csrftoken": csrf}
        response = requests.post(
            self.base + path,
            data={**data, "csrfmiddlewaretoken": csrf},
            headers={**self.proxy, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
            allow_redirects=False,
            timeout=30,
        )
        if "sessionid" in response.cookies:
            cookies["sessionid"] = str(response.cookies["sessionid"])
        return response


def sign_in(web: Web, username: str, totp_secret: str = "") -> dict[str, str]:
    """Sign in through the sign-in page (and, for staff, the authenticator code page); the
    session's cookies."""
    cookies: dict[str, str] = {}
    answer = web.form("/accounts/login/", {"login": username, "password": PASSWORD}, cookies)
    assert answer.status_code == 302, (username, answer.status_code, answer.text[:500])
    if totp_secret:
        assert answer.headers["Location"] == "/accounts/2fa/authenticate/", answer.headers
        # A code is good for its 30 s step only (MFA_TOTP_TOLERANCE 0): not one about to expire.
        if (left := 30 - time.time() % 30) < 2:
            time.sleep(left + 0.05)
        code = {"code": totp_code(totp_secret)}
        answer = web.form("/accounts/2fa/authenticate/", code, cookies)
        assert answer.status_code == 302, (username, answer.status_code, answer.text[:500])
    assert "accounts/" not in answer.headers["Location"], answer.headers
    return cookies


# --- run inside the cluster's settings (`in_cluster`) ----------------------------------------


def _answer(value: object) -> None:
    print(MARK + json.dumps(value, default=str))


def seed() -> None:
    """The usual cast (tests.factories.make_world: acme on the europe desk, globex on the
    france one), a lead of the europe desk, a head of support, desks open around the clock (a
    chat waits for an agent only while its desk is open), and the agent's authenticator app."""
    from sla.models import Calendar, OpeningInterval
    from tests.accounts.second_factor import enrol_totp
    from tests.factories import UserFactory, make_world
    from tickets.models import User

    world = make_world()
    always = Calendar.objects.create(slug="always", name="Always", time_zone="Europe/Berlin")
    OpeningInterval.objects.bulk_create(
        OpeningInterval(calendar=always, weekday=day, start_minute=0, end_minute=1440)
        for day in range(7)
    )
    lead = UserFactory(username="lead", role=User.Role.AGENT)
    world.europe.agents.add(lead)
    world.europe.lead = lead
    for desk in (world.europe, world.france):
        desk.calendar = always
        desk.save()
    UserFactory(username="head", role=User.Role.MANAGER, head_of_support=True)
    _answer({"totp": enrol_totp(world.agent_eu)})


def age(references: str) -> None:
    """Move the running clocks of these tickets 30 days back, as if filed then: every
    threshold has passed; the sweep finds them. Which level each must reach."""
    from datetime import timedelta

    from django.db.models import F

    from sla.models import Clock
    from tickets.models import Ticket

    back = timedelta(days=30)
    ids = [Ticket.id_from_reference(reference) for reference in json.loads(references)]
    clocks = Clock.objects.filter(ticket_id__in=ids, state="running", due_at__isnull=False)
    clocks.update(
        warn_at=F("warn_at") - back, due_at=F("due_at") - back, escalate_at=F("escalate_at") - back
    )
    rows = clocks.values_list("ticket_id", "metric", "escalate_at")
    _answer([[Ticket.reference_for(t), m, "head" if at else "breach"] for t, m, at in rows])


def report() -> None:
    """What the database says: tickets, alerts, escalation history, outbox, chat transcripts
    (tickets by reference)."""
    from django.utils import translation

    from sla.models import Notification
    from tickets.models import ChatSession, Message, OutboundMail, Ticket, TicketEvent

    ref = Ticket.reference_for
    alerts = []
    for n in Notification.objects.select_related("clock", "recipient").order_by("pk"):
        with translation.override(n.recipient.language or "en"):  # as the mail says them
            labels = [str(n.clock.get_metric_display()), str(n.get_kind_display())]
        who = [n.recipient.username, n.recipient.email]
        alerts.append([*who, ref(n.ticket_id), n.clock.metric, n.kind, *labels, n.email])
    events = TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATION)
    outbox = OutboundMail.objects.values_list("ticket_id", "kind", "state", "mail_id")
    _answer(
        {
            "tickets": [
                [ref(pk), *row]
                for pk, *row in Ticket.objects.values_list("pk", "subject", "channel")
            ],
            "alerts": alerts,
            "escalations": [
                [ref(t), field, note]
                for t, field, note in events.values_list("ticket_id", "field", "note")
            ],
            "outbox": [[t and ref(t), *row] for t, *row in outbox],
            "chats": {
                ref(t): list(
                    Message.objects.filter(ticket_id=t)
                    .order_by("pk")
                    .values_list("body", flat=True)
                )
                for t in ChatSession.objects.values_list("ticket_id", flat=True)
            },
        }
    )
