"""The restore drill on PostgreSQL, on a throwaway cluster of its own with WAL archived by
pgBackRest and attachments snapshotted by restic, driven through manage.py as an operator
would: seed tickets with attachments and running clocks, take a full backup; change and take an
incremental one, note the instant T; change more (an attachments-only snapshot, then one more
file), wipe the cluster and the media folder; restore the latest state, then T. After each
restore the rows (counted and checksummed table by table), the deadlines of open tickets and the
attachments' bytes are those of that moment, and `migrate --check` passes. The file stored
after the last snapshot is reported lost by ticket and name, never silently missing.

Needs PostgreSQL's server binaries, pgbackrest and restic (Debian packages; .ci/run installs
them); skipped elsewhere, which CI refuses."""

from __future__ import annotations

import glob
import hashlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from tests.services import ROOT

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
TOOLS = BINARIES and shutil.which("pgbackrest") and shutil.which("restic")
pytestmark = pytest.mark.skipif(
    not TOOLS, reason="PostgreSQL's server, pgbackrest and restic are not installed"
)
# Seen from the cluster's owner: root runs them as postgres (initdb refuses root).
AS_OWNER = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

SEED = """
from django.core.files.uploadedfile import SimpleUploadedFile
from tests.factories import make_world, open_ticket
from tickets import services
world = make_world()
ticket = open_ticket(world.alice, severity="blocking")
services.ticket_reply(ticket=ticket, author=world.alice.user, body="The log.",
    files=[SimpleUploadedFile("log.txt", b"line 1\\nline 2\\n", "text/plain")])
open_ticket(world.alice, subject="Slow exports", severity="minor")
"""
# A reply with a file, a new ticket, a status change.
CHANGE = """
from django.core.files.uploadedfile import SimpleUploadedFile
from tests.factories import open_ticket
from tickets import services
from tickets.models import Ticket, User
first, second = Ticket.objects.order_by("pk")[:2]
services.ticket_reply(ticket=first, author=first.requester.user, body="{name}",
    files=[SimpleUploadedFile("{name}.txt", b"{name} " * 999, "text/plain")])
open_ticket(first.requester, subject="{name} ticket")
services.ticket_change_status(
    ticket=second, actor=User.objects.get(username="agent_eu"), status="{status}")
"""
# A person's data erased: the attachment's row and its file go (tickets.accounts.personal_data).
ERASE = """
from django.db import transaction
from tickets.models import Attachment
with transaction.atomic():
    gone = Attachment.objects.get(filename="second.txt")
    gone.delete()
    transaction.on_commit(lambda: gone.file.storage.delete(gone.file.name))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A PostgreSQL cluster, its pgBackRest repository and restic's, and Pacte's media."""

    root: Path
    port: int

    data = property(lambda self: self.root / "cluster" / "data")
    socket = property(lambda self: self.root / "socket")
    config = property(lambda self: self.root / "pgbackrest.conf")
    media = property(lambda self: self.root / "media")
    url = property(lambda self: f"postgres://postgres@127.0.0.1:{self.port}/pacte")

    def owner(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*AS_OWNER, *command], capture_output=True, text=True, timeout=300, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{command[0]}: {done.stdout[-1500:]} {done.stderr[-1500:]}")
        return done

    def pg_ctl(self, *args: str) -> None:
        self.owner(f"{BINARIES[-1]}/pg_ctl", "-D", str(self.data), *args)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        pg_ctl = shlex.join([*AS_OWNER, f"{BINARIES[-1]}/pg_ctl"])
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": self.url,
            "PACTE_MEDIA_ROOT": str(self.media),
            "PACTE_PGBACKREST_STANZA": "drill",
            "PACTE_PGBACKREST": f"{' '.join(AS_OWNER)} pgbackrest --config={self.config}",
            "PACTE_RESTIC_REPOSITORY": str(self.root / "files"),
            "PACTE_RESTIC_PASSWORD_FILE": str(self.root / "restic-password"),
            "PACTE_POSTGRES_STOP": f"{pg_ctl} -D {self.data} -m fast -w stop",
            "PACTE_POSTGRES_START": f"{pg_ctl} -D {self.data} -l {self.root}/log/pg.log -w start",
        }
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"manage.py {args[0]}: {done.stdout[-2000:]} {done.stderr[-3000:]}"
            )
        return done

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as database:
            return database.execute(sql).fetchall()

    def state(self) -> dict[str, object]:
        """Each table's rows counted and checksummed, the open tickets' deadlines, and the
        bytes of each attachment the database names."""
        tables = [row[0] for row in self.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )]  # fmt: skip
        rows = {
            name: self.query(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM \"{name}\" t"  # noqa: E501
            )[0]
            for name in tables
        }
        deadlines = self.query(
            "SELECT c.ticket_id, c.kind, c.state, c.due_at, c.warn_at FROM sla_clock c "
            "JOIN tickets_ticket t ON t.id = c.ticket_id "
            "WHERE t.status NOT IN ('resolved', 'closed') ORDER BY 1, 2"
        )
        files = {
            (filename, name): self._digest(self.media / name)
            for filename, name in self.query("SELECT filename, file FROM tickets_attachment")
        }
        return {"rows": rows, "deadlines": deadlines, "files": files}

    @staticmethod
    def _digest(path: Path) -> str | None:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

    def wipe(self) -> None:
        """The disk is lost: the cluster stops dead, its data and the media folder are gone."""
        self.pg_ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.data)
        shutil.rmtree(self.media)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="pacte-drill-", dir="/tmp"))
    root.chmod(0o755)
    made = Cluster(root, _free_port())
    for name in ("cluster", "socket", "log", "repository"):
        (root / name).mkdir()
        if AS_OWNER:
            shutil.chown(root / name, "postgres", "postgres")
    made.config.write_text(
        "[global]\n"
        f"repo1-path={root}/repository\nrepo1-retention-full=4\n"
        "repo1-cipher-type=aes-256-cbc\nrepo1-cipher-pass=drill-only-secret\n"
        f"log-path={root}/log\nlock-path={root}/log\nstart-fast=y\ncompress-type=zst\n"
        f"[drill]\npg1-path={made.data}\npg1-port={made.port}\npg1-socket-path={made.socket}\n"
    )
    made.owner(f"{BINARIES[-1]}/initdb", "-D", str(made.data), "-A", "trust", "-U", "postgres")
    with (made.data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {made.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{made.socket}'\nwal_level = replica\n"
            "archive_mode = on\narchive_timeout = 60\nfsync = off\n"
            f"archive_command = 'pgbackrest --config={made.config} --stanza=drill "
            "archive-push %p'\n"
        )
    made.pg_ctl("-l", f"{root}/log/pg.log", "-w", "start")
    made.owner("pgbackrest", f"--config={made.config}", "--stanza=drill", "stanza-create")
    made.owner(f"{BINARIES[-1]}/createdb", "-h", str(made.socket), "-p", str(made.port),
               "-U", "postgres", "pacte")  # fmt: skip
    (root / "restic-password").write_text("drill-only-password\n")
    subprocess.run(
        ["restic", "init", "--repo", str(root / "files"), "--password-file",
         str(root / "restic-password")], check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield made
    finally:
        made.pg_ctl("-m", "immediate", "stop") if (made.data / "postmaster.pid").exists() else None
        shutil.rmtree(root, ignore_errors=True)


def test_the_restore_drill(cluster: Cluster) -> None:
    cluster.manage("migrate", "--noinput")
    cluster.manage("shell", "-c", SEED)
    assert "Full backup" in cluster.manage("backup", "--full").stdout

    cluster.manage("shell", "-c", CHANGE.format(name="second", status="acknowledged"))
    assert "Incremental backup" in cluster.manage("backup", "--incremental").stdout
    assert "Verified" in cluster.manage("backup", "--verify").stdout
    at_t = cluster.state()
    time.sleep(1.1)
    # The real clock, on purpose: PostgreSQL stamps its commits with it (a server in another
    # process cannot travel in time). Nothing compared depends on the date it is.
    instant = datetime.now(UTC)
    time.sleep(1.1)

    cluster.manage("shell", "-c", CHANGE.format(name="third", status="waiting_on_customer"))
    cluster.manage("shell", "-c", ERASE)
    assert "Attachments only" in cluster.manage("backup", "--files").stdout
    cluster.manage("shell", "-c", CHANGE.format(name="fourth", status="in_progress"))
    latest = cluster.state()
    assert len(at_t["files"]) == 2 and len(latest["files"]) == 3  # type: ignore[arg-type]
    assert latest["rows"] != at_t["rows"] and latest["deadlines"] != at_t["deadlines"]
    # What a crash leaves: everything committed is in archived WAL within archive_timeout;
    # pgBackRest's check switches WAL and waits for it, as that minute would.
    cluster.owner("pgbackrest", f"--config={cluster.config}", "--stanza=drill", "check")
    before = cluster.manage("restore", "--to", "2020-01-01T00:00Z", "--yes", check=False)
    assert before.returncode == 1 and "no earlier instant can be restored" in before.stderr
    assert "Nothing was changed" in before.stderr and cluster.state() == latest
    cluster.wipe()

    done = cluster.manage("restore", "--latest", "--yes")
    assert "Restored" in done.stdout and "1 found in older snapshots" not in done.stdout
    # The file stored after the last snapshot is gone with the disk: said, by ticket and name.
    assert "Lost (stored after the last snapshot): PAC-" in done.stderr and "fourth" in done.stderr
    expected = {
        **latest,
        "files": {**latest["files"], **{k: None for k in latest["files"] if k[0] == "fourth.txt"}},
    }  # type: ignore[dict-item]  # noqa: E501
    assert cluster.state() == expected
    cluster.manage("migrate", "--check")

    cluster.wipe()
    done = cluster.manage("restore", "--to", instant.isoformat(), "--yes")
    # The snapshot after T no longer holds the erased file; the one before T does.
    assert "Restored" in done.stdout and "1 found in older snapshots" in done.stdout
    assert "Lost" not in done.stderr
    assert cluster.state() == at_t
    cluster.manage("migrate", "--check")
