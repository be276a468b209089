from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        from sla import contracts
        from sla.clocks import recount
        from sla.reports.triggers import triggers_after_migrate, triggers_before_migrate

        recount.connect_signals()
        contracts.connect_signals()
        pre_migrate.connect(triggers_before_migrate, sender=self)
        post_migrate.connect(triggers_after_migrate, sender=self)
