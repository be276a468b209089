"""What a request's transaction locks (issue 16, point 5).

On SQLite a page view takes no write lock: it answers while another connection writes, and
customers filing tickets at once through the real server get no "database is locked" 500s.
The same two tests hold on PostgreSQL, whose reads never wait for a writer's lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from django.core.exceptions import MiddlewareNotUsed
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SqliteWrapper
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from tests.factories import ContactFactory, UserFactory, make_world
from tests.services import asgi_server, database_url_for_subprocess
from tickets import middleware
from tickets.middleware import SqliteReadRequestsMiddleware
from tickets.models import Ticket, User

CSRF = 'name="csrfmiddlewaretoken" value="'


@pytest.fixture
def sqlite_file_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, django_db_blocker: Any
) -> Iterator[SqliteWrapper]:
    """A connection configured as config/settings/base.py configures SQLite, whatever database
    the run uses, put where the middleware looks for the request's connection."""
    wrapper = SqliteWrapper(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "db.sqlite3"),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "ATOMIC_REQUESTS": True,
            "AUTOCOMMIT": True,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "TIME_ZONE": None,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        }
    )
    with django_db_blocker.unblock():  # a database of its own, not the test run's
        wrapper.ensure_connection()
        wrapper.connection.execute("CREATE TABLE note (text TEXT)")
        monkeypatch.setattr(middleware, "connection", wrapper)
        yield wrapper
        wrapper.close()


def _view_seeing(wrapper: SqliteWrapper, seen: dict[str, object]) -> SqliteReadRequestsMiddleware:
    def view(request: HttpRequest) -> HttpResponse:
        seen["mode"] = wrapper.transaction_mode
        try:
            wrapper.connection.execute("INSERT INTO note VALUES ('written')")
        except sqlite3.OperationalError as error:
            seen["write"] = str(error)
        else:
            seen["write"] = "done"
        return HttpResponse()

    return SqliteReadRequestsMiddleware(view)


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_a_safe_request_reads_without_the_write_lock_and_cannot_write(
    sqlite_file_connection: SqliteWrapper, method: str
) -> None:
    seen: dict[str, object] = {}
    handler = _view_seeing(sqlite_file_connection, seen)

    handler(getattr(RequestFactory(), method)("/tickets/"))

    # ATOMIC_REQUESTS' transaction begins DEFERRED (no lock until a write), and a write fails
    # at once instead of waiting to upgrade a read snapshot, which can fail under load.
    assert seen == {"mode": "DEFERRED", "write": "attempt to write a readonly database"}
    # After the view, the connection writes again in IMMEDIATE transactions (session saving).
    assert sqlite_file_connection.transaction_mode == "IMMEDIATE"
    sqlite_file_connection.connection.execute("INSERT INTO note VALUES ('after')")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_an_unsafe_request_keeps_its_immediate_transaction(
    sqlite_file_connection: SqliteWrapper, method: str
) -> None:
    seen: dict[str, object] = {}
    handler = _view_seeing(sqlite_file_connection, seen)

    handler(getattr(RequestFactory(), method)("/tickets/new/"))

    assert seen == {"mode": "IMMEDIATE", "write": "done"}


def test_the_read_middleware_is_used_on_sqlite_only(db: None) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    if connection.vendor == "sqlite":
        SqliteReadRequestsMiddleware(view)
    else:
        with pytest.raises(MiddlewareNotUsed):
            SqliteReadRequestsMiddleware(view)


@contextmanager
def writer_holding_its_lock() -> Iterator[None]:
    """Another connection in the middle of a write transaction on the tickets."""
    if connection.vendor == "sqlite":
        holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # SQLite's one write lock
        holder.execute("UPDATE tickets_ticket SET subject = subject")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        with psycopg.connect(database_url_for_subprocess()) as holder:
            holder.execute("LOCK TABLE tickets_ticket IN EXCLUSIVE MODE")  # writes wait
            yield
            holder.rollback()


def _session(user: User) -> requests.Session:
    client = Client()
    client.force_login(user)
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value)
    return http


@pytest.mark.django_db(transaction=True)
def test_pages_answer_while_a_writer_holds_its_lock(tmp_path: Path) -> None:
    world = make_world()
    customer, agent = _session(world.alice.user), _session(world.agent_eu)
    with asgi_server(tmp_path) as server, writer_holding_its_lock():
        # Bounded well under the 20 s busy timeout: a page waiting for the lock fails here.
        portal = customer.get(f"{server.url}/tickets/", timeout=10)
        queue = agent.get(f"{server.url}/desk/", timeout=10)
        form = customer.get(f"{server.url}/tickets/new/", timeout=10)

    assert (portal.status_code, queue.status_code, form.status_code) == (200, 200, 200), (
        server.output()
    )


@pytest.mark.django_db(transaction=True)
def test_customers_filing_at_once_through_the_server_get_no_errors(tmp_path: Path) -> None:
    world = make_world()
    customers = [
        ContactFactory(organization=world.acme, user=UserFactory(username=f"filer{n}")).user
        for n in range(6)
    ]
    statuses: list[int] = []
    pages: list[int] = []

    def file_tickets(user: User, base: str) -> None:
        http = _session(user)
        for n in range(3):
            form = http.get(f"{base}/tickets/new/", timeout=60)
            token = form.text.split(CSRF, 1)[1].split('"', 1)[0]
            answer = http.post(
                f"{base}/tickets/new/",
                data={
                    "csrfmiddlewaretoken": token,
                    "subject": f"Filed at once {user.username} {n}",
                    "severity": "major",
                    "description": "Several customers file at the same moment.",
                },
                headers={"Referer": f"{base}/tickets/new/"},
                allow_redirects=False,
                timeout=60,
            )
            statuses.append(answer.status_code)

    def work_queue(base: str) -> None:
        http = _session(world.agent_eu)
        for _ in range(12):
            pages.append(http.get(f"{base}/desk/", timeout=60).status_code)

    with asgi_server(tmp_path) as server:
        threads = [threading.Thread(target=file_tickets, args=(u, server.url)) for u in customers]
        threads.append(threading.Thread(target=work_queue, args=(server.url,)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        log = server.output()

    assert statuses == [302] * 18, log
    assert pages == [200] * 12, log
    assert Ticket.objects.filter(subject__startswith="Filed at once").count() == 18
    assert "database is locked" not in log
