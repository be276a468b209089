from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from sla import contracts
        from sla.clocks import recount

        recount.connect_signals()
        contracts.connect_signals()
