"""REST API routes, the OpenAPI schema and its interactive documentation."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api.errors import endpoint_not_found
from api.views import allocations as views_allocations
from api.views import deliveries as views_deliveries
from api.views import devices as views
from api.views import disposals as views_disposals
from api.views import fund_reports as views_fund_reports
from api.views import handovers as views_handovers
from api.views import intake as views_intake
from api.views import labels as views_labels
from api.views import loans as views_loans
from api.views import needs as views_needs
from api.views import programmes as views_programmes
from api.views import reconditioning as views_reconditioning
from api.views import scanning as views_scanning
from api.views import shipments as views_shipments
from api.views import structures as views_structures

app_name = "api"

router = SimpleRouter()
router.register("devices", views.DeviceViewSet, basename="device")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("scan", views_scanning.ScanViewSet, basename="scan")
router.register("labels", views_labels.LabelViewSet, basename="label")
# Bench records: /devices/{id}/reconditioning/, lock-checks/, media/…, /media/{id}/erasures/.
router.register("devices", views_reconditioning.DeviceBenchViewSet, basename="device-bench")
router.register("media", views_reconditioning.MediumBenchViewSet, basename="medium")
router.register("erasures", views_reconditioning.ErasureBenchViewSet, basename="erasure")
# Intake: donations (with /donations/{id}/devices/ and /import/) and donors.
router.register("donations", views_intake.DonationViewSet, basename="donation")
router.register("donations", views_intake.DonationImportViewSet, basename="donation-import")
router.register("donors", views_intake.DonorViewSet, basename="donor")
# Logistics: shipments and their receipt, a workshop's queue, WEEE disposals.
router.register("shipments", views_shipments.ShipmentViewSet, basename="shipment")
router.register("workshops", views_shipments.WorkshopViewSet, basename="workshop")
router.register("disposals", views_disposals.DisposalViewSet, basename="disposal")
# The needs register: /needs/, /needs/units/, /needs/{id}/ and its moves.
router.register("needs", views_needs.NeedViewSet, basename="need")
# Matching runs (/matching-runs/{id}/ with approve, discard and lines/{line_id}/…) and
# allocations (/allocations/{id}/cancel/).
router.register("matching-runs", views_allocations.MatchingRunViewSet, basename="matching-run")
router.register("allocations", views_allocations.AllocationViewSet, basename="allocation")
# The coordination's structures (/structures/, /structures/import/, /structures/{id}/ and its
# people) and a structure's person by user id (/members/{id}/…).
router.register("structures", views_structures.StructureViewSet, basename="structure")
router.register("structures", views_structures.StructureImportViewSet, basename="structure-import")
router.register("members", views_structures.MemberViewSet, basename="member")
# Deliveries to structures (/deliveries/, /deliveries/build/ and each one's steps), hand-overs
# (/hand-overs/{id}/signature/; the receipt's PDF below), loans (/loans/{id}/extend/, /return/)
# and what structures report of their devices (/device-reports/{id}/close/).
router.register("deliveries", views_deliveries.DeliveryViewSet, basename="delivery")
router.register("hand-overs", views_handovers.HandOverViewSet, basename="hand-over")
router.register("loans", views_loans.LoanViewSet, basename="loan")
router.register("device-reports", views_loans.DeviceReportViewSet, basename="device-report")
# The fund: funding programmes (/programmes/{id}/ under If-Match) and the reports issued and
# frozen (/fund/reports/{id}/ with changes/; their stored files below, with the live figures).
router.register("programmes", views_programmes.ProgrammeViewSet, basename="programme")
router.register("fund/reports", views_fund_reports.FundReportViewSet, basename="fund-report")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script), not
    # inline: the Content-Security-Policy runs no inline script without the request's nonce.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path(
        "matching-policy/",
        views_allocations.MatchingPolicyView.as_view(),
        name="matching-policy",
    ),
    path(
        "disposals/register.csv",
        views_disposals.DisposalRegisterView.as_view(),
        name="disposal-register",
    ),
    re_path(
        r"^hand-overs/(?P<pk>[0-9]+)/receipt\.pdf$",
        views_handovers.HandOverReceiptView.as_view(),
        name="hand-over-receipt",
    ),
    # The fund's figures and its report of a period, drawn now; an issued report's stored files.
    path("fund/figures/", views_fund_reports.FundFiguresView.as_view(), name="fund-figures"),
    path(
        "fund/report/", views_fund_reports.FundReportDocumentView.as_view(), name="fund-live-report"
    ),
    *[
        path(f"fund/report.{kind}", view.as_view(), name=f"fund-live-report-{kind}")
        for kind, view in views_fund_reports.LIVE_FILE_VIEWS.items()
    ],
    *[
        re_path(
            rf"^fund/reports/(?P<pk>[0-9]+)/report\.{kind}$",
            view.as_view(),
            name=f"fund-report-{kind}",
        )
        for kind, view in views_fund_reports.STORED_FILE_VIEWS.items()
    ],
    *router.urls,
    # Last: any other /api/ address answers 404 in the API's error shape, not an HTML page;
    # [\s\S], not ".", so that an address holding an encoded line break (%0A) is caught too.
    re_path(r"^[\s\S]*$", endpoint_not_found),
]
