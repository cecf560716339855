"""Intake services: donors, donations, one device into a donation, spreadsheet imports."""

from datetime import date, timedelta

import pytest

from inventory.errors import DomainError
from inventory.intake import services as intake
from inventory.intake.selectors import donation_version
from inventory.intake.services import (
    devices_import,
    donation_create,
    donation_device_register,
    donation_update,
    donor_create,
)
from inventory.models import (
    Category,
    Device,
    DeviceImport,
    Donation,
    LabelCode,
    Organisation,
    Role,
)
from inventory.states import OrgKind, Status
from tests.builders import TODAY, donor_sheet, laptops, make_device, make_user, valid_imei, written
from tests.concurrency import run_at_once
from tests.inventory.intake import hostile_files as hostile


def do_import(actor, donation, content, **kwargs):
    kwargs.setdefault("file_name", "don.csv")
    return devices_import(actor=actor, donation=donation, content=content, **kwargs)


# Donors and donations


def test_coordinator_records_a_donor_with_its_contact(coordinator):
    donor = donor_create(
        actor=coordinator,
        name="  Mairie   de Vanves ",
        contact_name="Mme Leroy",
        contact_email="dsi@vanves.example",
        contact_phone="01 41 33 92 00",
        address="Place de la République, 92170 Vanves",
    )
    assert (donor.kind, donor.name, donor.contact_name) == (
        OrgKind.DONOR,
        "Mairie de Vanves",
        "Mme Leroy",
    )
    [row] = donor.history.all()
    assert row.history_user == coordinator


def test_a_donor_name_is_unique_in_any_case(coordinator, donor_org):
    with pytest.raises(DomainError) as caught:
        donor_create(actor=coordinator, name=donor_org.name.upper())
    assert caught.value.code == "invalid"
    assert "name" in caught.value.params["fields"]


def test_a_bad_donor_email_is_a_field_error(coordinator):
    with pytest.raises(DomainError) as caught:
        donor_create(actor=coordinator, name="Société X", contact_email="not an address")
    assert caught.value.code == "invalid"
    assert "contact_email" in caught.value.params["fields"]
    assert not Organisation.objects.filter(name="Société X").exists()


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_only_the_coordination_and_workshops_record_donors_and_donations(
    request, persona, donor_org
):
    actor = request.getfixturevalue(persona)
    with pytest.raises(DomainError) as caught:
        donor_create(actor=actor, name="Banque Y")
    assert (caught.value.code, caught.value.status) == ("action_forbidden", 403)
    with pytest.raises(DomainError) as caught:
        donation_create(actor=actor, donor=donor_org, received_on=TODAY)
    assert (caught.value.code, caught.value.status) == ("action_forbidden", 403)
    assert Donation.objects.count() == 0
    assert Donation.history.count() == 0


def test_a_donors_own_people_cannot_change_its_donation(donation, donor_org):
    donor_person = make_user(organisation=donor_org)
    with pytest.raises(DomainError) as caught:
        donation_update(actor=donor_person, donation_id=donation.pk, received_count=3)
    assert (caught.value.code, caught.value.status) == ("action_forbidden", 403)


def test_a_read_only_coordinator_cannot_record_a_donation(coordinator_org, donor_org):
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    with pytest.raises(DomainError) as caught:
        donation_create(actor=reader, donor=donor_org, received_on=TODAY)
    assert caught.value.status == 403


def test_a_donation_records_its_author_and_history(coordinator, donor_org):
    donation = donation_create(
        actor=coordinator,
        donor=donor_org,
        received_on=TODAY,
        expected_count=40,
        pickup_address=" 12 rue des Écoles, Antony ",
    )
    assert donation.reference == f"DON-{donation.pk:05d}"
    assert (donation.created_by, donation.pickup_address) == (
        coordinator,
        "12 rue des Écoles, Antony",
    )
    [row] = donation.history.all()
    assert (row.history_user, row.history_change_reason) == (coordinator, "create")


def test_the_donor_of_a_donation_must_be_a_donor(coordinator, workshop_org):
    with pytest.raises(DomainError) as caught:
        donation_create(actor=coordinator, donor=workshop_org, received_on=TODAY)
    assert "donor" in caught.value.params["fields"]


