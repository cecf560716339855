"""Web screens of deliveries."""

from django.urls import path

from logistics.deliveries import views

urlpatterns: list = [
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/prepare/", views.delivery_prepare, name="delivery_prepare"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/note/", views.delivery_note, name="delivery_note"),
]
