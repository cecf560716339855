"""Every error in the {"code", "detail"} shape, with the right status, and never a 500."""

import pytest
from django.db import IntegrityError
from rest_framework import exceptions
from rest_framework.test import APIClient

from api.errors import exception_handler
from inventory import services
from inventory.models import Device

URL = "/api/devices/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize(
    "path", [URL, "/api/devices/1/", "/api/devices/by-code/ABC/", "/api/organisations/"]
)
def test_unauthenticated_requests_answer_401_with_a_challenge(db, path):
    response = APIClient().get(path)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_an_unknown_token_answers_401(db):
    response = APIClient().get(URL, headers={"Authorization": "Token not-a-token"})
    assert_error(response, 401, "not_authenticated")


def test_an_unauthenticated_create_writes_nothing(db):
    response = APIClient().post(URL, {"category": "laptop", "manufacturer": "HP"}, format="json")
    assert_error(response, 401, "not_authenticated")
    assert Device.objects.count() == 0


@pytest.mark.parametrize("raw", [b"{", b'{"category": "laptop",}', b"\xff\xfe", b"{'a': 1}"])
def test_malformed_json_answers_400_parse_error(api, coordinator, raw):
    response = api(coordinator).post(URL, raw, content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_malformed_json_on_a_transition_answers_400_parse_error(api, coordinator, device):
    response = api(coordinator).post(
        f"/api/devices/{device.pk}/transition/", b"[", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_a_form_encoded_body_answers_415(api, coordinator):
    response = api(coordinator).post(URL, {"category": "laptop", "manufacturer": "HP"})
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_an_unsupported_method_answers_405(api, coordinator, device, method):
    response = getattr(api(coordinator), method)(f"/api/devices/{device.pk}/", {}, format="json")
    assert_error(response, 405, "method_not_allowed")


def test_get_on_the_transition_action_answers_405(api, coordinator, device):
    response = api(coordinator).get(f"/api/devices/{device.pk}/transition/")
    assert_error(response, 405, "method_not_allowed")


def test_an_unacceptable_accept_header_answers_406(api, coordinator):
    response = api(coordinator).get(URL, headers={"Accept": "text/csv"})
    assert response.status_code == 406


def test_a_session_write_without_csrf_token_answers_403(coordinator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(URL, {"category": "laptop", "manufacturer": "HP"}, format="json")
    assert_error(response, 403, "permission_denied")
    assert Device.objects.count() == 0


@pytest.mark.parametrize(
    "path", ["/api/nothing-here/", "/api/devices", "/api/devices/1/unknown/", "/api/"]
)
def test_an_unknown_api_address_answers_404_in_the_api_shape(api, coordinator, path):
    assert_error(api(coordinator).get(path), 404, "not_found")


def test_a_post_without_trailing_slash_answers_404_not_500(api, coordinator):
    response = api(coordinator).post("/api/devices", {}, format="json")
    assert_error(response, 404, "not_found")


def test_an_integrity_error_escaping_a_service_answers_409_conflict(api, coordinator, monkeypatch):
    def raise_integrity_error(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: inventory_device.imei1")

    monkeypatch.setattr(services, "device_register", raise_integrity_error)
    response = api(coordinator).post(
        URL, {"category": "laptop", "manufacturer": "HP"}, format="json"
    )
    body = assert_error(response, 409, "conflict")
    assert "inventory_device" not in body["detail"]  # no database internals in the reply


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (exceptions.Throttled(wait=30), 429, "throttled"),
        (exceptions.NotFound(), 404, "not_found"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (exceptions.UnsupportedMediaType("text/xml"), 415, "unsupported_media_type"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.ParseError(), 400, "parse_error"),
        (exceptions.ValidationError(["whole body"]), 400, "invalid"),
    ],
)
def test_the_handler_gives_every_drf_error_a_code_and_detail(exc, status, code):
    response = exception_handler(exc, {})
    assert response.status_code == status
    assert response.data["code"] == code
    assert response.data["detail"]


def test_a_throttled_reply_keeps_its_retry_after_header():
    response = exception_handler(exceptions.Throttled(wait=30), {})
    assert response["Retry-After"] == "30"


def test_a_validation_error_about_the_whole_body_lands_in_non_field_errors():
    response = exception_handler(exceptions.ValidationError(["whole body"]), {})
    assert response.data["fields"] == {"non_field_errors": ["whole body"]}


def test_an_unexpected_exception_is_left_to_django():
    assert exception_handler(RuntimeError("bug"), {}) is None


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000])
def test_json_nested_too_deeply_answers_400_parse_error(api, coordinator, raw):
    response = api(coordinator).post(URL, raw, content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_a_body_over_the_upload_limit_answers_413(api, coordinator, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"category": "laptop", "manufacturer": "HP", "notes": "x" * 20_000}
    response = api(coordinator).post(URL, body, format="json")
    assert_error(response, 413, "request_too_large")
    assert Device.objects.count() == 0


def test_an_unknown_address_answers_404_even_to_a_session_post_without_csrf(coordinator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(coordinator)
    assert_error(client.post("/api/devices", {}, format="json"), 404, "not_found")