def test_an_attestation_needs_its_signatory_and_its_date(coordinator, donation):
    with pytest.raises(DomainError) as caught:
        donation_update(actor=coordinator, donation_id=donation.pk, attested_by="M. Martin")
    assert "attested_on" in caught.value.params["fields"]
    with pytest.raises(DomainError) as caught:
        donation_update(
            actor=coordinator, donation_id=donation.pk, attested_on=date.today() + timedelta(days=3)
        )
    assert "attested_by" in caught.value.params["fields"]


def test_a_complete_attestation_is_recorded_with_the_user(coordinator, donation):
    donation = donation_update(
        actor=coordinator,
        donation_id=donation.pk,
        received_count=38,
        released_accounts=True,
        released_management=True,
        released_firmware=True,
        attested_by="M. Martin, DSI",
        attested_on=TODAY,
    )
    assert donation.attestation_complete
    latest = donation.history.first()
    assert (latest.history_user, latest.history_change_reason) == (coordinator, "update")


def test_an_edit_against_an_older_version_is_refused(coordinator, donation):
    version = donation_version(donation)
    donation_update(actor=coordinator, donation_id=donation.pk, version=version, received_count=3)
    with pytest.raises(DomainError) as caught:
        donation_update(
            actor=coordinator, donation_id=donation.pk, version=version, received_count=4
        )
    assert (caught.value.code, caught.value.status) == ("stale", 412)
    assert Donation.objects.get().received_count == 3


def test_saving_a_donation_unchanged_writes_no_history(coordinator, donation):
    donation_update(actor=coordinator, donation_id=donation.pk, received_on=TODAY)
    assert donation.history.count() == 1


def test_a_device_registered_into_a_donation_carries_it_and_its_donor(
    coordinator, coordinator_org, donation, donor_org
):
    device = donation_device_register(
        actor=coordinator,
        donation=donation,
        category=Category.objects.get(code="laptop"),
        manufacturer="Lenovo",
        serial_number="pf1abcde",
    )
    device.refresh_from_db()
    assert (device.donation, device.donor, device.custodian) == (
        donation,
        donor_org,
        coordinator_org,
    )
    [row] = device.history.all()
    assert (row.history_user, row.donation_id) == (coordinator, donation.pk)


def test_a_workshop_does_not_register_into_a_donation_it_did_not_collect(workshop_staff, donation):
    with pytest.raises(DomainError) as caught:
        donation_device_register(
            actor=workshop_staff,
            donation=donation,
            category=Category.objects.get(code="laptop"),
            manufacturer="Lenovo",
        )
    assert (caught.value.code, caught.value.status) == ("not_found", 404)
    assert Device.objects.count() == 0


# Imports


def test_an_import_registers_every_row_with_its_history(coordinator, coordinator_org, donation):
    imei = valid_imei(42)
    content = donor_sheet([*laptops(3), ("Smartphone", "Apple", "iPhone 12", "", imei)])
    result = do_import(coordinator, donation, content)
    assert result.imported and result.row_count == 4
    devices = Device.objects.filter(donation=donation)
    assert devices.count() == 4
    assert set(devices.values_list("status", "custodian", "donor")) == {
        (Status.REGISTERED, coordinator_org.pk, donation.donor_id)
    }
    assert devices.get(imei1=imei).category_id == "smartphone"
    history = Device.history.filter(donation_id=donation.pk)
    assert history.count() == 4
    assert set(history.values_list("history_user", "history_change_reason")) == {
        (coordinator.pk, "import")
    }
    assert set(LabelCode.objects.values_list("issued_by", flat=True)) == {coordinator.pk}
    record = DeviceImport.objects.get()
    assert (record.donation, record.row_count, record.imported_by) == (donation, 4, coordinator)
    assert record.file_name == "don.csv"


def test_a_dry_run_checks_everything_and_writes_nothing(coordinator, donation):
    result = do_import(coordinator, donation, donor_sheet(laptops(5)), dry_run=True)
    assert result.ok and not result.imported
    assert result.row_count == 5
    assert written() == (0, 0, 0, 0)


def test_a_bad_row_near_the_end_imports_nothing_and_is_named(coordinator, donation):
    rows = laptops(4000)
    rows[3999 - 2] = ("Frigo", "Dell", "", "", "")  # spreadsheet row 3,999 (the header is row 1)
    with pytest.raises(DomainError) as caught:
        do_import(coordinator, donation, donor_sheet(rows))
    assert (caught.value.code, caught.value.status) == ("import_invalid", 400)
    [error] = caught.value.params["errors"]
    assert (error.row, error.column, error.code) == (3999, "Catégorie", "category_unknown")
    assert written() == (0, 0, 0, 0)


