"""A mailbox may name its own CA bundle (trusted instead of the system store). Mailbox
passwords, webhook and chat secrets are encrypted at rest (tickets.crypto): the values are
encrypted with the first key of PACTE_ENCRYPTION_KEYS; going back decrypts them (and refuses,
changing nothing, if a value no key opens)."""

import django.core.validators
import tickets.crypto
import tickets.channels.email.tls
from django.db import migrations, models


SECRETS = [("desk", "inbound_secret"), ("mailbox", "password"), ("organization", "chat_secret")]


def _tables(apps):
    tables = []
    for model_name, field_name in SECRETS:
        model = apps.get_model("tickets", model_name)
        tables.append(
            (model._meta.db_table, model._meta.pk.column, model._meta.get_field(field_name).column)
        )
    return tables


def encrypt(apps, schema_editor):
    tickets.crypto.migrate_values(schema_editor, _tables(apps), forward=True)


def decrypt(apps, schema_editor):
    tickets.crypto.migrate_values(schema_editor, _tables(apps), forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0011_report_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='mailbox',
            name='ca_bundle',
            field=models.TextField(blank=True, help_text="PEM certificates of the CA that signed the server's certificate, trusted instead of the system's; empty: the system's certificate store. The certificate and the host name are always verified.", validators=[tickets.channels.email.tls.validate_ca_bundle], verbose_name='CA certificates'),
        ),
        migrations.AlterField(
            model_name='desk',
            name='inbound_secret',
            field=tickets.crypto.EncryptedTextField(blank=True, help_text='Bearer token of the inbound mail webhook for this desk; empty turns the webhook off.', max_length=128, verbose_name='inbound webhook secret'),
        ),
        migrations.AlterField(
            model_name='mailbox',
            name='password',
            field=tickets.crypto.EncryptedTextField(max_length=200, verbose_name='password'),
        ),
        migrations.AlterField(
            model_name='organization',
            name='chat_secret',
            field=tickets.crypto.EncryptedTextField(blank=True, help_text="Shared with the organization's developers: their product signs its users' chat tokens with it (HS256). Empty turns the embedded chat widget off; changing it signs every widget out.", max_length=128, validators=[django.core.validators.MinLengthValidator(32)], verbose_name='chat widget secret'),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
