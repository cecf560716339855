"""Web screens of shipments to workshops and of a workshop's queue."""

from django.urls import path

from logistics.shipments import views

urlpatterns: list = [
    path("shipments/", views.shipment_list, name="shipment_list"),
    path("shipments/new/", views.shipment_create, name="shipment_create"),
    path("shipments/<int:pk>/", views.shipment_detail, name="shipment_detail"),
    path(
        "shipments/<int:pk>/delivery-note/",
        views.shipment_delivery_note,
        name="shipment_delivery_note",
    ),
    path("shipments/<int:pk>/receive/", views.shipment_receive, name="shipment_receive"),
    path("workshop/queue/", views.workshop_queue, name="workshop_queue"),
]
