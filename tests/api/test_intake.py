"""Intake on the API: donors, donations (ETag / If-Match), a donation's devices and the
spreadsheet import, each answering in the API's shapes, scoped like the web screens and writing
its history with the API user."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from inventory.intake import services as intake
from inventory.intake.selectors import donation_version
from inventory.intake.services import donation_create
from inventory.models import (
    Device,
    DeviceImport,
    Donation,
    IdempotencyRecord,
    Organisation,
    Role,
)
from inventory.states import OrgKind
from tests.builders import (
    TODAY,
    donor_sheet,
    import_laptops,
    laptops,
    make_organisation,
    make_user,
    session_client,
    sheet_upload,
    token_client,
    written,
)
from tests.concurrency import run_at_once
from tests.inventory.intake import hostile_files as hostile

# A column the import does not read, which the preview names.
COLOUR_HEADER = ("Catégorie", "Marque", "Modèle", "N° de série", "Couleur")


def import_url(donation) -> str:
    return f"/api/donations/{donation.pk}/import/"


def detail_url(donation) -> str:
    return f"/api/donations/{donation.pk}/"


def donation_body(donor, **overrides) -> dict:
    body = {
        "donor": donor.pk,
        "received_on": "2026-03-02",
        "pickup_address": "12 rue de la Paix, 92160 Antony",
        "expected_count": 12,
        "released_accounts": True,
        "notes": "Quai de chargement à l'arrière.",
    }
    return body | overrides


@pytest.fixture
def other_donation(coordinator):
    other = make_organisation(kind=OrgKind.DONOR, name="Autre donateur")
    return donation_create(actor=coordinator, donor=other, received_on=TODAY)


# Donors


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_the_coordination_records_a_donor_with_its_contact(make_client, coordinator):
    response = make_client(coordinator).post(
        "/api/donors/",
        {"name": "  Mairie de   Vanves ", "contact_email": "dsi@vanves.example"},
        format="json",
    )
    assert response.status_code == 201, response.content
    donor = response.json()
    assert (donor["name"], donor["contact_email"], donor["contact_phone"]) == (
        "Mairie de Vanves",
        "dsi@vanves.example",
        "",
    )
    saved = Organisation.objects.get(pk=donor["id"])
    assert saved.kind == OrgKind.DONOR and not saved.is_public_body
    assert donor["is_public_body"] is False
    assert saved.history.get().history_user == coordinator
    public = make_client(coordinator).post(
        "/api/donors/", {"name": "Mairie de Malakoff", "is_public_body": True}, format="json"
    )
    assert public.status_code == 201 and public.json()["is_public_body"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "ENTREPRISE donatrice"}, "name"),  # taken, whatever the case
        ({"name": "   "}, "name"),
        ({"name": 42}, "name"),
        ({"name": "Nouveau", "contact_email": "not-an-address"}, "contact_email"),
        ({}, "name"),
    ],
)
def test_a_bad_donor_names_its_field(coord, donor_org, body, field):
    before = Organisation.objects.count()
    response = coord.post("/api/donors/", body, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], list(response.json()["fields"])) == ("invalid", [field])
    assert Organisation.objects.count() == before


@pytest.mark.parametrize("persona", ["structure_staff", "donor_user", "fund_reader"])
def test_only_the_coordination_and_workshops_record_donors(db, request, persona):
    user = request.getfixturevalue(persona)
    response = token_client(user).post("/api/donors/", {"name": "Nouveau"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert not Organisation.objects.filter(name="Nouveau").exists()


# Recording a donation


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_the_coordination_records_a_donation_and_its_history_names_the_api_user(
    make_client, coordinator, donor_org
):
    response = make_client(coordinator).post(
        "/api/donations/", donation_body(donor_org), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    saved = Donation.objects.get(pk=body["id"])
    assert body["reference"] == saved.reference
    assert body["donor"] == {"id": donor_org.pk, "name": donor_org.name}
    assert body["counts"] == {"announced": 12, "counted": None, "registered": 0}
    assert (body["released_accounts"], body["attestation_complete"]) == (True, False)
    assert body["notes"] == "Quai de chargement à l'arrière."
    assert body["version"] == donation_version(saved)
    (row,) = saved.history.all()
    assert (row.history_user, row.history_change_reason) == (coordinator, "create")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"donor": None}, "donor"),
        ({"donor": 999999}, "donor"),
        ({"received_on": "02/03/2026"}, "received_on"),
        ({"expected_count": "12"}, "expected_count"),
        ({"expected_count": -1}, "expected_count"),
        ({"released_accounts": "yes"}, "released_accounts"),
        ({"attested_on": "2026-03-01"}, "attested_by"),  # a date without a signatory
        ({"attested_by": "M. Roux", "attested_on": "2099-01-01"}, "attested_on"),
        ({"pickup_address": "x" * 251}, "pickup_address"),
    ],
)
def test_a_bad_donation_names_its_field_and_writes_nothing(coord, donor_org, overrides, field):
    response = coord.post("/api/donations/", donation_body(donor_org) | overrides, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not Donation.objects.exists()


def test_a_donation_from_an_organisation_that_is_no_donor_is_refused(coord, workshop_org):
    response = coord.post("/api/donations/", donation_body(workshop_org), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["donor"]


@pytest.mark.parametrize("persona", ["structure_staff", "donor_user", "fund_reader"])
def test_only_the_coordination_and_workshops_record_donations(request, donor_org, persona):
    user = request.getfixturevalue(persona)
    response = token_client(user).post("/api/donations/", donation_body(donor_org), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert not Donation.objects.exists()


def test_a_retried_donation_with_its_idempotency_key_is_recorded_once(coord, donor_org):
    headers = {"HTTP_IDEMPOTENCY_KEY": "donation-7f3a"}
    first = coord.post("/api/donations/", donation_body(donor_org), format="json", **headers)
    again = coord.post("/api/donations/", donation_body(donor_org), format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Donation.objects.count() == 1
    assert Donation.history.count() == 1

    other = coord.post(
        "/api/donations/", donation_body(donor_org, expected_count=3), format="json", **headers
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert Donation.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


# Reading donations


def test_the_coordination_lists_every_donation_with_its_counts(
    coord, coordinator, donation, other_donation
):
    import_laptops(actor=coordinator, donation=donation, count=3)
    response = coord.get("/api/donations/")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {donation.pk, other_donation.pk}
    assert rows[donation.pk]["counts"] == {"announced": 12, "counted": None, "registered": 3}
    assert rows[other_donation.pk]["counts"]["registered"] == 0


def test_the_list_filters_by_donor(coord, donation, other_donation):
    response = coord.get("/api/donations/", {"donor": other_donation.donor_id})
    assert [row["id"] for row in response.json()["results"]] == [other_donation.pk]
    for value in ("", "abc", "0"):
        refused = coord.get("/api/donations/", {"donor": value})
        assert (refused.status_code, list(refused.json()["fields"])) == (400, ["donor"])


def test_a_donors_people_read_only_their_own_donations_without_the_coordinations_notes(
    donor_user, donation, other_donation
):
    client = token_client(donor_user)
    listed = client.get("/api/donations/").json()["results"]
    assert [row["id"] for row in listed] == [donation.pk]
    assert listed[0]["notes"] is None
    assert client.get(detail_url(donation)).status_code == 200
    missing = client.get(detail_url(other_donation))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_other_roles_get_403_on_the_list_and_404_on_a_donation(request, donation, persona):
    client = token_client(request.getfixturevalue(persona))
    listed = client.get("/api/donations/")
    assert (listed.status_code, listed.json()["code"]) == (403, "permission_denied")
    for url in (detail_url(donation), f"{detail_url(donation)}devices/"):
        response = client.get(url)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_list_costs_the_same_queries_for_10_and_60_donations(coord, coordinator, donor_org):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = coord.get("/api/donations/")
        assert response.status_code == 200
        return len(queries)

    for _ in range(10):
        donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    ten = count_queries()
    for _ in range(50):
        donation_create(
            actor=coordinator, donor=make_organisation(kind=OrgKind.DONOR), received_on=TODAY
        )
    assert count_queries() == ten


def test_a_donation_answers_its_version_as_etag(coord, donation):
    response = coord.get(detail_url(donation))
    assert response.status_code == 200
    assert response["ETag"] == f'"{donation_version(donation)}"'
    assert response.json()["version"] == donation_version(donation)
    assert response.json()["counts"]["announced"] == 12


# Changing a donation: R7


def test_two_edits_from_the_same_read_give_one_200_and_one_412(coordinator, donation):
    first, second = token_client(coordinator), session_client(coordinator)
    etag = first.get(detail_url(donation))["ETag"]
    applied = first.patch(
        detail_url(donation), {"received_count": 11}, format="json", HTTP_IF_MATCH=etag
    )
    stale = second.patch(
        detail_url(donation), {"received_count": 13}, format="json", HTTP_IF_MATCH=etag
    )
    assert applied.status_code == 200, applied.content
    assert (stale.status_code, stale.json()["code"]) == (412, "stale")
    saved = Donation.objects.get(pk=donation.pk)
    assert saved.received_count == 11
    assert applied["ETag"] == f'"{donation_version(saved)}"' != etag
    assert applied.json()["counts"]["counted"] == 11
    rows = saved.history.filter(history_change_reason="update")
    assert [row.history_user for row in rows] == [coordinator]

    # Read again, the second client's edit goes through.
    fresh = second.get(detail_url(donation))["ETag"]
    again = second.patch(
        detail_url(donation), {"received_count": 13}, format="json", HTTP_IF_MATCH=fresh
    )
    assert again.status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_clients_editing_from_one_read_at_once_give_one_200(coordinator, donor_org):
    donation = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    client = token_client(coordinator)  # the token exists before the race
    etag = client.get(detail_url(donation))["ETag"]
    replies, errors = run_at_once(
        lambda i: (
            token_client(coordinator)
            .patch(detail_url(donation), {"received_count": i}, format="json", HTTP_IF_MATCH=etag)
            .status_code
        ),
        count=10,
    )
    assert errors == []
    assert sorted(replies) == [200] + [412] * 9
    assert Donation.history.filter(history_change_reason="update").count() == 1


def test_an_edit_without_if_match_is_refused_with_428(coord, donation):
    for headers in ({}, {"HTTP_IF_MATCH": ""}, {"HTTP_IF_MATCH": "*"}):
        response = coord.patch(detail_url(donation), {"notes": "x"}, format="json", **headers)
        assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert Donation.objects.get(pk=donation.pk).notes == ""


def test_if_match_takes_the_bare_version_and_a_list_of_tags(coord, donation):
    version = donation_version(donation)
    bare = coord.patch(detail_url(donation), {"notes": "a"}, format="json", HTTP_IF_MATCH=version)
    assert bare.status_code == 200
    now = bare.json()["version"]
    listed = coord.patch(
        detail_url(donation), {"notes": "b"}, format="json", HTTP_IF_MATCH=f'"{version}", "{now}"'
    )
    assert listed.status_code == 200


def test_an_invalid_edit_names_its_field_and_changes_nothing(coord, donation):
    etag = coord.get(detail_url(donation))["ETag"]
    response = coord.patch(
        detail_url(donation), {"expected_count": 100_001}, format="json", HTTP_IF_MATCH=etag
    )
    assert (response.status_code, list(response.json()["fields"])) == (400, ["expected_count"])
    assert Donation.objects.get(pk=donation.pk).expected_count == 12
    assert Donation.history.filter(history_change_reason="update").count() == 0


def test_a_donors_people_cannot_change_their_donation(donor_user, donation):
    client = token_client(donor_user)
    etag = client.get(detail_url(donation))["ETag"]
    response = client.patch(detail_url(donation), {"notes": "x"}, format="json", HTTP_IF_MATCH=etag)
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")


# The donation's devices


def test_the_donations_devices_come_in_the_device_shape(coord, coordinator, donation):
    import_laptops(actor=coordinator, donation=donation, count=3)
    response = coord.get(f"{detail_url(donation)}devices/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == sorted(donation.devices.values_list("pk", flat=True))
    assert set(results[0]) == set(coord.get(f"/api/devices/{results[0]['id']}/").json())
    assert results[0]["donor"]["id"] == donation.donor_id


def test_the_donations_devices_cost_the_same_queries_for_10_and_200(coord, coordinator, donor_org):
    small = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    large = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    import_laptops(actor=coordinator, donation=small, count=10)
    import_laptops(actor=coordinator, donation=large, count=200)
    counts = []
    for donation in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = coord.get(f"{detail_url(donation)}devices/", {"page_size": 200})
        assert response.status_code == 200
        counts.append((len(queries), len(response.json()["results"])))
    assert counts[0][0] == counts[1][0]
    assert [rows for _count, rows in counts] == [10, 200]


def test_a_donors_people_get_no_device_rows(donor_user, coordinator, donation):
    import_laptops(actor=coordinator, donation=donation, count=2)
    response = token_client(donor_user).get(f"{detail_url(donation)}devices/")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


# Spreadsheet import (R13)


def test_a_dry_run_previews_the_file_and_writes_nothing(coord, donation):
    content = donor_sheet(laptops(25), COLOUR_HEADER)
    before = written()
    response = coord.post(import_url(donation), {"file": sheet_upload(content), "dry_run": "true"})
    assert response.status_code == 200, response.content
    preview = response.json()
    assert (preview["ok"], preview["row_count"], preview["errors"]) == (True, 25, [])
    assert preview["file_format"] == "csv"
    assert [column["field"] for column in preview["columns"]] == [
        "category",
        "manufacturer",
        "model_name",
        "serial_number",
    ]
    assert preview["columns"][3]["column"] == "N° de série"
    assert preview["ignored_columns"] == ["Couleur"]
    assert len(preview["preview"]) == 20
    first = preview["preview"][0]
    assert first["row"] == 2
    assert first["values"]["category"] == "laptop"
    assert first["values"]["serial_number"] == "SN00000"
    assert first["cells"]["category"] == "PC portable"
    assert written() == before


@pytest.mark.parametrize("query", ["?dry_run=true", "?dry_run=TRUE"])
def test_a_dry_run_asked_in_the_query_string_writes_nothing(coord, donation, query):
    content = donor_sheet(laptops(3))
    before = written()
    response = coord.post(import_url(donation) + query, {"file": sheet_upload(content)})
    assert response.status_code == 200, response.content
    assert response.json()["row_count"] == 3
    assert written() == before
    # Either way of asking is enough: the form saying false does not turn it into an import.
    both = coord.post(
        import_url(donation) + query, {"file": sheet_upload(content), "dry_run": "false"}
    )
    assert both.status_code == 200
    assert written() == before


def test_a_query_dry_run_that_is_not_a_boolean_is_a_field_error(coord, donation):
    before = written()
    response = coord.post(
        import_url(donation) + "?dry_run=yes", {"file": sheet_upload(donor_sheet(laptops(1)))}
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "dry_run" in response.json()["fields"]
    assert written() == before


def test_one_idempotency_key_cannot_turn_a_preview_into_an_import(coord, donation):
    content = donor_sheet(laptops(2))
    key = {"HTTP_IDEMPOTENCY_KEY": "import-once"}
    preview = coord.post(
        import_url(donation) + "?dry_run=true", {"file": sheet_upload(content)}, **key
    )
    assert preview.status_code == 200
    real = coord.post(import_url(donation), {"file": sheet_upload(content)}, **key)
    assert real.status_code == 422


def test_a_dry_run_lists_the_problems_with_200(coord, donation):
    rows = laptops(3) + [("Grille-pain", "Moulinex", "", "T1", "")]
    response = coord.post(
        import_url(donation), {"file": sheet_upload(donor_sheet(rows)), "dry_run": "true"}
    )
    assert response.status_code == 200
    assert response.json()["ok"] is False
    (error,) = response.json()["errors"]
    assert (error["row"], error["column"], error["code"]) == (5, "Catégorie", "category_unknown")
    assert "Grille-pain" in error["detail"]
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_an_import_registers_every_row_with_the_api_user(make_client, coordinator, donation):
    response = make_client(coordinator).post(
        import_url(donation), {"file": sheet_upload(donor_sheet(laptops(5)), "inventaire.csv")}
    )
    assert response.status_code == 201, response.content
    reply = response.json()
    assert (reply["count"], reply["file_name"], reply["donation"]) == (
        5,
        "inventaire.csv",
        donation.pk,
    )
    devices = {device.pk: device for device in donation.devices.all()}
    assert [device["id"] for device in reply["devices"]] == sorted(devices)
    for listed in reply["devices"]:
        assert listed["label_code"] == devices[listed["id"]].label_code_id
        assert listed["label_code_display"].replace("-", "") == listed["label_code"]
    assert reply["import_id"] == DeviceImport.objects.get().pk
    rows = Device.history.filter(id__in=devices)
    assert {(row.history_user, row.history_change_reason) for row in rows} == {
        (coordinator, "import")
    }
    assert make_client(coordinator).get(detail_url(donation)).json()["counts"]["registered"] == 5


def test_a_bad_row_3999_of_4000_is_named_and_nothing_is_imported(coord, donation):
    rows = laptops(4000)
    rows[3997] = ("PC portable", "", "Latitude", "SN-BAD", "")  # row 3,999 of the sheet
    before = written()
    response = coord.post(import_url(donation), {"file": sheet_upload(donor_sheet(rows))})
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "import_invalid"
    assert error["errors"] == [
        {
            "row": 3999,
            "column": "Marque",
            "code": "manufacturer_missing",
            "detail": error["errors"][0]["detail"],
        }
    ]
    assert error["errors"][0]["detail"]
    assert written() == before


def test_the_same_file_twice_is_refused_with_409(coord, donation, other_donation):
    content = donor_sheet(laptops(3))
    assert coord.post(import_url(donation), {"file": sheet_upload(content)}).status_code == 201
    before = written()
    for target in (donation, other_donation):
        again = coord.post(import_url(target), {"file": sheet_upload(content, "copie.csv")})
        assert (again.status_code, again.json()["code"]) == (409, "already_imported")
        assert donation.reference in again.json()["detail"]
    dry = coord.post(import_url(donation), {"file": sheet_upload(content), "dry_run": "true"})
    assert (dry.status_code, dry.json()["code"]) == (409, "already_imported")
    assert written() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_file_uploaded_twice_at_once_is_imported_once(coordinator, donor_org):
    donation = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    token_client(coordinator)
    content = donor_sheet(laptops(50))
    replies, errors = run_at_once(
        lambda i: (lambda r: (r.status_code, r.json()["code"] if r.status_code != 201 else ""))(
            token_client(coordinator).post(import_url(donation), {"file": sheet_upload(content)})
        ),
        count=2,
    )
    assert errors == []
    assert sorted(replies) == [(201, ""), (409, "already_imported")]
    assert (Device.objects.count(), DeviceImport.objects.count()) == (50, 1)


def test_an_oversized_file_is_refused_before_parsing(coord, donation, settings, monkeypatch):
    settings.REEMPLOI_IMPORT_MAX_BYTES = 2000

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the parser ran on an oversized file")

    monkeypatch.setattr(intake.imports, "parse_spreadsheet", must_not_parse)
    response = coord.post(import_url(donation), {"file": sheet_upload(donor_sheet(laptops(200)))})
    assert (response.status_code, response.json()["code"]) == (413, "file_too_large")
    assert response.wsgi_request.upload_too_large
    assert not response.wsgi_request.FILES
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("data", "field"),
    [({}, "file"), ({"file": "text, not a file"}, "file"), ({"dry_run": "maybe"}, "dry_run")],
)
def test_a_bad_upload_names_its_field(coord, donation, data, field):
    if field == "dry_run":
        data = data | {"file": sheet_upload(donor_sheet(laptops(1)))}
    response = coord.post(import_url(donation), data)
    assert response.status_code == 400
    assert (response.json()["code"], field in response.json()["fields"]) == ("invalid", True)


def test_an_import_must_be_a_multipart_form(coord, donation):
    response = coord.post(import_url(donation), {"file": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def test_an_import_replays_its_idempotency_key(coord, donation):
    content = donor_sheet(laptops(4))
    key = {"HTTP_IDEMPOTENCY_KEY": "import-1"}
    first = coord.post(import_url(donation), {"file": sheet_upload(content)}, **key)
    again = coord.post(import_url(donation), {"file": sheet_upload(content)}, **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Device.objects.count() == 4
    other = coord.post(import_url(donation), {"file": sheet_upload(donor_sheet(laptops(2)))}, **key)
    assert other.status_code == 422


def test_the_import_keeps_its_csrf_check_for_sessions(coordinator, donation):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(import_url(donation), {"file": sheet_upload(donor_sheet(laptops(2)))})
    assert response.status_code == 403
    assert Device.objects.count() == 0


def test_a_session_with_its_csrf_token_imports_and_an_oversized_file_is_still_capped(
    coordinator, donation, settings, monkeypatch
):
    # The CSRF check reads the form before the view runs: the cap must already be in place.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(coordinator)
    secret = "k" * 32
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    csrf = {"HTTP_X_CSRFTOKEN": secret}
    imported = client.post(
        import_url(donation), {"file": sheet_upload(donor_sheet(laptops(2)))}, **csrf
    )
    assert imported.status_code == 201, imported.content

    settings.REEMPLOI_IMPORT_MAX_BYTES = 2000
    parsed = []
    monkeypatch.setattr(intake.imports, "parse_spreadsheet", lambda *a, **k: parsed.append(1))
    big = sheet_upload(donor_sheet(laptops(200, prefix="BIG")))
    response = client.post(import_url(donation), {"file": big}, **csrf)
    assert (response.status_code, response.json()["code"]) == (413, "file_too_large")
    assert response.wsgi_request.upload_too_large and not parsed


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("donor_user", 403), ("workshop_staff", 404), ("fund_reader", 404)],
)
def test_only_the_coordination_imports(request, donation, persona, expected):
    client = token_client(request.getfixturevalue(persona))
    response = client.post(import_url(donation), {"file": sheet_upload(donor_sheet(laptops(2)))})
    assert response.status_code == expected
    assert written() == (0, 0, 0, 0)


def test_a_coordination_reader_cannot_import(coordinator_org, donation):
    reader = make_user(organisation=coordinator_org, role=Role.READER, username="reader")
    response = token_client(reader).post(
        import_url(donation), {"file": sheet_upload(donor_sheet(laptops(2)))}
    )
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")


@pytest.mark.parametrize("query", ["?dry_run=true", ""])
@pytest.mark.parametrize(
    ("build", "code"),
    [
        (hostile.million_rows, "too_much_data"),
        (hostile.many_shared_strings, "too_much_data"),
        (lambda: hostile.zip_bomb(64), "too_much_data"),
        (hostile.zip_encrypted, "encrypted"),
        (hostile.nested_archive, "suspicious_archive"),
        (lambda: b"plain text renamed", "unreadable"),
    ],
)
def test_a_hostile_workbook_answers_400_with_its_code(coord, donation, build, code, query):
    upload = sheet_upload(build(), "don.xlsx")
    response = coord.post(import_url(donation) + query, {"file": upload})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert [(error["row"], error["code"]) for error in body["errors"]] == [(None, code)]
    assert written() == (0, 0, 0, 0)


def test_a_csv_mixing_encodings_answers_400_naming_the_row(coord, donation):
    content = hostile.csv_mixed_encoding(rows=12, bad_row=7)
    response = coord.post(import_url(donation) + "?dry_run=true", {"file": sheet_upload(content)})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "mixed_encoding"
    assert [(error["row"], error["code"]) for error in body["errors"]] == [(7, "mixed_encoding")]


# A workshop that collects devices itself


def test_a_workshop_records_a_donation_through_the_api_as_its_own(
    workshop_staff, workshop_org, donor_org, donation
):
    client = token_client(workshop_staff)
    response = client.post("/api/donations/", donation_body(donor_org), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["collected_by"] == {"id": workshop_org.pk, "name": "ECODAIR"}
    listed = client.get("/api/donations/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert client.get(f"/api/donations/{donation.pk}/").status_code == 404
    assert client.get(f"/api/donations/{body['id']}/devices/").status_code == 200
    assert client.post("/api/donors/", {"name": "Cabinet Z"}, format="json").status_code == 201


def test_another_workshop_gets_404_on_a_collected_donation_through_the_api(
    other_workshop_staff, collected
):
    client = token_client(other_workshop_staff)
    pk = collected["donation"].pk
    assert client.get("/api/donations/").json()["results"] == []
    for path in (f"/api/donations/{pk}/", f"/api/donations/{pk}/devices/"):
        assert client.get(path).status_code == 404
    response = client.patch(
        f"/api/donations/{pk}/", {"received_count": 5}, format="json", HTTP_IF_MATCH="*x"
    )
    assert response.status_code == 404
    assert Donation.objects.get(pk=pk).received_count is None


def test_the_coordination_reads_a_collected_donation_and_its_devices(coord, collected):
    pk = collected["donation"].pk
    body = coord.get(f"/api/donations/{pk}/").json()
    assert body["collected_by"]["name"] == "ECODAIR"
    devices = coord.get(f"/api/donations/{pk}/devices/").json()["results"]
    assert [row["id"] for row in devices] == [collected["laptop"].pk]
