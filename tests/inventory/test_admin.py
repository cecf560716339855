"""The admin: reference data with history; devices read-mostly, status out of reach."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.authtoken.models import Token

from inventory.documents import services as documents
from inventory.models import Category, Organisation
from inventory.reconditioning import services as bench
from inventory.services import device_transition
from inventory.states import Status
from logistics.handovers.services import hand_over_create
from tests.builders import allocated, make_device, record_reconditioning, reload, shipped

# Every registered admin, whatever its app: a newly registered one is covered without a change.
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.fixture
def rows(settings, tmp_path, coordinator, workshop_org, workshop_staff, structure_staff, donation):
    """At least one row of every model the admin shows, so that every change page renders."""
    settings.MEDIA_ROOT = tmp_path
    device = make_device(actor=coordinator, donation=donation)
    device_transition(
        actor=coordinator, device_id=device.pk, action="receive_at_workshop", target=workshop_org
    )
    record_reconditioning(actor=workshop_staff, device=device)
    bench.repair_record(actor=workshop_staff, device_id=device.pk, part="Clavier")
    documents.certificate_issue(actor=coordinator, donation_id=donation.pk)
    shipped(coordinator, workshop_org)
    Group.objects.create(name="Bénévoles")
    Token.objects.create(user=coordinator)
    lent = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=1,
        mode="loan",
    )
    hand_over_create(actor=coordinator, allocation_ids=[lent[0].pk], received_by_name="Awa")


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_registered_admin_renders_its_list_add_and_change_pages(
    admin_client, admin_user, rf, rows, model
):
    model_admin = admin.site._registry[model]
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert admin_client.get(reverse(f"{prefix}_changelist")).status_code == 200
    request = rf.get("/")
    request.user = admin_user
    # Some admins refuse adding on purpose (devices and label codes are created by services).
    expected = 200 if model_admin.has_add_permission(request) else 403
    assert admin_client.get(reverse(f"{prefix}_add")).status_code == expected
    row = model._default_manager.first()
    assert row is not None, f"the rows fixture has no {model._meta.label}: add one"
    assert admin_client.get(reverse(f"{prefix}_change", args=[quote(row.pk)])).status_code == 200


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
