"""Web screens of the inventory: the device pages here, each capability's own routes added."""

from django.urls import path

from inventory import views
from inventory.documents import urls as documents_urls
from inventory.intake import urls as intake_urls
from inventory.organisations import urls as organisations_urls
from inventory.reconditioning import urls as reconditioning_urls
from inventory.scanning import urls as scanning_urls

app_name = "inventory"
urlpatterns = [
    path("devices/", views.device_list, name="device_list"),
    path("devices/new/", views.device_register, name="device_register"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/move/", views.device_transition, name="device_transition"),
]
# Each capability keeps its routes; they share the "inventory" namespace.
urlpatterns += (
    scanning_urls.urlpatterns
    + reconditioning_urls.urlpatterns
    + intake_urls.urlpatterns
    + documents_urls.urlpatterns
    + organisations_urls.urlpatterns
)