def test_the_same_file_twice_is_refused_and_names_the_donation(coordinator, donation, donor_org):
    content = donor_sheet(laptops(20))
    do_import(coordinator, donation, content)
    other = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    for target in (donation, other):
        with pytest.raises(DomainError) as caught:
            do_import(coordinator, target, content, file_name="renamed.csv")
        assert (caught.value.code, caught.value.status) == ("already_imported", 409)
        assert donation.reference in str(caught.value.message)
        assert caught.value.params["donation"] == donation
    assert written() == (20, 20, 20, 1)


def test_a_file_over_the_size_limit_is_refused_before_parsing(
    coordinator, donation, settings, monkeypatch
):
    settings.REEMPLOI_IMPORT_MAX_BYTES = 1000

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the parser ran on an oversized file")

    monkeypatch.setattr(intake.imports, "parse_spreadsheet", must_not_parse)
    content = donor_sheet(laptops(100))
    assert len(content) > 1000
    with pytest.raises(DomainError) as caught:
        do_import(coordinator, donation, content, dry_run=True)
    assert (caught.value.code, caught.value.status) == ("file_too_large", 413)
    assert written() == (0, 0, 0, 0)


def test_the_row_limit_comes_from_the_settings(coordinator, donation, settings):
    settings.REEMPLOI_IMPORT_MAX_ROWS = 10
    with pytest.raises(DomainError) as caught:
        do_import(coordinator, donation, donor_sheet(laptops(11)), dry_run=True)
    assert (caught.value.code, caught.value.status) == ("too_many_rows", 400)
    assert [(e.row, e.code) for e in caught.value.params["errors"]] == [(12, "too_many_rows")]


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_file_that_cannot_be_read_is_refused_with_its_reason_even_in_a_preview(
    coordinator, donation, dry_run
):
    with pytest.raises(DomainError) as caught:
        intake.devices_import(
            actor=coordinator,
            donation=donation,
            file_name="don.xlsx",
            content=hostile.million_rows(),
            dry_run=dry_run,
        )
    assert (caught.value.code, caught.value.status) == ("too_much_data", 400)
    assert caught.value.params["result"].rows == []
    assert written() == (0, 0, 0, 0)


def test_rows_already_in_the_database_are_named(coordinator, donation):
    existing = make_device(actor=coordinator, manufacturer="DELL", serial_number="SN00003")
    phone = make_device(
        actor=coordinator,
        category="smartphone",
        manufacturer="Apple",
        serial_number="",
        imei1=valid_imei(1),
        imei2=valid_imei(2),
    )
    rows = [*laptops(5), ("Smartphone", "Samsung", "A52", "", valid_imei(2))]
    result = do_import(coordinator, donation, donor_sheet(rows), dry_run=True)
    assert [(e.row, e.column, e.code) for e in result.errors] == [
        (5, "N° de série", "already_registered"),
        (7, "IMEI", "already_registered"),
    ]
    assert existing.label_code_id in str(result.errors[0].reason).replace("-", "")
    assert phone.label_code_id in str(result.errors[1].reason).replace("-", "")
    with pytest.raises(DomainError):
        do_import(coordinator, donation, donor_sheet(rows))
    assert DeviceImport.objects.count() == 0


def test_duplicates_against_the_database_take_a_few_queries_not_one_per_row(
    coordinator, donation, django_assert_max_num_queries
):
    make_device(actor=coordinator, manufacturer="Dell", serial_number="SN01100")
    rows = laptops(1200)
    rows[7] = ("Smartphone", "Apple", "iPhone", "", valid_imei(8))
    content = donor_sheet(rows)
    intake.user_scope(coordinator)  # the scope is read once per request, as in a view
    # Scope, earlier import, categories, then 3 chunks of serials and 1 of IMEIs.
    with django_assert_max_num_queries(7):
        result = do_import(coordinator, donation, content, dry_run=True)
    assert [(e.row, e.code) for e in result.errors] == [(1102, "already_registered")]


def test_a_workshop_imports_only_into_the_donations_it_collected(
    workshop_staff, structure_staff, donation
):
    with pytest.raises(DomainError) as caught:
        do_import(workshop_staff, donation, donor_sheet(laptops(2)), dry_run=True)
    assert (caught.value.code, caught.value.status) == ("not_found", 404)
    with pytest.raises(DomainError) as caught:
        do_import(structure_staff, donation, donor_sheet(laptops(2)), dry_run=True)
    assert (caught.value.code, caught.value.status) == ("action_forbidden", 403)


