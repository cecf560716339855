"""Web screens of the network's organisations and their people."""

from django.urls import path

from inventory.organisations import views

urlpatterns: list = [
    path(
        "invitation/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path("structures/", views.structure_list, name="structure_list"),
    path("structures/new/", views.structure_create, name="structure_create"),
    path("structures/import/", views.structure_import, name="structure_import"),
    path("structures/<int:pk>/", views.structure_detail, name="structure_detail"),
    path("structures/<int:pk>/edit/", views.structure_edit, name="structure_edit"),
    path("structures/<int:pk>/active/", views.structure_set_active, name="structure_set_active"),
    path(
        "structures/<int:pk>/people/<int:user_id>/active/",
        views.member_set_active,
        name="member_set_active",
    ),
    path(
        "structures/<int:pk>/people/<int:user_id>/reinvite/",
        views.member_reinvite,
        name="member_reinvite",
    ),
]
