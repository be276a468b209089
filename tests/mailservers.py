"""Real mail servers for tests: a private Dovecot IMAP server and an aiosmtpd SMTP sink.

``DovecotServer`` runs Debian's Dovecot (``apt-get install dovecot-imapd``) as root on a free
loopback port, in a temporary directory of its own: its own base_dir, state_dir, passwd-file
users and Maildirs, so that several instances can run one after another (or side by side) in
one pytest process without touching a Dovecot started by the system.

``SmtpSink`` is an aiosmtpd server on a free loopback port that keeps every message delivered
to it.

Both speak TLS when given a ``TlsIdentity`` (a certificate chain and its key, made at test time:
``tls_identity(ca, ...)`` from a trustme CA, or ``self_signed_identity()``): Dovecot offers
STARTTLS on its port and implicit TLS on ``tls_port``; the sink offers STARTTLS (required) or
implicit TLS. ``SilentServer`` accepts connections and never says a word.

Fixtures are wired elsewhere; ``dovecot_server(users)`` and ``smtp_sink()`` are generator
functions meant as their bodies::

    @pytest.fixture
    def dovecot() -> Iterator[DovecotServer]:
        yield from dovecot_server({"support-eu@pacte.test": "secret"})
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import pytest
import trustme
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imap_tools.imap_utf7 import utf7_decode, utf7_encode

from tests.services import free_port

DOVECOT = "/usr/sbin/dovecot"
DOVECONF = "/usr/bin/doveconf"
SKIP_REASON = "Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)"

# ---------------------------------------------------------------------------------------------
# TLS identities (made at test time: no key file is committed)
# ---------------------------------------------------------------------------------------------

LOCAL_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class TlsIdentity:
    """What a TLS server presents: its certificate chain (leaf first) and private key, in PEM;
    ``ca_pem`` is the certificate a client must trust to accept it."""

    chain_pem: bytes
    key_pem: bytes
    ca_pem: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        with tempfile.TemporaryDirectory() as directory:
            chain, key = Path(directory) / "chain.pem", Path(directory) / "key.pem"
            chain.write_bytes(self.chain_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(chain, key)
        return context


def tls_identity(ca: trustme.CA, *names: str) -> TlsIdentity:
    """A certificate for ``names`` (127.0.0.1 and localhost by default) issued by ``ca``."""
    cert = ca.issue_cert(*(names or LOCAL_NAMES))
    chain = b"".join(blob.bytes() for blob in cert.cert_chain_pems)
    return TlsIdentity(
        chain_pem=chain, key_pem=cert.private_key_pem.bytes(), ca_pem=ca.cert_pem.bytes().decode()
    )


def self_signed_identity(*names: str) -> TlsIdentity:
    """A self-signed certificate for ``names`` (127.0.0.1 and localhost by default)."""
    names = names or LOCAL_NAMES
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return TlsIdentity(chain_pem=pem, key_pem=key_pem, ca_pem=pem.decode())


# ---------------------------------------------------------------------------------------------
# Dovecot
# ---------------------------------------------------------------------------------------------


class DovecotUnavailable(RuntimeError):
    """Dovecot cannot run on this machine: the fixture bodies turn this into a skip (which
    conftest turns into a failure under CI=true)."""


class DovecotNotInstalled(DovecotUnavailable):
    def __init__(self, message: str = SKIP_REASON) -> None:
        super().__init__(message)


class DovecotError(RuntimeError):
    """Dovecot is installed but did not start, or an IMAP helper command failed."""


_CONFIG = """\
# Written by tests/mailservers.py for one test server; removed when it stops.
base_dir = {root}/run
state_dir = {root}/state
instance_name = pacte-test
protocols = imap
listen = {host}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
# The static userdb maps every user to the dovecot user; Debian's default (500) refuses its uid
# ("Logged in, but initialization failed").
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
  # No auth penalty: else each failed login delays the next ones from 127.0.0.1 (2 s, 4 s…).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _quote(mailbox: str) -> str:
    """A mailbox name as an IMAP quoted string, in modified UTF-7 (imaplib quotes nothing)."""
    encoded = utf7_encode(mailbox).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(name: bytes) -> str:
    if name.startswith(b'"') and name.endswith(b'"') and len(name) >= 2:
        name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
    return utf7_decode(name)


