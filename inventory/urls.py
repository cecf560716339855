"""Web screens of the inventory."""

from django.urls import path

from inventory import views
from inventory.documents import urls as urls_documents
from inventory.intake import urls as urls_intake
from inventory.reconditioning import views as bench_views
from inventory.scanning import views as scan_views

app_name = "inventory"
urlpatterns = [
    path("devices/", views.device_list, name="device_list"),
    path("devices/new/", views.device_register, name="device_register"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/move/", views.device_transition, name="device_transition"),
    path("devices/<int:pk>/bench/", bench_views.bench_record, name="bench_record"),
    path("devices/<int:pk>/bench/locks/", bench_views.bench_locks, name="bench_locks"),
    path("devices/<int:pk>/bench/media/", bench_views.bench_medium, name="bench_medium"),
    path("devices/<int:pk>/bench/erasure/", bench_views.bench_erasure, name="bench_erasure"),
    path("devices/<int:pk>/bench/reset/", bench_views.bench_factory_reset, name="bench_reset"),
    path("devices/<int:pk>/bench/tests/", bench_views.bench_tests, name="bench_tests"),
    path(
        "devices/<int:pk>/bench/assessment/",
        bench_views.bench_assessment,
        name="bench_assessment",
    ),
    path("devices/<int:pk>/bench/repairs/", bench_views.bench_repair, name="bench_repair"),
    path(
        "devices/<int:pk>/erasures/<int:erasure_pk>/report/",
        bench_views.erasure_report,
        name="erasure_report",
    ),
    path("checklists/", bench_views.checklist_index, name="checklist_index"),
    path(
        "checklists/<slug:code>/",
        bench_views.checklist_category,
        name="checklist_category",
    ),
    path("scan/", scan_views.scan, name="scan"),
    path("scan/batch/", scan_views.batch_start, name="scan_batch_start"),
    path("scan/batch/<str:batch>/", scan_views.scan_batch, name="scan_batch"),
]
urlpatterns += urls_intake.urlpatterns + urls_documents.urlpatterns
