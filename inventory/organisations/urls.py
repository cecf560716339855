"""Web screens of the network's organisations and their people."""

from django.urls import path

from inventory.organisations import views

urlpatterns: list = [
    path(
        "invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
]
