"""Web screens of the funding programmes."""

from django.urls import path

from logistics.funding import views

urlpatterns: list = [
    path("fund/programmes/", views.programme_list, name="programme_list"),
    path("fund/programmes/new/", views.programme_create, name="programme_create"),
    path("fund/programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("fund/programmes/<int:pk>/edit/", views.programme_edit, name="programme_edit"),
]