_LIST_LINE = re.compile(
    rb'^\((?P<flags>[^)]*)\) (?P<delimiter>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$'
)
_FETCH_START = re.compile(rb"^\d+ \(")
_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")


def _group_alive(pgid: int) -> bool:
    """Whether a process other than a zombie is left in process group ``pgid``.

    Reads /proc rather than ``killpg(pgid, 0)``, which also counts the zombies an init that
    does not reap (a shell as PID 1 in a container) would leave behind."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: the signal test is the best there is
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # state ppid pgrp …
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


class DovecotServer:
    """A private Dovecot IMAP server on 127.0.0.1, plaintext LOGIN, Maildir storage.

    ``users`` maps each login (e.g. ``support-eu@pacte.test``) to its password. Messages
    appended by the helpers get CRLF line endings (imaplib converts bare LF). With ``tls``,
    ``port`` also offers STARTTLS and ``tls_port`` speaks implicit TLS (IMAPS), both presenting
    that identity; the helpers keep using the plain port."""

    host = "127.0.0.1"

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        startup_timeout: float = 10.0,
        tls: TlsIdentity | None = None,
    ) -> None:
        for user, password in users.items():
            if not user or any(c in user + password for c in ":\r\n"):
                raise ValueError(f"unusable Dovecot user or password for {user!r}")
        self.users = dict(users)
        self.startup_timeout = startup_timeout
        self.tls = tls
        self.port = 0
        self.tls_port = 0
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def config_path(self) -> Path:
        assert self.directory is not None, "Dovecot is not started"
        return self.directory / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        assert self.directory is not None, "Dovecot is not started"
        return self.directory / "dovecot.log"

    def start(self) -> None:
        if self.process is not None:
            raise DovecotError("Dovecot is already running")
        if not os.access(DOVECOT, os.X_OK):
            raise DovecotNotInstalled()
        if os.geteuid() != 0:
            raise DovecotUnavailable("Dovecot test servers need root (they setuid to dovecot)")
        try:
            account = pwd.getpwnam("dovecot")
        except KeyError:
            raise DovecotNotInstalled() from None
        try:
            for _attempt in range(3):  # another process may take the free port before Dovecot
                self._prepare(account)
                self._launch()
                if self._wait_ready():
                    return
                if "Address already in use" not in self.log_tail():
                    raise DovecotError(f"Dovecot did not start:\n{self.log_tail()}")
                self.stop()
            raise DovecotError("Dovecot found no free port in three attempts")
        except BaseException:
            self.stop()
            raise

    def _prepare(self, account: pwd.struct_passwd) -> None:
        # /tmp rather than $TMPDIR: the dovecot user must traverse every parent of the mail
        # homes (a TMPDIR under /root would not do), and base_dir holds Unix sockets whose
        # paths must stay under 108 bytes.
        root = Path(tempfile.mkdtemp(prefix="pacte-dovecot-", dir="/tmp"))
        self.directory = root
        root.chmod(0o755)
        mail = root / "mail"
        mail.mkdir(mode=0o700)
        os.chown(mail, account.pw_uid, account.pw_gid)
        passwd = root / "passwd"
        passwd.write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in self.users.items())
        )
        os.chown(passwd, 0, account.pw_gid)
        passwd.chmod(0o640)
        self.port = free_port()
        ssl_lines = "ssl = no"
        self.tls_port = 0
        if self.tls is not None:
            # Read by the master as root when it starts ("<" includes the file's content).
            for name, content in (("cert.pem", self.tls.chain_pem), ("key.pem", self.tls.key_pem)):
                (root / name).write_bytes(content)
                (root / name).chmod(0o600)
            ssl_lines = f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem"
            self.tls_port = free_port()
        self.config_path.write_text(
            _CONFIG.format(
                root=root,
                host=self.host,
                port=self.port,
                tls_port=self.tls_port,
                uid=account.pw_uid,
                ssl=ssl_lines,
            )
        )
        check = subprocess.run(
            [DOVECONF, "-c", str(self.config_path), "-n"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check.returncode != 0:
            raise DovecotError(f"doveconf rejected the configuration:\n{check.stderr[-4000:]}")

    def _launch(self) -> None:
        assert self.directory is not None
        with (self.directory / "stderr.log").open("ab") as stderr:
            # -F: in the foreground, so that the master is our child and its pid is known; a
            # session of its own, so that stop() can signal every Dovecot process at once.
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self) -> bool:
        """Until an IMAP login and a LIST succeed (the port opens before auth is ready, and a
        login can succeed for a user whose mail storage then fails). False if the master
        exited; DovecotError on timeout."""
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        user, password = next(iter(self.users.items()), ("nobody@pacte.test", ""))
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                client = imaplib.IMAP4(self.host, self.port, timeout=2)
            except OSError as exc:
                last_error = exc
                time.sleep(0.01)
                continue
            try:
                if not self.users:
                    return True  # nobody to log in as: the greeting is all there is to check
                client.login(user, password)
                typ, data = client.list('""', '""')
                if typ == "OK":
                    return True
                last_error = DovecotError(f"LIST answered {typ} {data!r}")
            except (imaplib.IMAP4.error, OSError) as exc:
                last_error = exc
            finally:
                with suppress(Exception):
                    client.logout()
            time.sleep(0.02)
        raise DovecotError(
            f"Dovecot did not accept an IMAP login on port {self.port} within "
            f"{self.startup_timeout} s ({last_error!r}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop every Dovecot process of this instance and remove its directory. Idempotent.

        SIGTERM goes to the whole process group, again every 20 ms (a child that the master
        forks while the first signal is delivered misses it); what is left after 0.25 s gets
        SIGKILL: now and then the master lingers 1 s over its dead children, and ``doveadm
        stop`` or a SIGTERM to the master alone take 1–3 s. Usually done in ~10 ms."""
        process, self.process = self.process, None
        if process is not None:
            pgid = process.pid
            deadline = time.monotonic() + 0.25
            while time.monotonic() < deadline and (process.poll() is None or _group_alive(pgid)):
                with suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGTERM)
                with suppress(subprocess.TimeoutExpired):
                    process.wait(0.02)
            if process.poll() is None or _group_alive(pgid):
                with suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
                process.wait(5)
                deadline = time.monotonic() + 5
                while _group_alive(pgid) and time.monotonic() < deadline:
                    time.sleep(0.01)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        if process is not None and _group_alive(process.pid):
            raise DovecotError(f"Dovecot processes of group {process.pid} survived SIGKILL")

    def log_tail(self, chars: int = 4000) -> str:
        """The end of Dovecot's log file and of its standard error (fatal startup errors)."""
        if self.directory is None:
            return "(no log: Dovecot is stopped)"
        parts = []
        for name in ("stderr.log", "dovecot.log"):
            path = self.directory / name
            if path.exists():
                text = path.read_text(errors="replace")[-chars:]
                if text.strip():
                    parts.append(f"--- {name}\n{text}")
        return "\n".join(parts) or "(Dovecot wrote no log)"

    # -- IMAP helpers (imaplib, independent of the imap-tools code under test) ----------------

    @contextmanager
    def imap(self, user: str) -> Iterator[imaplib.IMAP4]:
        """An imaplib client logged in as ``user``; logged out on exit."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(user, self.users[user])
            yield client
        finally:
            with suppress(Exception):
                client.logout()

    def _check(self, what: str, typ: str, data: Any) -> None:
        if typ != "OK":
            raise DovecotError(f"IMAP {what} answered {typ}: {data!r}\n{self.log_tail(1500)}")

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()
    ) -> int | None:
        """APPEND ``raw`` to ``folder`` (created if needed) with ``flags`` such as ``\\Seen``;
        the new message's UID (from APPENDUID)."""
        with self.imap(user) as client:
            mailbox = _quote(folder)
            if folder.upper() != "INBOX":
                typ, data = client.list('""', mailbox)
                self._check("LIST", typ, data)
                if not [line for line in data if line]:
                    self._check("CREATE", *client.create(mailbox))
            flag_list = " ".join(flags)
            typ, data = client.append(mailbox, f"({flag_list})" if flag_list else None, None, raw)
            self._check("APPEND", typ, data)
            match = _APPENDUID.search(data[0] or b"")
            return int(match.group(1)) if match else None

    def list_messages(
        self, user: str, folder: str = "INBOX"
    ) -> list[tuple[int, tuple[str, ...], bytes]]:
        """``(uid, flags, raw)`` for each message of ``folder``, by UID. Read-only: fetching
        sets no ``\\Seen``; ``\\Recent`` (a per-session flag) is left out; flags are sorted."""
        with self.imap(user) as client:
            typ, data = client.select(_quote(folder), readonly=True)
            self._check("EXAMINE", typ, data)
            if int(data[0] or 0) == 0:
                return []
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            self._check("UID FETCH", typ, data)
        found: list[tuple[bytes, bytes]] = []  # (response text around the literal, literal)
        for item in data:
            if isinstance(item, tuple):
                found.append((item[0], item[1]))
            elif isinstance(item, bytes) and found and not _FETCH_START.match(item):
                found[-1] = (found[-1][0] + item, found[-1][1])  # the rest, e.g. b" FLAGS ())"
            # anything else: an unsolicited FETCH (a flag change by another session)
        messages = []
        for meta, raw in found:
            uid = _UID.search(meta)
            flags = _FLAGS.search(meta)
            if uid is None or flags is None:
                raise DovecotError(f"unexpected FETCH response: {meta!r}")
            names = tuple(sorted(f for f in flags.group(1).decode().split() if f != "\\Recent"))
            messages.append((int(uid.group(1)), names, raw))
        return sorted(messages)

    def folders(self, user: str) -> list[str]:
        """The names of ``user``'s mailboxes, sorted (``.`` separates levels in Maildir)."""
        with self.imap(user) as client:
            typ, data = client.list('""', '"*"')
            self._check("LIST", typ, data)
        names = []
        for item in data:
            if item is None:
                continue
            if isinstance(item, tuple):  # a name sent as a literal
                names.append(utf7_decode(item[1]))
                continue
            match = _LIST_LINE.match(item)
            if match is None:
                raise DovecotError(f"unexpected LIST response: {item!r}")
            names.append(_unquote(match.group("name")))
        return sorted(names)


