"""Several machines, simulated (issue 21): Pacte on its production settings, PostgreSQL and a
real redis-server, with two web processes, two Celery workers and one beat, each a process of
its own as on separate machines (tests/cluster.py starts them with the Procfile's commands).

- Customers file tickets through both web processes at once (the API, with tokens taken from
  the password endpoint): each ticket is created once, listed once by either process, and its
  customer mailed once.
- A live chat whose customer is connected to web process A and whose agent to B, both signed
  in through the sign-in page (the agent with an authenticator code): every line arrives once
  on the other side (the Redis channel layer carries it) and is stored once.
- Blocking tickets whose deadlines have all passed are escalated by the two workers, beat
  sweeping every second: every alert is mailed exactly once (counted per recipient, ticket,
  clock and level at the SMTP server), and each escalation is in the ticket's history once.

Runs when DATABASE_URL names PostgreSQL and redis-server is installed; skipped otherwise, which
CI (where both are) counts as a failure. On a database of its own (created, migrated with
`manage.py migrate`, dropped) and a redis-server of its own: never the other tests' database.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import websockets
from websockets.typing import Origin

from tests import services as real
from tests.cluster import (
    Cluster,
    Web,
    in_cluster,
    manage,
    own_database,
    production_env,
    running_cluster,
    sign_in,
)
from tests.factories import PASSWORD
from tests.mailservers import ReceivedMessage, SmtpSink

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CUSTOMERS = {"alice": "eu", "amir": "eu", "bob": "fr"}  # their desks (tests.factories.make_world)
PER_CUSTOMER = 8  # tickets each, on the two web processes in turn, half of them blocking
CHAT_LINES = 6  # on each side: under the chat's limit of 8 lines in 10 s per connection
OPENING = "The kiosk screen is frozen"
# Who is alerted (sla.clocks.escalation.escalation_recipients): a breach goes to the desk's lead
# and the managers (the head of support is one); a far overrun to the head of support.
BREACH = {"eu": ["lead", "manager", "head"], "fr": ["manager", "head"]}


@dataclass(frozen=True)
class Filed:
    reference: str
    customer: str
    subject: str
    severity: str


def postgres_server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs DATABASE_URL naming a PostgreSQL server (production's database)")
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server on the PATH (Debian: apt-get install redis-server)")
    return url


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """The mail server of the cluster's EMAIL_URL, keeping every mail sent."""
    with SmtpSink() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, sink: SmtpSink) -> Iterator[dict[str, str]]:
    """The cluster's environment, its database created and migrated."""
    server = postgres_server()
    with ExitStack() as stack:
        try:
            database = stack.enter_context(own_database(server))
        except psycopg.OperationalError as error:
            pytest.skip(f"the PostgreSQL server of DATABASE_URL does not answer: {error}")
        redis = stack.enter_context(real.redis_server(tmp_path))
        cluster_env = production_env(
            database_url=database, redis_url=redis.url, smtp_port=sink.port, workdir=tmp_path
        )
        manage(cluster_env, "migrate", "--noinput")
        yield cluster_env


def test_two_web_processes_two_workers_and_one_beat(
    env: dict[str, str], sink: SmtpSink, tmp_path: Path
) -> None:
    totp = in_cluster(env, "seed()")["totp"]
    with running_cluster(env, tmp_path) as cluster:
        try:
            webs = [Web(port) for port in cluster.ports]
            https_only(webs)
            filed = file_tickets(webs)
            chat = chat_across_processes(webs, totp)
            expected = age_blocking_tickets(env, filed)
            wait_for_mail_and_quiet(cluster, sink, expected, len(filed) + 1)
            found = in_cluster(env, "report()")
            print("tasks run by each worker:", worker_shares(cluster))
            check_tickets(found, filed)
            check_chat(found, chat)
            check_escalations(found, expected, sink)
            check_customer_mail(found, filed, sink)
        except BaseException:
            print(cluster.logs())
            raise


