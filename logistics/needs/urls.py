"""Web screens of the needs register."""

from django.urls import path

from logistics.needs import views

urlpatterns: list = [
    path("needs/", views.need_list, name="need_list"),
    path("needs/new/", views.need_create, name="need_create"),
    path("needs/export.csv", views.need_export_csv, name="need_export_csv"),
    path("needs/export.xlsx", views.need_export_xlsx, name="need_export_xlsx"),
    path("needs/<int:pk>/", views.need_detail, name="need_detail"),
    path("needs/<int:pk>/edit/", views.need_edit, name="need_edit"),
]
