"""Web screens of hand-overs and their receipts, and the receipts' public check."""

from django.urls import path

from logistics.handovers import views

urlpatterns: list = [
    path("hand-overs/", views.hand_over_list, name="hand_over_list"),
    path("hand-overs/new/", views.hand_over_create, name="hand_over_create"),
    path("hand-overs/<int:pk>/", views.hand_over_detail, name="hand_over_detail"),
    path("hand-overs/<int:pk>/sign/", views.hand_over_sign, name="hand_over_sign"),
    path(
        "hand-overs/<int:pk>/receipt.pdf",
        views.hand_over_receipt_pdf,
        name="hand_over_receipt_pdf",
    ),
    # Public: anyone holding a receipt checks it here, without an account.
    path("receipts/verify/", views.receipt_verify, name="receipt_verify"),
    path("receipts/verify/<str:code>/", views.receipt_verify_code, name="receipt_verify_code"),
]
