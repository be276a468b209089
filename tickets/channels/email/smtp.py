"""Pacte's SMTP backend: Django's, with the certificate checks and refusals of
tickets.channels.email.tls.

Django's own backend already verifies against the system store when it has no client
certificate; this one also takes a CA bundle (``PACTE_EMAIL_CA_FILE``), keeps verifying when a
client certificate is given (Django's context then trusts no CA at all), refuses to send a
password-carrying session without TLS to anything but a loopback server, and words its
certificate and timeout errors for the outbox's error column. ``EMAIL_TIMEOUT`` bounds every
wait on the server (connect, greeting, each reply).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends import smtp
from django.utils.functional import cached_property

from tickets.channels.email.tls import client_context, describe_tls_error, is_loopback


class CertificateVerificationFailed(ssl.SSLCertVerificationError):
    """The mail server's certificate is not trusted or does not name the host."""


class TlsRequired(smtplib.SMTPException):
    """Plain SMTP to a server that is not on this machine: refused before connecting."""


class ServerTimeout(TimeoutError):
    """The mail server stayed silent for EMAIL_TIMEOUT seconds."""


class StartTlsNotOffered(smtplib.SMTPNotSupportedError):
    """EMAIL_URL asks for STARTTLS and the server does not offer it: nothing is sent."""


class EmailBackend(smtp.EmailBackend):
    def __init__(self, *args: Any, ca_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ca_file: str = settings.PACTE_EMAIL_CA_FILE if ca_file is None else ca_file

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = client_context(ca_file=self.ca_file)
        if self.ssl_certfile:  # a client certificate, with its key in it or beside it
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def open(self) -> bool | None:
        if not (self.use_tls or self.use_ssl) and not is_loopback(str(self.host)):
            if self.fail_silently:
                return None
            raise TlsRequired(
                f"refusing plain SMTP to {self.host}:{self.port}: use smtp+tls:// (STARTTLS) or "
                "smtp+ssl:// in EMAIL_URL; plain SMTP is for a server on this machine only"
            )
        with self._worded_errors():
            return super().open()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        with self._worded_errors():
            return super().send_messages(email_messages)

    @contextmanager
    def _worded_errors(self) -> Iterator[None]:
        """Certificate failures and silences said as such (smtplib reports a silence during a
        reply as "Connection unexpectedly closed: timed out")."""
        try:
            yield
        except (CertificateVerificationFailed, ServerTimeout, StartTlsNotOffered):
            raise
        except smtplib.SMTPNotSupportedError as exc:
            raise StartTlsNotOffered(self._describe(exc)) from exc
        except ssl.SSLCertVerificationError as exc:
            raise CertificateVerificationFailed(self._describe(exc)) from exc
        except TimeoutError as exc:
            raise ServerTimeout(self._describe(exc)) from exc
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):
                raise ServerTimeout(self._describe(exc.__context__)) from exc
            raise

    def _describe(self, exc: BaseException) -> str:
        return describe_tls_error(exc, host=str(self.host), port=int(self.port))
