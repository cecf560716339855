"""Issue 9: control characters in a query string, a header or a cookie are refused (or, for a
cookie, forgotten) before any view or session reads them; the screens' forms show a field
error. On PostgreSQL each of these was a 500."""

import pytest
from django.test import Client

from inventory.models import Device, Organisation
from inventory.text import CONTROL_CHARACTERS
from tests.builders import token_client


@pytest.mark.parametrize("query", ["q=lap%00top", "status=%1B", "page=1%00", "q%00=x"])
def test_a_list_page_refuses_a_query_string_holding_control_characters(login, coordinator, query):
    response = login(coordinator).get(f"/devices/?{query}")
    assert response.status_code == 400
    assert str(CONTROL_CHARACTERS) in response.content.decode()
    assert b"<h1>" in response.content


@pytest.mark.parametrize("query", ["q=lap%00top", "status=%1B", "ordering=%00", "page_size=%00"])
def test_an_api_list_names_the_parameter(coordinator, query):
    response = token_client(coordinator).get(f"/api/devices/?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json() == {
        "code": "invalid",
        "detail": response.json()["detail"],
        "fields": {name: [str(CONTROL_CHARACTERS)]},
    }


def test_a_token_holding_control_characters_is_refused(db):
    response = Client().get("/api/devices/", HTTP_AUTHORIZATION="Token abc\x00def")
    assert response.status_code == 400
    assert response.json()["fields"] == {"Authorization": [str(CONTROL_CHARACTERS)]}


def test_an_idempotency_key_holding_control_characters_is_refused(coordinator):
    response = token_client(coordinator).post(
        "/api/devices/",
        {"category": "laptop", "manufacturer": "HP"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="key\x00one",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"Idempotency-Key": [str(CONTROL_CHARACTERS)]}
    assert not Device.objects.exists()


def test_a_session_cookie_holding_control_characters_is_forgotten(db):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijk"
    response = client.get("/devices/")
    assert response.status_code == 302  # to the login page, as without a session
    assert client.get("/login/").status_code == 200


def test_ordinary_text_passes(login, coordinator):
    assert login(coordinator).get("/devices/?q=Dell%20Latitude\t").status_code == 200


def test_the_registration_form_shows_the_field_error(login, coordinator, donor_org):
    response = login(coordinator).post(
        "/devices/new/",
        {"category": "lap\x00top", "manufacturer": "HP\x00", "notes": "ok"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["category"] == [str(CONTROL_CHARACTERS)]
    assert form.errors["manufacturer"] == [str(CONTROL_CHARACTERS)]
    assert not Device.objects.exists()


def test_the_donor_form_shows_the_field_error(login, coordinator):
    count = Organisation.objects.count()
    response = login(coordinator).post("/donors/new/", {"name": "Mairie\x00"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [str(CONTROL_CHARACTERS)]
    assert Organisation.objects.count() == count


def test_the_login_page_answers_a_username_holding_a_nul(db):
    response = Client().post("/login/", {"username": "coord\x00", "password": "x"})
    assert response.status_code == 200


def test_batch_mode_answers_a_batch_or_client_id_holding_a_nul(login, workshop_staff):
    client = login(workshop_staff)
    assert client.get("/scan/batch/ab%00cd/?action=start_reconditioning").status_code == 404
    response = client.post(
        "/scan/batch/abcd/?action=start_reconditioning", {"raw": "ABC", "client_id": "c\x00"}
    )
    assert response.status_code == 200
