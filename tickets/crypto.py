"""Secrets encrypted at rest: mailbox passwords, webhook and chat secrets.

`EncryptedTextField` keeps a Fernet token (cryptography's AES-128-CBC + HMAC-SHA256, with its
timestamp) in a text column and gives the plain text to Python. The keys come from the
environment, `PACTE_ENCRYPTION_KEYS` (a list of Fernet keys): the first encrypts, every one
decrypts (cryptography's `MultiFernet`), so a new key is put first, `secrets_reencrypt`
rewrites every value with it, and only then is the old key removed.

An empty value stays empty in the database: empty means "turned off" for these fields
(`chat_secret=""` is queried), which is no secret. A stored value that no key opens is an
error that names the field, never a ciphertext handed on as if it were the password.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.validators import MaxLengthValidator
from django.db import connection, models, transaction
from django.db.models.lookups import Exact

SETTING = "PACTE_ENCRYPTION_KEYS"


class SecretUnreadable(ImproperlyConfigured):
    """A stored secret that none of the configured keys decrypts (a key removed too early,
    or the database of another installation)."""


def _key_list() -> tuple[str, ...]:
    keys = getattr(settings, SETTING, None)
    if isinstance(keys, str):
        keys = [keys]
    return tuple(k.strip() for k in keys or () if k and k.strip())


@functools.lru_cache(maxsize=8)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            f"{SETTING} is empty: set it to one or more Fernet keys, comma-separated, the newest "
            'first. Make one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            raise ImproperlyConfigured(
                f"{SETTING}: key number {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes, 44 characters)."
            ) from None
    return MultiFernet(fernets)


def keys() -> MultiFernet:
    """Every configured key, the first one encrypting (ImproperlyConfigured if none or bad)."""
    return _multi(_key_list())


def encrypt(plain: str) -> str:
    return keys().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, what: str = "a secret") -> str:
    try:
        return keys().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SecretUnreadable(
            f"The stored {what} cannot be decrypted with any key of {SETTING}: was the key that "
            "encrypted it removed before `manage.py secrets_reencrypt` ran?"
        ) from None


class _EncryptedExact(Exact):
    """Only the empty value (the feature turned off) can be compared: a Fernet token is new at
    every encryption, so comparing a secret in SQL could only ever find nothing."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.output_field} is encrypted: it can only be compared with ''."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):  # str in, str out
    """A text column holding a Fernet token of the value; Python sees the plain text.

    ``max_length`` limits the plain text (validated like a CharField's), not the column."""

    description = "Text encrypted at rest with PACTE_ENCRYPTION_KEYS"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        try:
            keys()
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), obj=self, id="pacte.E001"))
        return errors

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return decrypt(value, what=f"{self.model._meta.label}.{self.name}")

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EncryptedExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None  # Django answers "Unsupported lookup"

    def get_transform(self, lookup_name: str) -> Any:
        return None


# --- rotation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReencryptReport:
    """What `secrets_reencrypt` found: values rewritten with the newest key, values already
    under it, and per field the row ids no key opens (left as they were)."""

    rewritten: int
    current: int
    unreadable: dict[str, list[Any]]


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found


def _stored(conn: Any, table: str, pk: str, column: str) -> Iterable[tuple[Any, str]]:
    """(row id, stored value) of every non-empty value of a column, read with SQL: a model
    would decrypt what it reads."""
    quote = conn.ops.quote_name
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608  # names from the models
            f"WHERE {quote(column)} <> ''"
        )
        return list(cursor.fetchall())


def secrets_reencrypt(*, dry_run: bool = False) -> ReencryptReport:
    """Rewrite every encrypted value that is not under the newest key with it.

    Each value is replaced by a conditional UPDATE (`WHERE column = old token`), so a secret
    changed meanwhile in the admin is not overwritten; one transaction per field. Values that
    no key opens are reported and left untouched."""
    multi, newest = keys(), Fernet(_key_list()[0])
    quote = connection.ops.quote_name
    rewritten = current = 0
    unreadable: dict[str, list[Any]] = {}
    for model, field in encrypted_fields():
        label = f"{model._meta.label}.{field.name}"
        pk = model._meta.pk
        assert pk is not None
        with transaction.atomic():
            for row_id, token in _stored(connection, model._meta.db_table, pk.column, field.column):
                try:
                    newest.decrypt(token.encode("ascii"))
                    current += 1
                    continue
                except (InvalidToken, UnicodeError):
                    pass
                try:
                    fresh = multi.rotate(token.encode("ascii")).decode("ascii")
                except (InvalidToken, UnicodeError):
                    unreadable.setdefault(label, []).append(row_id)
                    continue
                rewritten += 1
                if dry_run:
                    continue
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {quote(model._meta.db_table)} SET {quote(field.column)} = %s "  # noqa: S608
                        f"WHERE {quote(pk.column)} = %s AND {quote(field.column)} = %s",
                        [fresh, row_id, token],
                    )
    return ReencryptReport(rewritten=rewritten, current=current, unreadable=unreadable)


# --- the migration that encrypted the plain values ----------------------------------------------


def migrate_values(
    schema_editor: Any, tables: Sequence[tuple[str, str, str]], *, forward: bool
) -> None:
    """Encrypt (forward) or decrypt the values of ``(table, pk column, column)`` in place, with
    SQL: the migration's models would themselves decrypt what they read. Forward leaves a
    value that already decrypts as it is (a second run changes nothing); backward refuses a
    value no key opens, and the migration's transaction keeps everything as it was."""
    conn = schema_editor.connection
    quote = conn.ops.quote_name
    multi = keys()
    for table, pk, column in tables:
        for row_id, value in _stored(conn, table, pk, column):
            try:
                plain = multi.decrypt(value.encode("utf-8")).decode("utf-8")
                already = True
            except (InvalidToken, UnicodeError):
                plain, already = value, False
            if forward and already:
                continue
            if not forward and not already:
                raise SecretUnreadable(
                    f"{table}.{column} of row {row_id} cannot be decrypted with {SETTING}: "
                    "nothing was changed."
                )
            new = multi.encrypt(plain.encode("utf-8")).decode("ascii") if forward else plain
            with conn.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s",  # noqa: S608
                    [new, row_id],
                )
