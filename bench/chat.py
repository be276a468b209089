"""Live chat on loopback: concurrent conversations and the round trip of a line.

    .venv/bin/python bench/chat.py [--conversations 50] [--messages 20]

Starts a private Redis and the product's ASGI server (uvicorn, one process, the Redis channel
layer as in production) on its own SQLite database (var/bench-chat.sqlite3, recreated each
run). Each conversation has a customer connection and an agent connection, all open at once;
every customer sends its lines one after the other, and a line's round trip is from the
customer's send to the agent's connection receiving it — stored in the database, then
broadcast through Redis. Exits 1 if a line is lost, repeated or refused.

Then the embedded widget's sign-in: the frame's first request (POST /chat/widget/ with a token
the organization's product signed), for users new to Pacte (a contact and a login are added)
and for known ones, one after the other through the same server. Exits 1 if one is refused.
"""
# ruff: noqa: E402  (the project's modules are imported once Django is set up, below)

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]
from bench.benchdb import bench_file

SQLITE_FILE = bench_file("bench-chat.sqlite3")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--conversations", type=int, default=50)
parser.add_argument("--messages", type=int, default=20, help="lines per customer")
ARGS = parser.parse_args()

SQLITE_FILE.parent.mkdir(exist_ok=True)
for suffix in ("", "-wal", "-shm", "-journal"):
    Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_FILE}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
warnings.filterwarnings("ignore", message="No directory at")

import django

django.setup()

import websockets
from django.core.management import call_command
from django.test import Client
from django.utils.timezone import now as django_now

from sla.models import Calendar, OpeningInterval, SlaPolicy
from tests.accounts.second_factor import pass_second_factor
from tests.services import asgi_server, redis_server
from tickets.channels.chat import services as chat
from tickets.channels.chat import widget
from tickets.models import Contact, Desk, Organization, User


def setup(conversations: int) -> tuple[str, list[tuple[str, str]]]:
    """The agent's session cookie, and (reference, customer cookie) for each conversation."""
    call_command("migrate", verbosity=0)
    calendar = Calendar.objects.create(slug="bench-always", name="Always", time_zone="UTC")
    OpeningInterval.objects.bulk_create(
        OpeningInterval(calendar=calendar, weekday=d, start_minute=0, end_minute=1440)
        for d in range(7)
    )
    desk = Desk.objects.create(
        name="Bench", slug="bench", region="europe", calendar=calendar, email="chat@bench.test"
    )
    org = Organization.objects.create(
        name="Bench Org", slug="bench-org", sla_policy=SlaPolicy.objects.get(slug="standard")
    )
    org.desks.add(desk)
    agent = User.objects.create(username="bench-agent", role=User.Role.AGENT)
    desk.agents.add(agent)

    def cookie(user: User) -> str:
        client = Client()
        client.force_login(user)
        if user.role == User.Role.AGENT:  # staff reach the chat socket after their second factor
            pass_second_factor(client, user)
        return f"sessionid={client.cookies['sessionid'].value}"

    rooms = []
    for i in range(conversations):
        user = User.objects.create(username=f"customer-{i}", role=User.Role.CUSTOMER)
        contact = Contact.objects.create(
            organization=org, user=user, name=f"Customer {i}", email=f"c{i}@bench.test"
        )
        session = chat.chat_start(contact=contact, actor=user, text="Hello", severity="minor")
        chat.chat_accept(session=session, agent=agent)
        rooms.append((session.ticket.reference, cookie(user)))
    return cookie(agent), rooms


