"""Web screens of logistics: shipments to workshops, WEEE disposals, the needs register, matching
runs and allocations; deliveries, hand-overs and loans; the fund's figures, reports and
funding programmes."""

from logistics.allocations import urls as urls_allocations
from logistics.deliveries import urls as urls_deliveries
from logistics.disposals import urls as urls_disposals
from logistics.fund_reports import urls as urls_fund_reports
from logistics.funding import urls as urls_funding
from logistics.handovers import urls as urls_handovers
from logistics.loans import urls as urls_loans
from logistics.needs import urls as urls_needs
from logistics.shipments import urls as urls_shipments

app_name = "logistics"
urlpatterns = (
    urls_shipments.urlpatterns
    + urls_disposals.urlpatterns
    + urls_needs.urlpatterns
    + urls_allocations.urlpatterns
    + urls_deliveries.urlpatterns
    + urls_handovers.urlpatterns
    + urls_loans.urlpatterns
    + urls_fund_reports.urlpatterns
    + urls_funding.urlpatterns
)
