"""The bench record of a device and the checklists (inside the inventory namespace)."""

from django.urls import path

from inventory.reconditioning import views

urlpatterns = [
    path("devices/<int:pk>/bench/", views.bench_record, name="bench_record"),
    path("devices/<int:pk>/bench/locks/", views.bench_locks, name="bench_locks"),
    path("devices/<int:pk>/bench/media/", views.bench_medium, name="bench_medium"),
    path("devices/<int:pk>/bench/erasure/", views.bench_erasure, name="bench_erasure"),
    path("devices/<int:pk>/bench/reset/", views.bench_factory_reset, name="bench_reset"),
    path("devices/<int:pk>/bench/tests/", views.bench_tests, name="bench_tests"),
    path("devices/<int:pk>/bench/assessment/", views.bench_assessment, name="bench_assessment"),
    path("devices/<int:pk>/bench/repairs/", views.bench_repair, name="bench_repair"),
    path(
        "devices/<int:pk>/erasures/<int:erasure_pk>/report/",
        views.erasure_report,
        name="erasure_report",
    ),
    path("checklists/", views.checklist_index, name="checklist_index"),
    path("checklists/<slug:code>/", views.checklist_category, name="checklist_category"),
]
