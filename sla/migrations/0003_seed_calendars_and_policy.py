"""The three calendars and the `standard` policy of SLA-RULES.md exist on an empty database."""

from django.db import migrations

from sla.defaults import seed_defaults


def seed(apps, schema_editor):
    seed_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
