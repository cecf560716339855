"""The OpenAPI schema and its docs, and token authentication end to end."""

from io import StringIO

from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.models import Device


def test_schema_endpoint_serves_openapi_3(db):
    response = APIClient().get("/api/schema/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/devices/",
        "/api/devices/{id}/",
        "/api/devices/{id}/transition/",
        "/api/devices/{id}/history/",
        "/api/devices/by-code/{code}/",
        "/api/organisations/",
    ):
        assert path in paths
    filters = {p["name"] for p in paths["/api/devices/"]["get"]["parameters"]}
    assert {"status", "category", "custodian", "q", "page", "page_size"} <= filters
    create = paths["/api/devices/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    assert {"201", "400", "401", "403", "409", "422"} <= set(create["responses"])
    assert "fields" in schema["components"]["schemas"]["ValidationError"]["properties"]


def test_docs_page_serves_swagger_ui(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_schema_validates_without_warnings(db, tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        stderr=StringIO(),
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def command_token_client(user) -> APIClient:
    call_command("drf_create_token", user.username, stdout=StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=user).key}")
    return client


def test_a_token_made_with_drf_create_token_authenticates(workshop_staff):
    client = command_token_client(workshop_staff)
    response = client.get("/api/devices/")
    assert response.status_code == 200


def test_history_rows_written_through_a_token_carry_its_user(workshop_staff):
    client = command_token_client(workshop_staff)
    created = client.post(
        "/api/devices/", {"category": "laptop", "manufacturer": "HP"}, format="json"
    )
    assert created.status_code == 201
    device_id = created.json()["id"]
    moved = client.post(
        f"/api/devices/{device_id}/transition/",
        {"action": "receive_at_workshop"},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["changed"] is True
    rows = Device.objects.get(pk=device_id).history.order_by("history_id")
    assert [(row.history_change_reason, row.history_user) for row in rows] == [
        ("register", workshop_staff),
        ("receive_at_workshop", workshop_staff),
    ]
    history = client.get(f"/api/devices/{device_id}/history/").json()["results"]
    assert {row["user"] for row in history} == {workshop_staff.username}


def test_token_writes_need_no_csrf_token(workshop_staff):
    client = command_token_client(workshop_staff)
    client.enforce_csrf_checks = True
    response = client.post(
        "/api/devices/", {"category": "laptop", "manufacturer": "HP"}, format="json"
    )
    assert response.status_code == 201