def https_only(webs: list[Web]) -> None:
    """The production settings are in force: a request that did not come through the HTTPS
    proxy is sent to HTTPS (SECURE_SSL_REDIRECT)."""
    for web in webs:
        answer = requests.get(f"{web.base}/api/tickets/", allow_redirects=False, timeout=30)
        assert answer.status_code == 301, answer.status_code
        assert answer.headers["Location"] == f"{web.origin}/api/tickets/", answer.headers


def file_tickets(webs: list[Web]) -> list[Filed]:
    """Each customer takes a token from one web process and files tickets through both, all
    customers at once; each ticket is answered once and listed once by either process."""
    tokens = {}
    for n, name in enumerate(CUSTOMERS):
        credentials = {"username": name, "password": PASSWORD}
        answer = webs[n % 2].api("POST", "/api/auth/token/", data=credentials)
        assert answer.status_code == 200, answer.text
        tokens[name] = answer.json()["token"]

    def file(job: tuple[str, int]) -> Filed:
        name, n = job
        severity = "blocking" if n % 4 < 2 else "minor"
        subject = f"{name}: kiosk {n} is down (filed on web process {n % 2 + 1})"
        body = {"subject": subject, "description": "Nothing works.", "severity": severity}
        answer = webs[n % 2].api("POST", "/api/tickets/", tokens[name], json=body)
        assert answer.status_code == 201, (subject, answer.status_code, answer.text[:1000])
        return Filed(answer.json()["reference"], name, subject, severity)

    with ThreadPoolExecutor(8) as pool:
        filed = list(pool.map(file, [(name, n) for name in CUSTOMERS for n in range(PER_CUSTOMER)]))
    assert len({f.reference for f in filed}) == len(filed) == len(CUSTOMERS) * PER_CUSTOMER
    for name, token in tokens.items():
        own = {f.reference for f in filed if f.customer == name}
        for web in webs:
            answer = web.api("GET", "/api/tickets/", token)
            assert answer.status_code == 200, answer.text
            listed = [t["reference"] for t in answer.json()["results"]]
            assert Counter(r for r in listed if r in own) == Counter(own), (name, listed)
    return filed


# --- the live chat, through two web processes ----------------------------------------------

Heard = list[dict[str, Any]]


def _socket(web: Web, cookies: dict[str, str], reference: str) -> Any:
    return websockets.connect(
        f"{web.ws}/ws/chat/{reference}/",
        origin=Origin(web.origin),
        additional_headers={
            "Cookie": f"sessionid={cookies['sessionid']}",
            "X-Forwarded-Proto": "https",
        },
        open_timeout=10,
    )


async def _hear(socket: Any, heard: Heard, until: Callable[[Heard], bool]) -> None:
    """Read the socket's events into `heard` until `until(heard)`; an error event fails."""
    async with asyncio.timeout(20):
        while not until(heard):
            event = json.loads(await socket.recv())
            assert event["type"] != "error", event
            heard.append(event)


def _texts(heard: Heard) -> list[str]:
    return [event["text"] for event in heard if event["type"] == "message"]


def _heard_all(lines: list[str]) -> Callable[[Heard], bool]:
    return lambda heard: set(lines) <= set(_texts(heard))


def _ended(heard: Heard) -> bool:
    return bool(heard) and heard[-1]["type"] == "state" and heard[-1]["state"] == "ended"


async def _converse(
    customer_at: tuple[Web, dict[str, str]],
    agent_at: tuple[Web, dict[str, str]],
    reference: str,
    lines: int,
) -> tuple[Heard, Heard]:
    """The customer on one web process, the agent on another, both talking at once, each line
    with its key; then the agent's typing (a mark from the agent's process) and the customer's
    end of the chat (from hers), which both hear after every line. What each side heard."""
    said = {who: [f"{who} line {n}" for n in range(lines)] for who in ("customer", "agent")}
    every = said["customer"] + said["agent"]
    customer_heard: Heard = []
    agent_heard: Heard = []
    async with (
        _socket(*customer_at, reference) as customer,
        _socket(*agent_at, reference) as agent,
    ):

        async def say(socket: Any, who: str) -> None:
            for n, text in enumerate(said[who]):
                await socket.send(json.dumps({"type": "message", "text": text, "key": f"{who}{n}"}))

        await asyncio.gather(
            say(customer, "customer"),
            say(agent, "agent"),
            _hear(customer, customer_heard, _heard_all(every)),
            _hear(agent, agent_heard, _heard_all(every)),
        )
        await agent.send(json.dumps({"type": "typing"}))
        typing = {"type": "typing", "from": "agent"}
        await _hear(customer, customer_heard, lambda heard: heard[-1] == typing)
        await customer.send(json.dumps({"type": "end"}))
        await asyncio.gather(
            _hear(customer, customer_heard, _ended), _hear(agent, agent_heard, _ended)
        )
    return customer_heard, agent_heard