def dovecot_server(
    users: Mapping[str, str], *, tls: TlsIdentity | None = None
) -> Iterator[DovecotServer]:
    """A fixture body: a started DovecotServer, stopped afterwards; a skip when Dovecot
    cannot run here."""
    server = DovecotServer(users, tls=tls)
    try:
        server.start()
    except DovecotUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# SMTP sink
# ---------------------------------------------------------------------------------------------

MAX_MESSAGE_BYTES = 40 * 1024 * 1024


@dataclass
class ReceivedMessage:
    """One message as delivered to the sink: its envelope and its bytes (CRLF line endings)."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    mail_options: list[str] = field(default_factory=list)  # e.g. ["SMTPUTF8", "BODY=8BITMIME"]

    @cached_property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, email.message_from_bytes(self.raw, policy=email.policy.default))


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):  # only with decode_data=True, which the sink does not set
            raw = raw.encode("utf-8", "surrogateescape")
        self.sink._add(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=bytes(raw),
                mail_options=list(envelope.mail_options),
            )
        )
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # aiosmtpd wraps its start-up probe with the *server's* context, which cannot verify
        # the server: probe with a client context that trusts anything (this probe only).
        if self.ssl_context is None:
            super()._trigger_server()
            return
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        probe.check_hostname = False
        probe.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection((self.hostname, self.port), 1.0) as raw,
            probe.wrap_socket(raw) as wrapped,
        ):
            wrapped.recv(1024)


class SmtpSink:
    """An SMTP server on 127.0.0.1 (a free port) keeping every message delivered to it.

    8BITMIME and SMTPUTF8 are advertised; messages up to ``data_size_limit`` bytes (40 MiB by
    default, advertised as SIZE) are accepted. No AUTH. Thread-safe. With ``tls``, STARTTLS is
    offered and required before MAIL, or with ``implicit_tls`` the whole session is TLS."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        data_size_limit: int = MAX_MESSAGE_BYTES,
        tls: TlsIdentity | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.data_size_limit = data_size_limit
        self.tls = tls
        self.implicit_tls = implicit_tls and tls is not None
        self.port = 0
        self._messages: list[ReceivedMessage] = []
        self._condition = threading.Condition()
        self._controller: Controller | None = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the SMTP sink is already running")
        for attempt in range(3):  # another process may take the free port first
            port = free_port()
            tls: dict[str, Any] = {}
            if self.tls is not None and self.implicit_tls:
                tls = {"ssl_context": self.tls.server_context()}
            elif self.tls is not None:
                tls = {"tls_context": self.tls.server_context(), "require_starttls": True}
            controller = _Controller(
                _SinkHandler(self),
                hostname=self.host,
                port=port,
                server_hostname="sink.pacte.test",  # else socket.getfqdn(), slow without DNS
                data_size_limit=self.data_size_limit,
                enable_SMTPUTF8=True,
                decode_data=False,
                **tls,
            )
            try:
                controller.start()
            except OSError:
                with suppress(Exception):
                    controller.stop(no_assert=True)
                if attempt == 2:
                    raise
                continue
            self._controller, self.port = controller, port
            return

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def _add(self, message: ReceivedMessage) -> None:
        with self._condition:
            self._messages.append(message)
            self._condition.notify_all()

    @property
    def messages(self) -> list[ReceivedMessage]:
        """The messages received so far (a copy)."""
        with self._condition:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """All the messages received, once there are at least ``count``; TimeoutError if they
        do not arrive within ``timeout`` seconds."""
        with self._condition:
            if not self._condition.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(
                    f"the SMTP sink received {len(self._messages)} message(s) in {timeout} s, "
                    f"expected {count}"
                )
            return list(self._messages)

    def clear(self) -> None:
        with self._condition:
            self._messages.clear()


def smtp_sink(*, tls: TlsIdentity | None = None, implicit_tls: bool = False) -> Iterator[SmtpSink]:
    """A fixture body: a running SmtpSink, stopped afterwards."""
    with SmtpSink(tls=tls, implicit_tls=implicit_tls) as sink:
        yield sink


# ---------------------------------------------------------------------------------------------
# A server that never answers
# ---------------------------------------------------------------------------------------------


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 (a free port) and never sends a byte: a mail
    server that hangs after the handshake. Connections are held until ``stop``; ``accepted``
    counts them."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = 0
        self.accepted = 0
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SilentServer:
        listener = socket.socket()
        listener.bind((self.host, 0))
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener, self.port = listener, int(listener.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        while (listener := self._listener) is not None:
            try:
                connection, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._connections.append(connection)
            self.accepted += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        listener, self._listener = self._listener, None
        if self._thread is not None:
            self._thread.join(2)
        if listener is not None:
            listener.close()
        for connection in self._connections:
            connection.close()
