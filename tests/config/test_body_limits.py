"""Request bodies refused by their size before anything reads them (config/body_limits.py):
64 KB from strangers, 1 MB from signed-in users, a file's cap only where a file is expected."""

import io

import pytest
from django.urls import reverse

from config.body_limits import upload_caps
from tests.builders import sheet_upload, token_client

MB = 1024 * 1024


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, size=-1):
        raise AssertionError("the body was read")

    readline = read


def declared(length: int) -> dict:
    # A body announced as `length` bytes that nobody may read.
    return {"CONTENT_LENGTH": str(length), "wsgi.input": Unreadable()}


FORM = "application/x-www-form-urlencoded"


def chunked(body: bytes) -> dict:
    # A form sent without a length (Transfer-Encoding: chunked), as a WSGI server passes it on.
    return {
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": FORM,
        "CONTENT_LENGTH": "",
        "wsgi.input": io.BytesIO(body),
    }


def test_a_huge_anonymous_post_to_the_login_is_refused_unread_with_a_french_page(client, db):
    response = client.post("/login/", b"", content_type=FORM, **declared(100 * MB))
    assert response.status_code == 413
    assert [t.name for t in response.templates][0] == "413.html"
    page = response.content.decode()
    assert "Envoi trop volumineux" in page and "64" in page


def test_an_anonymous_body_above_64_kb_is_refused_and_a_login_form_passes(client, coordinator):
    assert client.post("/login/", b"", content_type=FORM, **declared(65 * 1024)).status_code == 413
    form = {"username": coordinator.username, "password": "wrong"}
    assert client.post("/login/", form).status_code == 200  # the form's own error


def test_an_api_refusal_is_json(client, db):
    response = client.post("/api/scan/", b"", content_type="application/json", **declared(MB))
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert response.json()["max_bytes"] == 64 * 1024


def test_a_bad_token_counts_as_a_stranger(client, db):
    response = client.post(
        "/api/scan/",
        b"",
        content_type="application/json",
        HTTP_AUTHORIZATION="Token not-a-token",
        **declared(100 * 1024),
    )
    assert response.status_code == 413


def test_a_signed_in_user_sends_up_to_1_mb_to_an_ordinary_endpoint(coordinator):
    client = token_client(coordinator)
    body = b'{"raw": "' + b"x" * (200 * 1024) + b'"}'
    medium = client.post("/api/scan/", body, content_type="application/json")
    assert medium.status_code == 400  # read, and refused by the serializer's own limit
    assert medium.json()["code"] != "request_too_large"
    big = client.post("/api/scan/", b"", content_type="application/json", **declared(2 * MB))
    assert (big.status_code, big.json()["code"]) == (413, "request_too_large")


def test_a_file_endpoint_takes_its_file_from_a_signed_in_user_only(client, coordinator, donation):
    url = f"/api/donations/{donation.pk}/import/"
    file = sheet_upload(b"x" * 2 * MB)
    received = token_client(coordinator).post(url, {"file": file})
    assert received.status_code == 400 and received.json()["code"] != "request_too_large"
    # Above the spreadsheet's cap plus the form around it: refused before it is read.
    over = token_client(coordinator).post(url, b"", content_type=FORM, **declared(6 * MB))
    assert (over.status_code, over.json()["code"]) == (413, "request_too_large")
    assert client.post(url, b"", content_type=FORM, **declared(MB)).status_code == 413


def test_the_web_import_takes_a_file_from_a_signed_in_session(login, coordinator, donation):
    url = reverse("inventory:donation_import", kwargs={"pk": donation.pk})
    response = login(coordinator).post(url, {"file": sheet_upload(b"x" * 2 * MB)})
    assert response.status_code == 400  # the spreadsheet's own error, not the size
    assert "413.html" not in [t.name for t in response.templates]


def test_a_body_without_length_is_read_up_to_the_cap_only(client, coordinator):
    over = client.post("/login/", b"", content_type=FORM, **chunked(b"a" * (65 * 1024)))
    assert over.status_code == 413
    body = f"username={coordinator.username}&password=wrong".encode()
    response = client.post("/login/", b"", content_type=FORM, **chunked(body))
    assert response.status_code == 200
    assert response.context["form"].data["username"] == coordinator.username


@pytest.mark.parametrize("name", sorted(upload_caps()))
def test_every_file_endpoint_named_in_the_caps_exists(name):
    assert reverse(name, kwargs={"pk": 1})
