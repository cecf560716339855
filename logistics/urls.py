"""Web screens of logistics: shipments to workshops, WEEE disposals."""

from logistics.disposals import urls as urls_disposals
from logistics.shipments import urls as urls_shipments

app_name = "logistics"
urlpatterns = urls_shipments.urlpatterns + urls_disposals.urlpatterns