def converse(
    customer_at: tuple[Web, dict[str, str]],
    agent_at: tuple[Web, dict[str, str]],
    reference: str,
    lines: int,
) -> tuple[Heard, Heard]:
    """`_converse` in an event loop of its own (a thread of its own: the test's may hold one)."""
    with ThreadPoolExecutor(1) as pool:
        conversation = _converse(customer_at, agent_at, reference, lines)
        return pool.submit(asyncio.run, conversation).result(timeout=120)


def chat_across_processes(webs: list[Web], totp: str) -> tuple[str, list[str]]:
    """Alice signs in on web process B and starts a chat there; the agent signs in on A. She
    then talks through A, the agent through B: every line crosses processes through Redis.
    Each side hears every line once: the other's in the order said, its own echoed once."""
    a, b = webs
    alice = sign_in(b, "alice")
    started = b.form("/chat/", {"severity": "major", "text": OPENING}, alice)
    assert started.status_code == 302, (started.status_code, started.text[:1000])
    reference = started.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    agent = sign_in(a, "agent_eu", totp)
    customer_heard, agent_heard = converse((a, alice), (b, agent), reference, CHAT_LINES)
    said = {who: [f"{who} line {n}" for n in range(CHAT_LINES)] for who in ("customer", "agent")}
    for heard in (customer_heard, agent_heard):
        lines = messages(heard)
        ids = [line["id"] for line in lines]
        assert len(ids) == len(set(ids)) == 1 + 2 * CHAT_LINES, heard
        assert lines[0]["text"] == OPENING, heard
        for who, texts in said.items():
            assert [line["text"] for line in lines[1:] if line["from"] == who] == texts, heard
    states = [e["state"] for e in customer_heard if e["type"] == "state"]
    assert states[0] == "waiting" and "active" in states and states[-1] == "ended", states
    return reference, [OPENING, *said["customer"], *said["agent"]]


def messages(heard: Heard) -> list[dict[str, object]]:
    return [event for event in heard if event["type"] == "message"]


Alert = tuple[str, str, str, str]  # recipient, ticket reference, clock's metric, level
Found = dict[str, Any]  # what tests.cluster.report answered


def age_blocking_tickets(env: dict[str, str], filed: list[Filed]) -> Counter[Alert]:
    """Every running clock of the blocking tickets put 30 days back (in the database, as if
    they had been filed then): breached and far overrun. The alerts each one owes."""
    blocking = [f.reference for f in filed if f.severity == "blocking"]
    aged = in_cluster(env, f"age({json.dumps(blocking)!r})")
    assert {reference for reference, _metric, _top in aged} == set(blocking), aged
    desk = {f.reference: CUSTOMERS[f.customer] for f in filed}
    expected: Counter[Alert] = Counter()
    for reference, metric, top in aged:
        expected.update((who, reference, metric, "breach") for who in BREACH[desk[reference]])
        if top == "head":
            expected[("head", reference, metric, "head")] += 1
    return expected


def wait_for_mail_and_quiet(
    cluster: Cluster, sink: SmtpSink, expected: Counter[Alert], customer_mails: int
) -> None:
    """Until every alert owed and every customer mail has reached the SMTP server; then until
    each worker-run job has run three more times after that (clock sweeps, alert deliveries,
    outbox sweeps), so that a mail sent twice would be there too."""

    def to_customers() -> int:
        return sum("@customer.example.test" in str(m.message["To"]) for m in sink.messages)

    owed = sum(expected.values())
    cluster.wait("every alert mailed", lambda: sum(alert_items(sink.messages).values()) >= owed)
    cluster.wait("every customer mail", lambda: to_customers() >= customer_mails)
    jobs = ("sla_clock_sweep_task", "notifications_deliver_task", "mail_sweep_task")
    before = {job: sum(cluster.succeeded(job)) for job in jobs}
    cluster.wait(
        "three more sweeps", lambda: all(sum(cluster.succeeded(j)) >= before[j] + 3 for j in jobs)
    )


