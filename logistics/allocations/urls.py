"""Web screens of matching runs, the matching policy and allocations."""

from django.urls import path

from logistics.allocations import views

urlpatterns: list = [
    path("matching/", views.run_list, name="run_list"),
    path("matching/policy/", views.policy, name="matching_policy"),
    path("matching/<int:pk>/", views.run_detail, name="run_detail"),
    path("allocations/", views.allocation_list, name="allocation_list"),
]