def test_an_administrator_without_organisation_imports_for_the_coordination(
    coordinator_org, donation, django_user_model
):
    admin = django_user_model.objects.create_superuser("admin", password="a-long-password")
    do_import(admin, donation, donor_sheet(laptops(2)))
    assert set(Device.objects.values_list("custodian", flat=True)) == {coordinator_org.pk}
    assert set(Device.history.values_list("history_user", flat=True)) == {admin.pk}


def test_a_label_code_collision_draws_the_codes_again(coordinator, donation, monkeypatch):
    taken = make_device(actor=coordinator).label_code_id
    original = intake.generate_label_code
    draws = iter([taken])  # the first code drawn is already on a device

    def generate():
        return next(draws, None) or original()

    monkeypatch.setattr(intake, "generate_label_code", generate)
    do_import(coordinator, donation, donor_sheet(laptops(3)))
    assert Device.objects.filter(donation=donation).count() == 3
    assert LabelCode.objects.count() == 4
    assert next(draws, None) is None


# Two imports at once: real threads and transactions on the configured database.


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_imports_of_overlapping_files_at_once_one_wins_the_other_writes_nothing(
    coordinator, donor_org
):
    donation = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    files = [donor_sheet(laptops(300)), donor_sheet(laptops(300, start=150))]
    results, errors = run_at_once(
        lambda i: do_import(coordinator, donation, files[i], file_name=f"{i}.csv"), count=2
    )
    assert len(results) == 1, errors
    [error] = errors
    assert isinstance(error, DomainError), error
    assert (error.code, error.status) == ("duplicate", 409)
    winner = results[0]
    assert written() == (300, 300, 300, 1)
    assert DeviceImport.objects.get().sha256 == winner.sha256


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_file_imported_twice_at_once_is_imported_once(coordinator, donor_org):
    donation = donation_create(actor=coordinator, donor=donor_org, received_on=TODAY)
    content = donor_sheet(laptops(200))
    results, errors = run_at_once(lambda i: do_import(coordinator, donation, content), count=2)
    assert len(results) == 1
    [error] = errors
    assert isinstance(error, DomainError), error
    assert (error.code, error.status) == ("already_imported", 409)
    assert written() == (200, 200, 200, 1)


# A workshop that collects devices itself (ECODAIR collects from companies)


def test_a_workshop_records_the_donation_it_collected_and_its_devices(
    workshop_staff, workshop_org, collected
):
    donation, laptop = collected["donation"], collected["laptop"]
    assert donation.collected_by == workshop_org
    assert Donation.history.get().history_user == workshop_staff
    assert (laptop.donation, laptop.donor, laptop.custodian) == (
        donation,
        donation.donor,
        workshop_org,
    )
    donor = donor_create(actor=workshop_staff, name="Cabinet Z")
    assert donor.kind == OrgKind.DONOR
    donation_update(actor=workshop_staff, donation_id=donation.pk, received_count=2)
    donation.refresh_from_db()
    assert donation.received_count == 2


def test_a_workshop_changes_only_the_donations_it_collected(
    workshop_staff, other_workshop_staff, collected, donation
):
    for actor, target in (
        (other_workshop_staff, collected["donation"]),
        (workshop_staff, donation),
    ):
        with pytest.raises(DomainError) as caught:
            donation_update(actor=actor, donation_id=target.pk, received_count=9)
        assert (caught.value.code, caught.value.status) == ("not_found", 404)
        with pytest.raises(DomainError) as caught:
            donation_device_register(
                actor=actor,
                donation=target,
                category=Category.objects.get(code="laptop"),
                manufacturer="HP",
            )
        assert (caught.value.code, caught.value.status) == ("not_found", 404)
    assert Donation.objects.filter(received_count=9).count() == 0
    assert Device.objects.filter(manufacturer="HP").count() == 0


def test_a_workshop_imports_the_spreadsheet_of_its_donation_into_its_custody(
    workshop_staff, workshop_org, collected
):
    result = do_import(workshop_staff, collected["donation"], donor_sheet(laptops(3)))
    assert len(result.devices) == 3
    assert {device.custodian for device in result.devices} == {workshop_org}
