"""Un-namespaced routes that settings name: LOGIN_URL "login", LOGIN_REDIRECT_URL "home"."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from inventory import views
from inventory.scanning import views as scan_views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    # Logout is POST only (Django's LogoutView refuses GET): a link cannot sign anyone out.
    path("logout/", LogoutView.as_view(), name="logout"),
    # What the QR labels encode: SITE_URL/D/<code> in upper case (QR alphanumeric mode).
    path("d/<str:code>", scan_views.device_by_label, name="device_by_label"),
    path("d/<str:code>/", scan_views.device_by_label),
    path("D/<str:code>", scan_views.device_by_label),
    path("D/<str:code>/", scan_views.device_by_label),
]
