"""`manage.py import_devices`: donor, donation and devices in one transaction, or nothing."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.models import Device, DeviceImport, Donation, LabelCode, Organisation
from inventory.states import OrgKind
from tests.builders import make_user


@pytest.fixture
def admin(django_user_model, coordinator_org):
    return django_user_model.objects.create_superuser("admin", password="a-long-password")


def spreadsheet(tmp_path, rows, name="don.csv"):
    path = tmp_path / name
    lines = ["Catégorie;Fabricant;N° de série"] + [";".join(row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_devices", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def nothing_written() -> bool:
    return not (
        Device.objects.exists()
        or Device.history.exists()
        or Donation.objects.exists()
        or Donation.history.exists()
        or DeviceImport.objects.exists()
        or LabelCode.objects.exists()
    )


def test_import_creates_the_donor_and_the_donation(tmp_path, admin, coordinator_org):
    path = spreadsheet(tmp_path, [("PC portable", "Dell", f"SN{i}") for i in range(3)])
    out, err = run(path, "--donor", "Mairie de Sceaux", "--date", "2026-02-27")
    donor = Organisation.objects.get(kind=OrgKind.DONOR, name="Mairie de Sceaux")
    donation = Donation.objects.get()
    assert (donation.donor, donation.received_on) == (donor, date(2026, 2, 27))
    assert Device.objects.filter(donation=donation, custodian=coordinator_org).count() == 3
    assert "Mairie de Sceaux" in out and donation.reference in out
    assert err == ""
    for history in (Device.history, Donation.history, donor.history):
        assert set(history.values_list("history_user", flat=True)) == {admin.pk}


def test_an_existing_donor_is_found_in_any_case(tmp_path, admin, donor_org):
    path = spreadsheet(tmp_path, [("Tablette", "Samsung", "R52")])
    run(path, "--donor", donor_org.name.upper())
    assert Donation.objects.get().donor == donor_org
    assert Organisation.objects.filter(kind=OrgKind.DONOR).count() == 1


def test_a_bad_row_fails_with_the_report_and_leaves_no_donation(tmp_path, admin):
    rows = [("PC portable", "Dell", f"SN{i}") for i in range(10)]
    rows[6] = ("Aspirateur", "Dyson", "V8")
    path = spreadsheet(tmp_path, rows)
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_devices", str(path), "--donor", "Nouveau", stderr=err, stdout=StringIO()
        )
    assert "import_invalid" in str(caught.value)
    report = err.getvalue().splitlines()
    assert report[0] == "row\tcolumn\tcode\treason"
    assert report[1].startswith("8\tCatégorie\tcategory_unknown\t")
    assert nothing_written()
    assert not Organisation.objects.filter(name="Nouveau").exists()


def test_the_same_file_twice_fails_and_writes_nothing_the_second_time(tmp_path, admin):
    path = spreadsheet(tmp_path, [("PC portable", "Dell", "SN1")])
    run(path, "--donor", "Banque")
    with pytest.raises(CommandError) as caught:
        run(path, "--donor", "Banque")
    assert "already_imported" in str(caught.value)
    assert (Donation.objects.count(), Device.objects.count()) == (1, 1)


def test_a_dry_run_reports_and_writes_nothing(tmp_path, admin):
    path = spreadsheet(tmp_path, [("PC portable", "Dell", "SN1"), ("Écran", "HP", "CN1")])
    out, _err = run(path, "--donor", "Banque", "--dry-run")
    assert "2" in out
    assert nothing_written()
    assert not Organisation.objects.filter(name="Banque").exists()


def test_a_dry_run_with_errors_fails(tmp_path, admin):
    path = spreadsheet(tmp_path, [("Frigo", "", "")])
    with pytest.raises(CommandError):
        run(path, "--donor", "Banque", "--dry-run")
    assert nothing_written()


def test_the_acting_user_can_be_named(tmp_path, coordinator):
    path = spreadsheet(tmp_path, [("PC portable", "Dell", "SN1")])
    run(path, "--donor", "Banque", "--user", coordinator.username)
    assert Device.history.get().history_user == coordinator


def test_a_user_who_may_not_import_is_refused(tmp_path, structure_staff, admin):
    path = spreadsheet(tmp_path, [("PC portable", "Dell", "SN1")])
    with pytest.raises(CommandError) as caught:
        run(path, "--donor", "Banque", "--user", structure_staff.username)
    assert "action_forbidden" in str(caught.value)
    assert nothing_written()


def test_without_a_superuser_the_user_must_be_named(tmp_path, db):
    make_user(username="someone")
    path = spreadsheet(tmp_path, [("PC portable", "Dell", "SN1")])
    with pytest.raises(CommandError):
        run(path, "--donor", "Banque")


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, admin, settings, monkeypatch):
    settings.REEMPLOI_IMPORT_MAX_BYTES = 100
    path = spreadsheet(tmp_path, [("PC portable", "Dell", f"SN{i}") for i in range(20)])

    def must_not_read(self):
        raise AssertionError("the oversized file was read")

    monkeypatch.setattr(type(path), "read_bytes", must_not_read)
    with pytest.raises(CommandError) as caught:
        run(path, "--donor", "Banque")
    assert "MB" in str(caught.value) or "Mo" in str(caught.value)
    assert nothing_written()


def test_a_missing_file_is_a_command_error(tmp_path, admin):
    with pytest.raises(CommandError):
        run(tmp_path / "nowhere.csv", "--donor", "Banque")
