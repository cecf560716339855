"""The admin: reference data with history; devices read-mostly, status out of reach."""

import pytest
from django.urls import reverse

from inventory.models import Category, Organisation
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import reload


@pytest.mark.parametrize(
    "model",
    ["territory", "commune", "category", "organisation", "membership", "device", "labelcode"],
)
def test_every_admin_list_renders(admin_client, device, model):
    response = admin_client.get(reverse(f"admin:inventory_{model}_changelist"))
    assert response.status_code == 200


def test_device_status_and_custody_are_read_only_in_the_admin(admin_client, device):
    url = reverse("admin:inventory_device_change", args=[device.pk])
    form = admin_client.get(url).context["adminform"].form
    assert "status" not in form.fields
    assert "custodian" not in form.fields
    assert "model_name" in form.fields
    response = admin_client.post(
        url, {"model_name": "Latitude 7490", "status": Status.READY, "notes": ""}
    )
    assert response.status_code == 302
    device = reload(device)
    assert device.model_name == "Latitude 7490"
    assert device.status == Status.REGISTERED


def test_devices_and_label_codes_cannot_be_added_or_deleted_in_the_admin(admin_client, device):
    assert admin_client.get(reverse("admin:inventory_device_add")).status_code == 403
    assert admin_client.get(reverse("admin:inventory_labelcode_add")).status_code == 403
    delete = reverse("admin:inventory_device_delete", args=[device.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert reload(device)


def test_reverting_a_device_to_an_old_version_is_refused(
    admin_client, coordinator, workshop_org, device
):
    first = device.history.earliest("history_id")
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    url = reverse("admin:inventory_device_simple_history", args=[device.pk, first.history_id])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"model_name": "x"}).status_code == 403
    assert reload(device).status == Status.SENT_TO_WORKSHOP


def test_reference_data_edits_in_the_admin_keep_history_with_the_user(admin_client, db):
    category = Category.objects.get(code="laptop")
    url = reverse("admin:inventory_category_change", args=[category.pk])
    response = admin_client.post(
        url,
        {"name_fr": "Portable", "name_en": "Laptop", "has_imei": "", "sort_order": "1"},
    )
    assert response.status_code == 302
    latest = category.history.latest("history_id")
    assert latest.name_fr == "Portable"
    assert latest.history_user.username == "admin"


def test_organisations_cannot_be_deleted_in_the_admin(admin_client, workshop_org):
    delete = reverse("admin:inventory_organisation_delete", args=[workshop_org.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Organisation.objects.filter(pk=workshop_org.pk).exists()
