"""The coordination edits the test checklists; the guards of "ready" follow them."""

import pytest

from inventory.errors import DomainError
from inventory.models import Role
from inventory.models import TestItem as ChecklistItem
from inventory.reconditioning import services as bench
from tests.builders import make_user

URL = "/checklists/laptop/"


def test_the_coordination_adds_a_line_with_history(login, coordinator):
    before = ChecklistItem.objects.filter(category_id="laptop").count()
    response = login(coordinator).post(
        URL,
        {
            "new-label_fr": "Lecteur d'empreintes",
            "new-label_en": "Fingerprint reader",
            "new-is_active": "on",
        },
    )
    assert response.status_code == 302
    item = ChecklistItem.objects.get(category_id="laptop", code="fingerprint-reader")
    assert ChecklistItem.objects.filter(category_id="laptop").count() == before + 1
    assert item.history.get().history_user == coordinator
    assert item.is_active


def test_a_line_is_retired_not_deleted(login, coordinator):
    item = ChecklistItem.objects.get(category_id="laptop", code="webcam")
    response = login(coordinator).post(
        URL,
        {
            "item": item.pk,
            f"item-{item.pk}-label_fr": item.label_fr,
            f"item-{item.pk}-label_en": item.label_en,
            f"item-{item.pk}-sort_order": item.sort_order,
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert not item.is_active
    assert item.history.filter(history_user=coordinator).exists()


def test_a_line_without_label_is_refused_with_the_field_named(login, coordinator):
    before = ChecklistItem.objects.count()
    response = login(coordinator).post(URL, {"new-label_fr": "", "new-label_en": "Keyboard light"})
    assert response.status_code == 400
    assert "label_fr" in response.context["add_form"].errors
    assert ChecklistItem.objects.count() == before


def test_only_the_coordination_edits_checklists(login, workshop_staff, coordinator_org):
    assert login(workshop_staff).get(URL).status_code == 403
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    assert login(reader).get(URL).status_code == 200
    assert login(reader).post(URL, {"new-label_fr": "x", "new-label_en": "x"}).status_code == 403
    with pytest.raises(DomainError) as excinfo:
        bench.checklist_item_save(
            actor=workshop_staff, category_id="laptop", label_fr="x", label_en="x"
        )
    assert excinfo.value.code == "action_forbidden"


def test_the_index_lists_every_category(login, coordinator):
    response = login(coordinator).get("/checklists/")
    assert response.status_code == 200
    assert "/checklists/smartphone/" in response.text
