"""A mailbox may name its own CA bundle (trusted instead of the system store)."""

import tickets.mail.tls
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0011_report_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='mailbox',
            name='ca_bundle',
            field=models.TextField(blank=True, help_text="PEM certificates of the CA that signed the server's certificate, trusted instead of the system's; empty: the system's certificate store. The certificate and the host name are always verified.", validators=[tickets.mail.tls.validate_ca_bundle], verbose_name='CA certificates'),
        ),
    ]
