"""Root URLs: the web screens, the admin, the API and its documentation, the health check."""

from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("labels/", include("labels.urls")),
    path("", include("logistics.urls")),
    path("", include("inventory.urls_root")),
    path("", include("inventory.urls")),
]
