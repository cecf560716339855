from django.apps import AppConfig


class LogisticsConfig(AppConfig):
    name = "logistics"

    def ready(self) -> None:
        from inventory.web import device_facts
        from logistics import receivers  # noqa: F401  (a device received closes its shipment item)
        from logistics.disposals.selectors import disposal_facts

        device_facts.register(disposal_facts)
