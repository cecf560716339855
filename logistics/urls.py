"""Web screens of logistics: shipments to workshops, WEEE disposals."""

from logistics import urls_disposals, urls_shipments

app_name = "logistics"
urlpatterns = urls_shipments.urlpatterns + urls_disposals.urlpatterns
