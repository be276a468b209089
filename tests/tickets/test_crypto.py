"""Secrets at rest: mailbox passwords, webhook and chat secrets are Fernet tokens in the
database, plain text in Python; keys rotate with `secrets_reencrypt`; the migration encrypts
what was there and decrypts it back; a missing or wrong key is a clear refusal that loses
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import World, make_world
from tickets.crypto import SecretUnreadable, keys, migrate_values
from tickets.models import Desk, Mailbox, Organization

ROOT = Path(__file__).resolve().parent.parent.parent
OLD, NEW, FOREIGN = (Fernet.generate_key().decode() for _ in range(3))


def raw(model: type, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def secrets_of(world: World) -> tuple[Desk, Organization, Mailbox]:
    desk = world.europe
    desk.inbound_secret = "webhook-token-of-europe"
    desk.save()
    acme = world.acme
    acme.chat_secret = "c" * 40
    acme.save()
    mailbox = Mailbox.objects.create(
        desk=desk, host="imap.example.test", username="eu", password="imap pässword"
    )
    return desk, acme, mailbox


@pytest.mark.django_db
def test_secrets_are_tokens_in_the_database_and_text_in_python() -> None:
    desk, acme, mailbox = secrets_of(make_world())
    for model, pk, column, plain in (
        (Desk, desk.pk, "inbound_secret", "webhook-token-of-europe"),
        (Organization, acme.pk, "chat_secret", "c" * 40),
        (Mailbox, mailbox.pk, "password", "imap pässword"),
    ):
        stored = raw(model, pk, column)
        assert plain not in stored and stored.startswith("gAAAAA")
        assert keys().decrypt(stored.encode()).decode() == plain
        assert getattr(model.objects.get(pk=pk), column) == plain
    # Empty means "turned off", and is queried as such.
    globex = Organization.objects.get(slug="globex")
    assert raw(Organization, globex.pk, "chat_secret") == ""
    assert set(Organization.objects.exclude(chat_secret="")) == {acme}
    with pytest.raises(FieldError, match="encrypted"):
        Organization.objects.filter(chat_secret="c" * 40).exists()
    with pytest.raises(FieldError, match="Unsupported lookup"):
        Desk.objects.filter(inbound_secret__startswith="web").exists()


@pytest.mark.django_db
def test_the_plain_text_keeps_its_length_limit() -> None:
    world = make_world()
    mailbox = Mailbox(desk=world.europe, host="imap.example.test", username="u", password="p" * 201)
    with pytest.raises(Exception, match="at most 200 characters"):
        mailbox.full_clean()


@pytest.mark.django_db
def test_a_secret_no_key_opens_is_refused_by_name_and_kept(settings: object) -> None:
    desk, _acme, _mailbox = secrets_of(make_world())
    stored = raw(Desk, desk.pk, "inbound_secret")
    settings.PACTE_ENCRYPTION_KEYS = [FOREIGN]  # type: ignore[attr-defined]
    with pytest.raises(
        SecretUnreadable, match=r"tickets\.Desk\.inbound_secret cannot be decrypted"
    ):
        Desk.objects.get(pk=desk.pk)
    assert raw(Desk, desk.pk, "inbound_secret") == stored


@pytest.mark.parametrize(
    ("configured", "message"),
    [([], "PACTE_ENCRYPTION_KEYS is empty"), ([NEW, "not-a-key"], "key number 2 is not")],
)
def test_missing_or_malformed_keys_are_named(
    settings: object, configured: list[str], message: str
) -> None:
    settings.PACTE_ENCRYPTION_KEYS = configured  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match=message):
        keys()
    errors = Mailbox._meta.get_field("password").check()
    assert [(e.id, message in e.msg) for e in errors] == [("pacte.E001", True)]


@pytest.mark.django_db
def test_rotation_rewrites_every_secret_with_the_newest_key(
    settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.PACTE_ENCRYPTION_KEYS = [OLD]  # type: ignore[attr-defined]
    desk, acme, mailbox = secrets_of(make_world())
    settings.PACTE_ENCRYPTION_KEYS = [NEW, OLD]  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="not under the newest key yet"):
        call_command("secrets_reencrypt", "--check")
    assert "3 secret(s) to rewrite" in capsys.readouterr().out
    call_command("secrets_reencrypt")
    assert "3 secret(s) rewritten with the newest key, 0 already" in capsys.readouterr().out
    call_command("secrets_reencrypt", "--check")
    assert "0 secret(s) to rewrite with the newest key, 3 already" in capsys.readouterr().out

    settings.PACTE_ENCRYPTION_KEYS = [NEW]  # type: ignore[attr-defined]  # the old key removed
    assert Desk.objects.get(pk=desk.pk).inbound_secret == "webhook-token-of-europe"
    assert Organization.objects.get(pk=acme.pk).chat_secret == "c" * 40
    assert Mailbox.objects.get(pk=mailbox.pk).password == "imap pässword"


@pytest.mark.django_db
def test_rotation_names_what_no_key_opens_and_leaves_it(
    settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.PACTE_ENCRYPTION_KEYS = [OLD]  # type: ignore[attr-defined]
    desk, _acme, mailbox = secrets_of(make_world())
    foreign = Fernet(FOREIGN).encrypt(b"from elsewhere").decode()
    Mailbox.objects.filter(pk=mailbox.pk).update(password="x")  # through the field: encrypted
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_mailbox SET password = %s WHERE id = %s", [foreign, mailbox.pk]
        )
    settings.PACTE_ENCRYPTION_KEYS = [NEW, OLD]  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match=rf"tickets\.Mailbox\.password ids \[{mailbox.pk}\]"):
        call_command("secrets_reencrypt")
    assert "2 secret(s) rewritten" in capsys.readouterr().out
    assert raw(Mailbox, mailbox.pk, "password") == foreign
    assert Fernet(NEW).decrypt(raw(Desk, desk.pk, "inbound_secret").encode())


def test_a_new_key_is_printed_on_demand(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("secrets_reencrypt", "--generate-key")
    Fernet(capsys.readouterr().out.strip())  # a valid key


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_plain_values_and_back() -> None:
    desk, acme, mailbox = secrets_of(make_world())
    executor = MigrationExecutor(connection)
    executor.migrate([("tickets", "0011_report_indexes")])
    try:
        assert raw(Desk, desk.pk, "inbound_secret") == "webhook-token-of-europe"
        assert raw(Organization, acme.pk, "chat_secret") == "c" * 40
        assert raw(Mailbox, mailbox.pk, "password") == "imap pässword"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    stored = raw(Mailbox, mailbox.pk, "password")
    assert stored.startswith("gAAAAA")
    assert Mailbox.objects.get(pk=mailbox.pk).password == "imap pässword"
    assert Desk.objects.get(pk=desk.pk).inbound_secret == "webhook-token-of-europe"
    # Run again (a half-done migration retried): what is encrypted stays as it is.
    tables = [("tickets_mailbox", "id", "password")]
    with connection.schema_editor() as editor:
        migrate_values(editor, tables, forward=True)
    assert raw(Mailbox, mailbox.pk, "password") == stored


@pytest.mark.django_db
def test_going_back_refuses_a_value_no_key_opens() -> None:
    _desk, _acme, mailbox = secrets_of(make_world())
    foreign = Fernet(FOREIGN).encrypt(b"from elsewhere").decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_mailbox SET password = %s WHERE id = %s", [foreign, mailbox.pk]
        )

    class Editor:
        connection = connection

    with pytest.raises(SecretUnreadable, match="tickets_mailbox.password of row"):
        migrate_values(Editor(), [("tickets_mailbox", "id", "password")], forward=False)
    assert raw(Mailbox, mailbox.pk, "password") == foreign
