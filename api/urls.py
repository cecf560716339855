"""REST API routes, the OpenAPI schema and its interactive documentation."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import views, views_bench
from .errors import endpoint_not_found

app_name = "api"

router = SimpleRouter()
router.register("devices", views.DeviceViewSet, basename="device")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("scan", views.ScanViewSet, basename="scan")
router.register("labels", views.LabelViewSet, basename="label")
# Bench records: /devices/{id}/reconditioning/, lock-checks/, media/…, /media/{id}/erasures/.
router.register("devices", views_bench.DeviceBenchViewSet, basename="device-bench")
router.register("media", views_bench.MediumBenchViewSet, basename="medium")
router.register("erasures", views_bench.ErasureBenchViewSet, basename="erasure")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    # Last: any other /api/ address answers 404 in the API's error shape, not an HTML page;
    # [\s\S], not ".", so that an address holding an encoded line break (%0A) is caught too.
    re_path(r"^[\s\S]*$", endpoint_not_found),
]
