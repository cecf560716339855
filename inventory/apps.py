from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        from django.contrib import admin

        # Guards are registered here, explicitly; signals registers its receivers on import.
        from inventory import guards, signals  # noqa: F401
        from inventory.login import ThrottledAdminAuthenticationForm
        from inventory.reconditioning import ready

        guards.register_lifecycle_guards()
        ready.register()
        # Staff and superuser accounts are the ones most worth guessing: the admin's login
        # counts failures in the same throttle as the site's.
        admin.site.login_form = ThrottledAdminAuthenticationForm
