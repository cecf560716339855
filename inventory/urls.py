"""Web screens of the inventory."""

from django.urls import path

from . import views

app_name = "inventory"
urlpatterns = [
    path("devices/", views.device_list, name="device_list"),
    path("devices/new/", views.device_register, name="device_register"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/move/", views.device_transition, name="device_transition"),
]
