"""Policies get versions: each policy's targets become its first version, in force since
2000 (before any ticket), and each target belongs to a version instead of the policy."""

from datetime import UTC, datetime

import django.db.models.deletion
from django.db import migrations, models

SINCE_ALWAYS = datetime(2000, 1, 1, tzinfo=UTC)


def first_versions(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    SlaPolicyVersion = apps.get_model("sla", "SlaPolicyVersion")
    SlaTarget = apps.get_model("sla", "SlaTarget")
    for policy in SlaPolicy.objects.all():
        version = SlaPolicyVersion.objects.create(policy=policy, effective_at=SINCE_ALWAYS)
        SlaTarget.objects.filter(policy=policy).update(version=version)


def policies_back(apps, schema_editor):
    SlaTarget = apps.get_model("sla", "SlaTarget")
    SlaPolicyVersion = apps.get_model("sla", "SlaPolicyVersion")
    # Only the first version of each policy can go back to being the policy's targets.
    for version in SlaPolicyVersion.objects.order_by("policy_id", "effective_at"):
        targets = SlaTarget.objects.filter(version=version)
        if SlaTarget.objects.filter(policy=version.policy_id).exists():
            targets.delete()
        else:
            targets.update(policy=version.policy_id)


class Migration(migrations.Migration):
    dependencies = [("sla", "0010_calendar_changes")]

    operations = [
        migrations.CreateModel(
            name="SlaPolicyVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("effective_at", models.DateTimeField(verbose_name="in force from")),
                ("note", models.TextField(blank=True, help_text="Shown to customers with the change.", verbose_name="what changes and why")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("announced_at", models.DateTimeField(blank=True, null=True, verbose_name="announced")),
                ("policy", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="versions", to="sla.slapolicy")),
            ],
            options={
                "verbose_name": "SLA policy version",
                "verbose_name_plural": "SLA policy versions",
                "ordering": ["policy", "-effective_at"],
                "constraints": [models.UniqueConstraint(fields=("policy", "effective_at"), name="sla_policy_version_unique")],
            },
        ),
        migrations.AddField(
            model_name="slatarget",
            name="version",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="targets", to="sla.slapolicyversion", verbose_name="version"),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="policy",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="sla.slapolicy"),
        ),
        migrations.RunPython(first_versions, policies_back),
        migrations.RemoveConstraint(model_name="slatarget", name="sla_target_unique"),
        migrations.RemoveField(model_name="slatarget", name="policy"),
        migrations.AlterField(
            model_name="slatarget",
            name="version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="targets", to="sla.slapolicyversion", verbose_name="version"),
        ),
        migrations.AlterModelOptions(
            name="slatarget",
            options={"ordering": ["version", "severity", "metric"], "verbose_name": "SLA target", "verbose_name_plural": "SLA targets"},
        ),
        migrations.AddConstraint(
            model_name="slatarget",
            constraint=models.UniqueConstraint(fields=("version", "severity", "metric"), name="sla_target_unique"),
        ),
    ]