# --- mail received ---------------------------------------------------------------------------

ALERT_ITEM = re.compile(r"^- (?P<kind>.+?) — (?P<ref>[A-Z]+-\d+) ")  # sla/email/alerts.txt
ALERT_METRIC = re.compile(r"^  (?P<metric>.+?) due ")


def alert_items(messages: list[ReceivedMessage]) -> Counter[tuple[str, str, str, str]]:
    """Every staff alert mailed, one per line of the digests: (recipient, ticket reference,
    metric, level), as the mails say them, counted."""
    items: Counter[tuple[str, str, str, str]] = Counter()
    for received in messages:
        message = received.message
        body = message.get_body(preferencelist=("plain",))
        if body is None:
            continue
        lines = body.get_content().splitlines()
        for line, following in zip(lines, [*lines[1:], ""], strict=True):
            item, metric = ALERT_ITEM.match(line), ALERT_METRIC.match(following)
            if item and metric:
                to = str(message["To"])
                items[(to, item["ref"], metric["metric"], item["kind"])] += 1
    return items


def message_ids(messages: list[ReceivedMessage]) -> Counter[str]:
    return Counter(str(received.message["Message-ID"]) for received in messages)


def worker_shares(cluster: Cluster) -> dict[str, list[int]]:
    tasks = ("sla_clocks_escalate_task", "notifications_deliver_task", "mail_sweep_task")
    return {task: cluster.succeeded(task) for task in tasks}


def check_tickets(found: Found, filed: list[Filed]) -> None:
    """Each filed ticket is in the database once, with the reference it was answered with."""
    api = [(ref, subject) for ref, subject, channel in found["tickets"] if channel == "api"]
    assert Counter(api) == Counter((f.reference, f.subject) for f in filed)


def check_chat(found: Found, chat: tuple[str, list[str]]) -> None:
    """Every line of the conversation stored once, each side's in the order said."""
    reference, bodies = chat
    stored = found["chats"][reference]
    assert Counter(stored) == Counter(bodies), stored
    for who in ("customer", "agent"):
        assert [s for s in stored if s.startswith(who)] == [b for b in bodies if b.startswith(who)]


def check_escalations(found: Found, expected: Counter[Alert], sink: SmtpSink) -> None:
    """Each alert owed is in the database once and sent; each is in one mail only, at the
    SMTP server; each level of each clock is in its ticket's history once."""
    alerts = found["alerts"]
    assert Counter((who, ref, metric, kind) for who, _, ref, metric, kind, *_ in alerts) == expected
    assert {state for *_, state in alerts} == {"sent"}, alerts
    mailed = alert_items(sink.messages)
    owed = Counter((to, ref, m_label, k_label) for _, to, ref, _, _, m_label, k_label, _ in alerts)
    assert mailed == owed, {"more than owed": mailed - owed, "not mailed": owed - mailed}
    assert set(mailed.values()) == {1}, mailed
    history = Counter((ref, field, note) for ref, field, note in found["escalations"])
    levels = Counter((ref, metric, kind) for _, ref, metric, kind in expected)
    assert history == Counter(dict.fromkeys(levels, 1)), history


def check_customer_mail(found: Found, filed: list[Filed], sink: SmtpSink) -> None:
    """Every mail of the outbox sent, and received once: each ticket's "opened" among them."""
    outbox = found["outbox"]
    assert {state for _, _, state, _ in outbox} == {"sent"}, outbox
    received = message_ids(sink.messages)
    assert {mail_id: received[mail_id] for *_, mail_id in outbox} == {
        mail_id: 1 for *_, mail_id in outbox
    }
    opened = Counter(ref for ref, kind, _, _ in outbox if kind == "opened")
    assert all(opened[f.reference] == 1 for f in filed), opened
