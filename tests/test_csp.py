"""Content-Security-Policy: every page carries the strict policy, and no page holds inline code
that the policy would block (a script or style without the request's nonce, an event handler
or a style attribute). Browser checks are in tests/e2e/test_csp.py."""

import base64
import hashlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import path, reverse

from logistics.shipments.services import shipment_create
from tests.builders import PASSWORD, dispose, make_device, recycled

pytestmark = pytest.mark.django_db

REQUIRED = [
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def nonce_of(response) -> str | None:
    for value in policy(response).get("script-src", []):
        if value.startswith("'nonce-"):
            return value[len("'nonce-") : -1]
    return None


def assert_strict(response) -> None:
    header = response["Content-Security-Policy"]
    for directive in REQUIRED:
        assert directive in header, (directive, header)
    for name in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy(response).get(name, []), header
        assert "'unsafe-eval'" not in policy(response).get(name, []), header
    if response.get("Content-Type", "").startswith("text/html"):
        html = response.content.decode()
        nonce = nonce_of(response)
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            if "src=" not in tag:  # inline: it runs only with this request's nonce
                assert f'nonce="{nonce}"' in tag, tag
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "an inline event handler"
        assert not re.search(r"<[^>]+\sstyle\s*=", html), "a style attribute"


@pytest.fixture
def pages(coordinator, workshop_org, donor_org, donation):
    device = make_device(actor=coordinator, donor=donor_org)
    shipment = shipment_create(
        actor=coordinator, workshop=workshop_org, devices=[make_device(actor=coordinator).pk]
    )
    batch = dispose(actor=coordinator, devices=[recycled(actor=coordinator).pk])
    return [
        reverse("home"),
        reverse("inventory:device_list"),
        reverse("inventory:device_detail", args=[device.pk]),
        reverse("inventory:device_register"),
        reverse("inventory:scan"),
        reverse("inventory:scan_batch_start"),
        reverse("inventory:checklist_index"),
        reverse("inventory:donation_list"),
        reverse("inventory:donation_create"),
        reverse("inventory:donation_detail", args=[donation.pk]),
        reverse("inventory:donation_import", args=[donation.pk]),
        reverse("inventory:certificate_verify"),
        reverse("logistics:shipment_list"),
        reverse("logistics:shipment_create"),
        reverse("logistics:shipment_detail", args=[shipment.pk]),
        reverse("logistics:shipment_delivery_note", args=[shipment.pk]),
        reverse("logistics:shipment_receive", args=[shipment.pk]),
        reverse("logistics:disposal_list"),
        reverse("logistics:disposal_create"),
        reverse("logistics:disposal_detail", args=[batch.pk]),
        reverse("logistics:disposal_register_csv"),
        reverse("labels:preprint"),
        reverse("api:docs"),
        reverse("api:docs") + "?script=",
        reverse("api:schema"),
        reverse("api:device-list"),
        "/no-such-page/",
    ]


def test_every_main_page_carries_the_strict_policy(login, coordinator, pages):
    client = login(coordinator)
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert_strict(response)


def test_pages_for_visitors_carry_it_too(client, device):
    for url in (
        reverse("login"),
        reverse("admin:login"),
        reverse("device_by_label", args=[device.label_code_id]),
        reverse("inventory:certificate_verify"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


def test_a_form_sent_back_with_errors_carries_the_policy_too(login, coordinator):
    # Any inline script a re-rendered form holds (a focus on its error summary) has the nonce.
    response = login(coordinator).post(
        reverse("logistics:shipment_create"), {"workshop": "", "send": "1"}
    )
    assert response.status_code == 200
    assert "error-summary" in response.text
    assert_strict(response)


def test_the_admin_carries_the_policy_with_its_nonces(client, db):
    get_user_model().objects.create_superuser(username="boss", password=PASSWORD)
    client.login(username="boss", password=PASSWORD)
    for url in (
        reverse("admin:index"),
        reverse("admin:inventory_device_changelist"),
        reverse("admin:inventory_category_add"),
        reverse("admin:auth_user_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


def test_the_api_documentation_runs_no_inline_script(client, db):
    response = client.get(reverse("api:docs"))
    html = response.text
    assert '<script src="/api/docs/?script="></script>' in html
    assert not re.search(r"<script>", html)
    script = client.get(reverse("api:docs"), {"script": ""})
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", broken_view)]


@pytest.mark.urls(__name__)
def test_the_standalone_server_error_page_keeps_its_style_by_hash(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    (style,) = re.findall(r"<style>(.*?)</style>", response.content.decode(), re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy(response)["style-src"]
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_browsable_api_gives_its_inline_style_the_nonce(login, coordinator):
    response = login(coordinator).get(reverse("api:device-list"), HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html")
    nonce = policy(response)["style-src"][1][len("'nonce-") : -1]
    (tag,) = re.findall(r"<style\b[^>]*>", response.text)
    assert tag == f'<style nonce="{nonce}">'
    # DRF's own style attributes are dropped by the policy; the page floats those buttons.
    assert '[data-target="#filtersModal"]' in response.text
