from django.apps import AppConfig


class LogisticsConfig(AppConfig):
    name = "logistics"

    def ready(self) -> None:
        from logistics import receivers  # noqa: F401  (a device received closes its shipment item)
