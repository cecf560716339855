"""Web screens of the inventory."""

from django.urls import path

from . import scan_views, urls_documents, urls_intake, views

app_name = "inventory"
urlpatterns = [
    path("devices/", views.device_list, name="device_list"),
    path("devices/new/", views.device_register, name="device_register"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/move/", views.device_transition, name="device_transition"),
    path("scan/", scan_views.scan, name="scan"),
    path("scan/batch/", scan_views.batch_start, name="scan_batch_start"),
    path("scan/batch/<str:batch>/", scan_views.scan_batch, name="scan_batch"),
]
urlpatterns += urls_intake.urlpatterns + urls_documents.urlpatterns
