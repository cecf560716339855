"""Web screens of WEEE disposals and their register."""

from django.urls import path

from logistics.disposals import views

urlpatterns: list = [
    path("weee/", views.disposal_list, name="disposal_list"),
    path("weee/new/", views.disposal_create, name="disposal_create"),
    path("weee/<int:pk>/", views.disposal_detail, name="disposal_detail"),
    path("weee/register.csv", views.disposal_register_csv, name="disposal_register_csv"),
]
