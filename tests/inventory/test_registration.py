"""Registering a device through the web form: who may, field errors, nothing half-written."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from inventory.codes import group_label_code
from inventory.models import Device, LabelCode, Role
from tests.builders import make_device, make_user, valid_imei

REGISTER = reverse("inventory:device_register")


def laptop(**overrides):
    data = {
        "category": "laptop",
        "manufacturer": "Lenovo",
        "model_name": "ThinkPad T480",
        "serial_number": "pf1abcde",
        "cpu": "Intel Core i5-8350U",
        "ram_gb": "8",
        "storage_gb": "256",
        "storage_type": "ssd",
        "screen_inches": "14",
        "operating_system": "Windows 11",
    }
    return data | overrides


def history_rows() -> int:
    return Device.history.count()


def test_coordinator_registers_a_device_and_reads_its_label_code(
    login, coordinator, coordinator_org, donor_org
):
    client = login(coordinator)
    assert 'name="custodian"' in client.get(REGISTER).text
    response = client.post(REGISTER, laptop(donor=donor_org.pk))
    device = Device.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:device_detail", args=[device.pk])
    [message] = list(get_messages(response.wsgi_request))
    assert group_label_code(device.label_code_id) in str(message)
    assert device.serial_number == "PF1ABCDE"
    assert (device.custodian, device.donor, device.ram_gb) == (coordinator_org, donor_org, 8)
    [row] = device.history.all()
    assert (row.history_user, row.history_change_reason) == (coordinator, "register")


def test_coordinator_may_register_straight_into_a_workshops_custody(
    login, coordinator, workshop_org
):
    login(coordinator).post(REGISTER, laptop(custodian=workshop_org.pk))
    assert Device.objects.get().custodian == workshop_org


def test_workshop_registers_into_its_own_custody_without_choosing(
    login, workshop_staff, workshop_org, coordinator_org
):
    client = login(workshop_staff)
    assert 'name="custodian"' not in client.get(REGISTER).text
    # A forged custodian field is ignored: the service puts the device in the workshop.
    response = client.post(REGISTER, laptop(custodian=coordinator_org.pk))
    assert response.status_code == 302
    assert Device.objects.get().custodian == workshop_org


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader", "reader"])
def test_structures_funds_and_readers_may_not_register(login, request, coordinator_org, persona):
    if persona == "reader":
        user = make_user(organisation=coordinator_org, role=Role.READER)
    else:
        user = request.getfixturevalue(persona)
    client = login(user)
    assert client.get(REGISTER).status_code == 403
    assert client.post(REGISTER, laptop()).status_code == 403
    assert not Device.objects.exists()


def test_a_bad_imei_is_shown_on_its_field_and_nothing_is_written(login, coordinator):
    labels_before, rows_before = LabelCode.objects.count(), history_rows()
    response = login(coordinator).post(
        REGISTER,
        laptop(category="smartphone", imei1="352099001761482", serial_number="R58M12345"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["imei1"]
    assert 'id="error-summary"' in response.text
    assert 'href="#id_imei1"' in response.text
    assert not Device.objects.exists()
    assert LabelCode.objects.count() == labels_before
    assert history_rows() == rows_before


def test_a_valid_imei_with_spaces_is_accepted(login, coordinator):
    imei = valid_imei(5)
    spaced = f"{imei[:2]} {imei[2:8]} {imei[8:14]} {imei[14]}"
    login(coordinator).post(REGISTER, laptop(category="smartphone", imei1=spaced))
    assert Device.objects.get().imei1 == imei


def test_a_duplicate_serial_is_shown_on_the_serial_field(login, coordinator):
    make_device(actor=coordinator, manufacturer="Lenovo", serial_number="PF1ABCDE")
    response = login(coordinator).post(REGISTER, laptop(manufacturer="LENOVO"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["serial_number"]
    assert Device.objects.count() == 1


def test_missing_required_fields_are_named(login, coordinator):
    response = login(coordinator).post(REGISTER, {"serial_number": "X1"})
    assert set(response.context["form"].errors) == {"category", "manufacturer"}
    assert not Device.objects.exists()


def test_every_input_of_the_form_has_a_label(login, coordinator):
    response = login(coordinator).get(REGISTER)
    for field in response.context["form"]:
        assert f'for="{field.id_for_label}"' in response.text, field.name


def test_a_mistyped_pre_printed_label_is_refused_on_its_field(login, coordinator):
    response = login(coordinator).post(REGISTER, laptop(label_code="ABC-DEF-GHJ"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["label_code"]
    assert not Device.objects.exists()
