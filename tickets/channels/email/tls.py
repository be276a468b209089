"""TLS for the mail servers Pacte talks to: certificates and host names always verified.

IMAP and SMTP get their SSL context here: `ssl.create_default_context()` (CERT_REQUIRED,
host name checked, TLS 1.2 at least), trusting the system's CA store, or instead the PEM
bundle an operator gave (a mailbox's ``ca_bundle``; ``PACTE_EMAIL_CA_FILE`` for SMTP). No
setting turns verification off. A connection without TLS is allowed to a loopback address
only (a local MTA, a test server): on a network it would carry the password in clear.
"""

from __future__ import annotations

import ipaddress
import re
import ssl

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def client_context(*, ca_pem: str = "", ca_file: str = "") -> ssl.SSLContext:
    """A verifying client context: the given CA bundle (PEM text or a file) or, with neither,
    the system's store. ssl.SSLError when the bundle cannot be read."""
    if ca_pem.strip() or ca_file:
        return ssl.create_default_context(cafile=ca_file or None, cadata=ca_pem.strip() or None)
    return ssl.create_default_context()


def validate_ca_bundle(value: str) -> None:
    """One or more PEM certificates (``-----BEGIN CERTIFICATE-----`` blocks), nothing else."""
    if not value.strip():
        return
    kinds = set(_PEM_BLOCK.findall(value))
    if any("PRIVATE KEY" in kind for kind in kinds):
        raise ValidationError(
            _("This is a private key: paste only the CA's certificate, and keep the key secret.")
        )
    if kinds != {"CERTIFICATE"}:
        raise ValidationError(
            _("Paste one or more PEM certificates (-----BEGIN CERTIFICATE----- blocks).")
        )
    try:
        context = client_context(ca_pem=value)
    except ssl.SSLError as exc:
        raise ValidationError(
            _("These certificates cannot be read: %(error)s"), params={"error": exc.reason or exc}
        ) from None
    if not context.get_ca_certs():
        raise ValidationError(_("None of these certificates is a CA certificate."))


def describe_tls_error(exc: BaseException, *, host: str, port: int) -> str:
    """A message for a person: what failed, on which server, and what to do about it."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        return (
            f"TLS certificate verification failed for {host}:{port}: {reason}. "
            "The server's certificate is not trusted or does not name this host: fix the "
            "server's certificate, or give the CA that signed it (CA bundle)."
        )
    if isinstance(exc, TimeoutError):
        return f"no answer from {host}:{port} in time (timeout): {exc}"
    if "TLS not supported" in str(exc) or "STARTTLS extension not supported" in str(exc):
        # imaplib's and smtplib's words for a server that does not offer STARTTLS.
        return (
            f"{host}:{port} does not offer STARTTLS: nothing was sent without TLS. Turn "
            "STARTTLS on at the server, or choose implicit TLS on its TLS port."
        )
    return f"{type(exc).__name__}: {exc}"