async def conversation(
    base: str, reference: str, customer_cookie: str, agent_cookie: str, lines: int
) -> list[float]:
    url = f"ws://{base}/ws/chat/{reference}/?after=999999999"
    origin = f"http://{base}"
    async with (
        websockets.connect(
            url, additional_headers={"Cookie": customer_cookie, "Origin": origin}
        ) as customer,
        websockets.connect(
            url, additional_headers={"Cookie": agent_cookie, "Origin": origin}
        ) as agent,
    ):
        await customer.recv()  # state
        await agent.recv()
        seen: set[int] = set()
        times = []
        for n in range(lines):
            key = f"{reference}-{lines}-{n}-{time.monotonic_ns()}"  # unique across runs
            started = time.perf_counter()
            await customer.send(json.dumps({"type": "message", "text": f"line {n}", "key": key}))
            while True:
                event = json.loads(await agent.recv())
                if event["type"] == "error":
                    raise RuntimeError(f"{reference}: {event}")
                if event["type"] == "message" and event["key"] == key:
                    break
            times.append(time.perf_counter() - started)
            if event["id"] in seen:
                raise RuntimeError(f"{reference}: line {n} repeated")
            seen.add(event["id"])
        return times


def widget_sign_ins(base: str, count: int) -> None:
    """Sign-ins of the widget's frame, new users then the same users again."""
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen

    org = Organization.objects.get(slug="bench-org")
    chat.organization_chat_secret_rotate(organization=org)
    org.chat_domains = "bench.test"
    org.save(update_fields=["chat_domains"])
    emails = [f"widget-{i}-{time.monotonic_ns()}@bench.test" for i in range(count)]
    for label in ("new users", "known users"):
        times = []
        for email in emails:
            token = widget.sign_token(org, email=email, now=django_now())
            body = urlencode({"organization": org.slug, "token": token}).encode()
            started = time.perf_counter()
            # As from the managers' sample page: Pacte's own origin.
            request = Request(f"http://{base}/chat/widget/", body, {"Origin": f"http://{base}"})
            with urlopen(request) as response:
                page = response.read()
            times.append(time.perf_counter() - started)
            if response.status != 200 or b'name="credential"' not in page:
                sys.exit(f"widget sign-in refused for {email}")
        slowest = times.index(max(times)) + 1
        times.sort()
        print(
            f"widget sign-in {label}: {count}, median {statistics.median(times) * 1000:.1f} ms  "
            f"p95 {times[int(0.95 * count)] * 1000:.1f}  max {times[-1] * 1000:.1f} "
            f"(sign-in no. {slowest})"
        )


async def run(base: str, agent_cookie: str, rooms: list[tuple[str, str]], lines: int) -> float:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(conversation(base, ref, cookie, agent_cookie, lines) for ref, cookie in rooms)
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(t for times in results for t in times)
    total = len(latencies)
    expected = len(rooms) * lines
    if total != expected:
        sys.exit(f"{expected - total} lines lost")

    def pct(p: float) -> float:
        return latencies[min(total - 1, int(p * total))] * 1000

    print(f"conversations  {len(rooms)} at once ({2 * len(rooms)} WebSocket connections)")
    print(f"lines          {total} in {elapsed:.2f} s: {total / elapsed:.1f} lines/s")
    print(
        f"round trip ms  median {statistics.median(latencies) * 1000:.1f}  "
        f"p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  max {latencies[-1] * 1000:.1f}"
    )
    return elapsed


def main() -> None:
    print(f"date           {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"python         {platform.python_version()}, Django {django.get_version()}")
    print(f"system         {platform.platform()}, {os.cpu_count()} cpus")
    agent_cookie, rooms = setup(ARGS.conversations)
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as redis:
        tmp = os.environ.get("PACTE_BENCH_LOGS", tmp)  # keep uvicorn's log somewhere to read
        print(f"logs           {tmp}") if os.environ.get("PACTE_BENCH_DEBUG") else None
        env = {
            "REDIS_URL": redis.url,
            "PACTE_TEST_REDIS_CHANNEL_LAYER": "true",
            "PACTE_CHAT_RATE_MESSAGES": "1000",
        }
        with asgi_server(Path(tmp), env) as server:
            base = server.url.removeprefix("http://")
            print(f"load average   {os.getloadavg()[0]:.2f} before")
            asyncio.run(run(base, agent_cookie, rooms[:1], 5))  # warm-up: imports, first queries
            asyncio.run(run(base, agent_cookie, rooms, ARGS.messages))
            widget_sign_ins(base, ARGS.conversations)
            print(f"load average   {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
