from django.apps import AppConfig


class LogisticsConfig(AppConfig):
    name = "logistics"

    def ready(self) -> None:
        from inventory.states import OrgKind
        from inventory.web import device_facts, home_pages, structure_facts
        from logistics import receivers  # noqa: F401  (moves close shipment and loan items)
        from logistics.allocations.selectors import allocation_facts
        from logistics.disposals.selectors import disposal_facts
        from logistics.fund_reports.views import fund_dashboard
        from logistics.handovers.selectors import hand_over_facts
        from logistics.needs.selectors import structure_need_facts
        from logistics.structure_space.views import structure_space

        device_facts.register(disposal_facts)
        device_facts.register(allocation_facts)
        device_facts.register(hand_over_facts)
        structure_facts.register(structure_need_facts)
        home_pages.register(OrgKind.STRUCTURE, structure_space)
        home_pages.register(OrgKind.FUND, fund_dashboard)
