"""The scan page and batch mode (inside the inventory namespace); the label URL /d/<code> is in
inventory.urls_root, outside any namespace, because printed labels carry it."""

from django.urls import path

from inventory.scanning import views

urlpatterns = [
    path("scan/", views.scan, name="scan"),
    path("scan/batch/", views.batch_start, name="scan_batch_start"),
    path("scan/batch/<str:batch>/", views.scan_batch, name="scan_batch"),
]
