"""Donation screens: the list, the forms, the page of a donation, the spreadsheet import."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.intake import services as intake
from inventory.intake.selectors import donation_version
from inventory.intake.services import devices_import, donation_create
from inventory.models import Device, DeviceImport, Donation, LabelCode, Organisation
from inventory.states import OrgKind
from tests.builders import (
    TODAY,
    donor_sheet,
    import_laptops,
    laptops,
    make_device,
    make_organisation,
    sheet_upload,
)
from tests.inventory.intake import hostile_files as hostile

LIST = reverse("inventory:donation_list")
NEW = reverse("inventory:donation_create")
NEW_DONOR = reverse("inventory:donor_create")
# A column the import does not read, which the preview names.
COLOUR_HEADER = ("Catégorie", "Marque", "Modèle", "N° de série", "Couleur")


def url(name: str, donation) -> str:
    return reverse(f"inventory:{name}", args=[donation.pk])


@pytest.fixture
def pending_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path / "imports"


# Who sees what


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_other_organisations_get_403_on_lists_and_404_on_a_donation(
    request, login, persona, donation
):
    client = login(request.getfixturevalue(persona))
    for page in (LIST, NEW, NEW_DONOR):
        assert client.get(page).status_code == 403
    for name in (
        "donation_detail",
        "donation_edit",
        "donation_import",
        "donation_device_register",
    ):
        assert client.get(url(name, donation)).status_code == 404
        assert client.post(url(name, donation), {}).status_code == 404
    assert (
        client.post(NEW, {"donor": donation.donor_id, "received_on": "2026-03-01"}).status_code
        == 403
    )
    assert Donation.objects.count() == 1


def test_a_donors_people_do_not_reach_the_intake_screens(login, donation, donor_org):
    from tests.builders import make_user

    client = login(make_user(organisation=donor_org))
    assert client.get(LIST).status_code == 403
    assert client.get(url("donation_detail", donation)).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, donation):
    response = client.get(url("donation_detail", donation))
    assert response.status_code == 302
    assert "login" in response["Location"]


# List


def test_coordinator_lists_donations_and_filters_by_donor(login, coordinator, donation):
    other_donor = make_organisation(kind=OrgKind.DONOR, name="Banque Z")
    donation_create(actor=coordinator, donor=other_donor, received_on=TODAY)
    import_laptops(actor=coordinator, donation=donation, count=3)
    client = login(coordinator)
    listed = client.get(LIST).context["page"].object_list
    assert {d.donor.name for d in listed} == {"Entreprise Donatrice", "Banque Z"}
    assert {d.registered_count for d in listed} == {0, 3}
    response = client.get(LIST, {"donor": donation.donor_id})
    assert list(response.context["page"].object_list) == [donation]
    assert donation.reference in response.text


@pytest.mark.parametrize("rows", [10, 60])
def test_the_donation_list_takes_the_same_queries_whatever_the_rows(
    login, coordinator, donor_org, rows, django_assert_num_queries
):
    for index in range(rows):
        donation = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
        if index % 5 == 0:
            import_laptops(actor=coordinator, donation=donation, count=2)
    client = login(coordinator)
    client.get(LIST)  # warm: the first request of a session reads more
    # Session, user with scope, the donors to filter by, count, the page (donors, device
    # counts).
    with django_assert_num_queries(5):
        response = client.get(LIST)
    assert response.status_code == 200


def test_the_donation_page_takes_the_same_queries_whatever_its_devices(
    login, coordinator, donation
):
    client = login(coordinator)
    page = url("donation_detail", donation)
    import_laptops(actor=coordinator, donation=donation, count=10)
    client.get(page)
    with CaptureQueriesContext(connection) as ten:
        assert client.get(page).status_code == 200
    devices_import(
        actor=coordinator,
        donation=donation,
        file_name="more.csv",
        content=donor_sheet(laptops(50, prefix="MORE")),
    )
    with CaptureQueriesContext(connection) as sixty:
        assert client.get(page).status_code == 200
    assert Device.objects.filter(donation=donation).count() == 60
    assert len(ten) == len(sixty)


# Forms


def test_coordinator_records_a_donor_then_its_donation(login, coordinator):
    client = login(coordinator)
    response = client.post(
        NEW_DONOR,
        {
            "name": "Mairie de Clamart",
            "contact_name": "M. Roux",
            "contact_email": "dsi@x.example",
            "is_public_body": "on",
        },
    )
    donor = Organisation.objects.get(name="Mairie de Clamart", kind=OrgKind.DONOR)
    assert response.status_code == 302
    assert donor.is_public_body  # its devices' receipts will state the prix solidaires
    assert response["Location"] == f"{NEW}?donor={donor.pk}"
    form = client.get(response["Location"]).text
    assert f'<option value="{donor.pk}" selected>' in form
    response = client.post(
        NEW,
        {
            "donor": donor.pk,
            "received_on": "2026-02-20",
            "expected_count": "25",
            "released_accounts": "on",
            "attested_by": "M. Roux",
            "attested_on": "2026-02-20",
        },
    )
    donation = Donation.objects.get()
    assert response["Location"] == url("donation_detail", donation)
    assert (donation.expected_count, donation.released_accounts, donation.released_firmware) == (
        25,
        True,
        False,
    )
    assert not donation.attestation_complete
    assert donation.history.get().history_user == coordinator


def test_a_duplicate_donor_name_is_shown_on_its_field(login, coordinator, donor_org):
    response = login(coordinator).post(NEW_DONOR, {"name": donor_org.name.lower()})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]


def test_the_donation_form_shows_service_errors_on_the_fields(login, coordinator, donor_org):
    response = login(coordinator).post(
        NEW, {"donor": donor_org.pk, "received_on": "2026-02-20", "attested_by": "M. Roux"}
    )
    assert response.status_code == 200
    assert "attested_on" in response.context["form"].errors
    assert Donation.objects.count() == 0


def test_an_edit_saves_and_a_stale_edit_is_refused(login, coordinator, donation):
    client = login(coordinator)
    page = client.get(url("donation_edit", donation))
    version = page.context["form"].initial["version"]
    data = {"donor": donation.donor_id, "received_on": "2026-03-02", "version": version}
    response = client.post(url("donation_edit", donation), data | {"received_count": "11"})
    assert response["Location"] == url("donation_detail", donation)
    response = client.post(url("donation_edit", donation), data | {"received_count": "9"})
    assert response.status_code == 412
    donation.refresh_from_db()
    assert donation.received_count == 11
    assert version != donation_version(donation)


def test_a_read_only_coordinator_reads_but_does_not_write(login, coordinator_org, donation):
    from inventory.models import Role
    from tests.builders import make_user

    client = login(make_user(organisation=coordinator_org, role=Role.READER))
    page = client.get(url("donation_detail", donation))
    assert page.status_code == 200
    assert url("donation_import", donation) not in page.text
    response = client.post(
        url("donation_edit", donation), {"donor": donation.donor_id, "received_on": "2026-03-01"}
    )
    assert response.status_code == 403
    assert client.get(url("donation_import", donation)).status_code == 403
    assert Donation.objects.get().received_on == TODAY


# The page of a donation


def test_the_donation_page_shows_counts_devices_imports_and_a_label_link(
    login, coordinator, donation
):
    import_laptops(actor=coordinator, donation=donation, count=3)
    response = login(coordinator).get(url("donation_detail", donation))
    page = response.text
    assert response.context["registered_count"] == 3
    assert "f.csv" in page
    for name in ("donation_device_register", "donation_import", "donation_edit"):
        assert url(name, donation) in page
    [link] = response.context["label_links"]
    query = parse_qs(urlsplit(link["url"]).query)
    assert query == {"all": ["1"], "donation": [str(donation.pk)]}
    assert urlsplit(link["url"]).path == reverse("labels:print")


def test_a_large_donation_prints_its_labels_from_one_short_link(login, coordinator, donation):
    import_laptops(actor=coordinator, donation=donation, count=450)
    client = login(coordinator)
    [link] = client.get(url("donation_detail", donation)).context["label_links"]
    assert len(link["url"]) < 100
    response = client.get(link["url"])
    assert response.status_code == 200
    assert len(response.context["devices"]) == 450


def test_the_label_link_prints_the_donations_devices(login, coordinator, donation):
    import_laptops(actor=coordinator, donation=donation, count=2)
    client = login(coordinator)
    [link] = client.get(url("donation_detail", donation)).context["label_links"]
    response = client.get(link["url"])
    assert response.status_code == 200
    assert len(response.context["devices"]) == 2


def test_coordinator_registers_a_device_into_the_donation(
    login, coordinator, coordinator_org, donation
):
    client = login(coordinator)
    page = client.get(url("donation_device_register", donation))
    assert page.status_code == 200
    assert 'name="donor"' not in page.text
    response = client.post(
        url("donation_device_register", donation),
        {"category": "laptop", "manufacturer": "Lenovo", "serial_number": "pf1"},
    )
    assert response["Location"] == url("donation_detail", donation)
    device = Device.objects.get()
    assert (device.donation, device.donor_id, device.custodian) == (
        donation,
        donation.donor_id,
        coordinator_org,
    )
    assert device.history.get().history_user == coordinator


def test_a_duplicate_device_shows_the_error_on_the_form(login, coordinator, donation):
    client = login(coordinator)
    data = {"category": "laptop", "manufacturer": "Lenovo", "serial_number": "PF1"}
    client.post(url("donation_device_register", donation), data)
    response = client.post(url("donation_device_register", donation), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Device.objects.count() == 1


# Import: upload, preview, confirm


def test_upload_shows_a_preview_and_writes_nothing(login, coordinator, donation, pending_dir):
    client = login(coordinator)
    page = client.get(url("donation_import", donation))
    assert 'type="file"' in page.text and 'accept=".csv,.xlsx' in page.text
    sheet = sheet_upload(donor_sheet(laptops(25), COLOUR_HEADER))
    response = client.post(url("donation_import", donation), {"file": sheet})
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.row_count, result.ignored_columns, result.errors) == (25, ["Couleur"], [])
    assert len(response.context["preview_rows"]) == 20
    assert 'name="confirm"' in response.text
    assert (Device.objects.count(), LabelCode.objects.count(), DeviceImport.objects.count()) == (
        0,
        0,
        0,
    )
    assert [path.name for path in pending_dir.iterdir()] == [result.sha256]


def test_confirm_imports_the_previewed_file(login, coordinator, donation, pending_dir):
    client = login(coordinator)
    preview = client.post(
        url("donation_import", donation), {"file": sheet_upload(donor_sheet(laptops(5)))}
    )
    confirm = preview.context["confirm_form"].initial
    response = client.post(url("donation_import", donation), {**confirm, "confirm": "1"})
    assert response["Location"] == url("donation_detail", donation)
    assert Device.objects.filter(donation=donation).count() == 5
    assert DeviceImport.objects.get().file_name == "don.csv"
    assert list(pending_dir.iterdir()) == []
    [message] = list(get_messages(response.wsgi_request))
    assert "5" in str(message)
    # A second click on the same confirmation imports nothing twice.
    again = client.post(url("donation_import", donation), {**confirm, "confirm": "1"})
    assert again.status_code == 302
    assert Device.objects.count() == 5


def test_confirm_re_checks_the_file_against_the_database(login, coordinator, donation, pending_dir):
    client = login(coordinator)
    preview = client.post(
        url("donation_import", donation), {"file": sheet_upload(donor_sheet(laptops(5)))}
    )
    # Someone registers one of its devices between the preview and the confirmation.
    make_device(actor=coordinator, manufacturer="Dell", serial_number="SN00003")
    confirm = preview.context["confirm_form"].initial
    response = client.post(url("donation_import", donation), {**confirm, "confirm": "1"})
    assert response.status_code == 400
    assert [error.code for error in response.context["result"].errors] == ["already_registered"]
    assert Device.objects.count() == 1


def test_preview_lists_every_error_and_offers_no_confirmation(
    login, coordinator, donation, pending_dir
):
    rows = laptops(6)
    rows[2] = ("Grille-pain", "", "", "", "")
    rows[4] = ("PC portable", "Dell", "", "SN00000", "")
    response = login(coordinator).post(
        url("donation_import", donation), {"file": sheet_upload(donor_sheet(rows))}
    )
    assert response.status_code == 400
    errors = [(e.row, e.column, e.code) for e in response.context["result"].errors]
    assert errors == [
        (4, "Catégorie", "category_unknown"),
        (4, "Marque", "manufacturer_missing"),
        (6, "N° de série", "duplicate_in_file"),
    ]
    assert 'name="confirm"' not in response.text
    assert "Grille-pain" in response.text
    assert not pending_dir.exists() or list(pending_dir.iterdir()) == []


def test_a_file_imported_before_is_refused_at_the_preview(login, coordinator, donation):
    client = login(coordinator)
    import_laptops(actor=coordinator, donation=donation, count=2)
    rows = laptops(2, prefix=f"SN{donation.pk}-")
    response = client.post(
        url("donation_import", donation), {"file": sheet_upload(donor_sheet(rows))}
    )
    assert response.status_code == 409
    assert donation.reference in response.text
    assert Device.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("garbage.csv", bytes(range(256)) * 40),
        ("fake.xlsx", b"this is not a zip archive"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 300),
        ("header-only.csv", b"Category;Manufacturer\r\n"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500),
        ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200),
        ("unicode.csv", "Catégorie,Marque\r\n🙂,😀\r\n".encode("utf-16-le")),
    ],
)
def test_bad_files_never_answer_500(login, coordinator, donation, pending_dir, name, content):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = login(coordinator).post(url("donation_import", donation), {"file": upload})
    assert response.status_code == 400
    assert Device.objects.count() == 0


def test_no_file_at_all_is_a_form_error(login, coordinator, donation):
    response = login(coordinator).post(url("donation_import", donation), {})
    assert response.status_code == 400
    assert response.context["upload_form"].errors["file"]


def test_an_oversized_upload_is_refused_before_parsing(
    login, coordinator, donation, settings, monkeypatch
):
    settings.REEMPLOI_IMPORT_MAX_BYTES = 2000

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the parser ran on an oversized file")

    monkeypatch.setattr(intake.imports, "parse_spreadsheet", must_not_parse)
    response = login(coordinator).post(
        url("donation_import", donation), {"file": sheet_upload(donor_sheet(laptops(200)))}
    )
    assert response.status_code == 413
    assert response.context["upload_form"].errors["file"]
    # The upload handler stopped receiving it: the file was never stored whole.
    assert response.wsgi_request.upload_too_large
    assert not response.wsgi_request.FILES


def test_the_import_page_still_checks_csrf(coordinator, donation):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(
        url("donation_import", donation), {"file": sheet_upload(donor_sheet(laptops(2)))}
    )
    assert response.status_code == 403
    assert Device.objects.count() == 0


@pytest.mark.parametrize("sha256", ["0" * 64, "../" * 21 + "a", "not-hex" * 9 + "a", ""])
def test_a_confirmation_of_an_unknown_file_asks_for_the_upload_again(
    login, coordinator, donation, pending_dir, sha256
):
    response = login(coordinator).post(
        url("donation_import", donation), {"sha256": sha256, "file_name": "x", "confirm": "1"}
    )
    assert response["Location"] == url("donation_import", donation)
    assert Device.objects.count() == 0


def test_an_xlsx_upload_is_previewed(login, coordinator, donation, pending_dir):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Category", "Brand", "Serial number"])
    workbook.active.append(["Laptop", "Apple", "C02XYZ"])
    out = io.BytesIO()
    workbook.save(out)
    upload = SimpleUploadedFile("don.xlsx", out.getvalue())
    response = login(coordinator).post(url("donation_import", donation), {"file": upload})
    assert response.status_code == 200
    assert response.context["result"].row_count == 1
    assert "C02XYZ" in response.text


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (hostile.million_rows, "trop de données"),
        (hostile.many_shared_strings, "trop de données"),
        (lambda: hostile.zip_bomb(64), "trop de données"),
        (hostile.encrypted_xlsx, "mot de passe"),
        (hostile.nested_archive, "inhabituelle"),
    ],
)
def test_a_hostile_workbook_is_a_clear_error_on_the_file_field(
    login, coordinator, donation, pending_dir, build, expected
):
    upload = SimpleUploadedFile("don.xlsx", build())
    response = login(coordinator).post(url("donation_import", donation), {"file": upload})
    assert response.status_code == 400
    [message] = response.context["upload_form"].errors["file"]
    assert expected in message
    assert "result" not in response.context
    assert Device.objects.count() == 0
    assert not pending_dir.exists() or list(pending_dir.iterdir()) == []


def test_a_csv_mixing_encodings_names_its_row_in_french(login, coordinator, donation, pending_dir):
    upload = SimpleUploadedFile("don.csv", hostile.csv_mixed_encoding(rows=12, bad_row=7))
    response = login(coordinator).post(url("donation_import", donation), {"file": upload})
    assert response.status_code == 400
    [message] = response.context["upload_form"].errors["file"]
    message = message.replace("\u00a0", " ")
    assert message.startswith("Ligne 7 : encodage illisible")
    assert "« Écran fêlé »" in message
    assert "colonne" not in message.lower()


def test_the_preview_marks_each_faulty_cell_quotes_its_value_and_lists_the_categories(
    login, coordinator, donation, pending_dir
):
    rows = laptops(30)
    rows[26] = ("Grille-pain", "Dell", "Latitude", "SN-X", "")  # row 28, past the first 20
    rows[3] = ("PC portable", "", "Latitude", "SN-Y", "")  # row 5: no manufacturer
    response = login(coordinator).post(
        url("donation_import", donation), {"file": sheet_upload(donor_sheet(rows))}
    )
    assert response.status_code == 400
    page = response.text.replace("\u00a0", " ")
    # The message quotes the value and lists the accepted categories, in French.
    assert "Catégorie « Grille-pain » inconnue. Catégories acceptées : " in page
    assert "Ordinateur portable" in page.split("Catégories acceptées")[1].split("</")[0]
    # The row in error is shown even past the first rows, its faulty cell marked in text too.
    preview = {row["number"]: row for row in response.context["preview_rows"]}
    assert 28 in preview and 5 in preview
    [category] = [cell for cell in preview[28]["cells"] if cell["problems"]]
    assert (str(category["label"]), category["value"]) == ("Catégorie", "Grille-pain")
    marked = page.split('id="row-28"')[1].split("</tr>")[0]
    assert 'class="cell--error"' in marked and 'data-label="Catégorie"' in marked
    assert "⚠" in marked and "Erreur :" in marked and "« Grille-pain »" in marked
    # An empty faulty cell says so; every cell keeps its column name for the phone layout.
    manufacturer = page.split('id="row-5"')[1].split("</tr>")[0]
    assert "(vide)" in manufacturer and 'data-label="Marque"' in manufacturer
    assert 'href="#row-28"' in page


# A workshop that collects devices itself


def test_a_workshop_records_a_donation_on_the_screens_and_sees_only_its_own(
    login, workshop_staff, workshop_org, donor_org, donation
):
    client = login(workshop_staff)
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, {"donor": donor_org.pk, "received_on": "2026-03-01"})
    assert response.status_code == 302
    own = Donation.objects.get(collected_by=workshop_org)
    listed = client.get(LIST)
    assert listed.status_code == 200
    assert [d.pk for d in listed.context["page"].object_list] == [own.pk]
    assert client.get(url("donation_detail", own)).status_code == 200
    register = client.get(url("donation_device_register", own))
    assert register.status_code == 200
    assert "custodian" not in register.context["form"].fields
    # The coordination's donation is not the workshop's: answered like a missing one.
    for name in ("donation_detail", "donation_edit", "donation_import", "donation_device_register"):
        assert client.get(url(name, donation)).status_code == 404


def test_another_workshop_gets_404_on_a_collected_donation(login, other_workshop_staff, collected):
    client = login(other_workshop_staff)
    assert client.get(LIST).status_code == 200
    assert not client.get(LIST).context["page"].object_list
    for name in ("donation_detail", "donation_edit", "donation_import", "donation_device_register"):
        assert client.get(url(name, collected["donation"])).status_code == 404
        assert client.post(url(name, collected["donation"]), {}).status_code == 404


def test_the_coordination_sees_a_collected_donation_with_its_collector(
    login, coordinator, collected
):
    response = login(coordinator).get(url("donation_detail", collected["donation"]))
    assert response.status_code == 200
    assert "ECODAIR" in response.text
    assert collected["donation"].pk in [d.pk for d in login(coordinator).get(LIST).context["page"]]
