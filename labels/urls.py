"""Label screens."""

from django.urls import path

from labels import views

app_name = "labels"
urlpatterns = [
    path("print/", views.print_labels, name="print"),
    path("preprint/", views.preprint, name="preprint"),
]
