from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        # Guards are registered here, explicitly; signals registers its receivers on import.
        from inventory import guards, signals  # noqa: F401
        from inventory.reconditioning import ready

        guards.register_lifecycle_guards()
        ready.register()
