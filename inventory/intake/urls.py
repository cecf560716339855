"""Web screens of intake: donors' donations, their devices and spreadsheet imports."""

from django.urls import path

from inventory.intake import views as intake_views

urlpatterns: list = [
    path("donations/", intake_views.donation_list, name="donation_list"),
    path("donations/new/", intake_views.donation_create, name="donation_create"),
    path("donations/<int:pk>/", intake_views.donation_detail, name="donation_detail"),
    path("donations/<int:pk>/edit/", intake_views.donation_edit, name="donation_edit"),
    path("donations/<int:pk>/import/", intake_views.donation_import, name="donation_import"),
    path(
        "donations/<int:pk>/devices/new/",
        intake_views.donation_device_register,
        name="donation_device_register",
    ),
    path("donors/new/", intake_views.donor_create, name="donor_create"),
]
