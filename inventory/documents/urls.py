"""Web screens of the documents a donation produces: erasure certificate, donor summary."""

from django.urls import path

from inventory.documents import views as document_views

urlpatterns: list = [
    # The donor's portal: a donor's people find their donations' documents here.
    path("my-donations/", document_views.donor_donations, name="donor_donations"),
    path(
        "donations/<int:pk>/certificate/",
        document_views.donation_certificate,
        name="donation_certificate",
    ),
    path(
        "donations/<int:pk>/certificate/<int:cert_pk>.pdf",
        document_views.donation_certificate_pdf,
        name="donation_certificate_pdf",
    ),
    path("donations/<int:pk>/summary/", document_views.donation_summary, name="donation_summary"),
    path(
        "donations/<int:pk>/summary.pdf",
        document_views.donation_summary_pdf,
        name="donation_summary_pdf",
    ),
    # Public: anyone holding a certificate checks it here, without an account.
    path("certificates/verify/", document_views.certificate_verify, name="certificate_verify"),
    path(
        "certificates/verify/<str:code>/",
        document_views.certificate_verify_code,
        name="certificate_verify_code",
    ),
]
