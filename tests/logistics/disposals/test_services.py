"""WEEE disposals: recycled devices leave in batches, all or nothing, once, with their author."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.models import Role
from inventory.states import Status
from logistics.disposals import services as disposals
from logistics.disposals.selectors import (
    devices_awaiting_disposal,
    disposal_detail,
    disposal_register,
    disposal_years,
    disposals_visible_to,
)
from logistics.models import DisposalBatch, DisposalItem
from tests.builders import dispose, make_device, make_user, recycled, reload
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return (
        not DisposalBatch.objects.exists()
        and not DisposalItem.objects.exists()
        and not DisposalBatch.history.exists()
        and not DisposalItem.history.exists()
    )


@pytest.fixture
def other_workshop_recycled(coordinator, other_workshop_org):
    return recycled(actor=coordinator, workshop=other_workshop_org)


# Recording a batch


def test_a_batch_takes_devices_by_id_and_by_typed_code(coordinator, coordinator_org):
    by_id, by_code = recycled(actor=coordinator), recycled(actor=coordinator)
    batch = dispose(
        actor=coordinator,
        # A typed code, in lower case with dashes, is as good as a ticked box.
        devices=[by_id.pk, group_label_code(by_code.label_code_id).lower()],
        notes="  Palette 3  ",
    )
    assert batch.reference == f"DEEE-{batch.pk:05d}"
    assert (batch.organisation, batch.created_by) == (coordinator_org, coordinator)
    assert (batch.eco_organisation, batch.weight_kg, batch.notes) == (
        "ecosystem",
        Decimal("42.50"),
        "Palette 3",
    )
    assert sorted(batch.items.values_list("device_id", flat=True)) == [by_id.pk, by_code.pk]
    # The devices stay "recycled": the batch item is what says that they left.
    assert {reload(d).status for d in (by_id, by_code)} == {Status.RECYCLED}


def test_every_row_written_names_its_author_in_history(coordinator):
    devices = [recycled(actor=coordinator) for _ in range(3)]
    batch = dispose(actor=coordinator, devices=[d.pk for d in devices])
    batch_rows = DisposalBatch.history.filter(id=batch.pk)
    assert [(row.history_user, row.history_change_reason) for row in batch_rows] == [
        (coordinator, "disposal_create")
    ]
    item_rows = DisposalItem.history.filter(batch_id=batch.pk)
    assert item_rows.count() == 3
    assert {row.history_user for row in item_rows} == {coordinator}


def test_a_workshop_hands_over_its_own_recycled_devices(
    workshop_staff, workshop_org, workshop_recycled
):
    batch = dispose(actor=workshop_staff, devices=[workshop_recycled.label_code_id])
    assert batch.organisation == workshop_org
    assert DisposalItem.history.get(batch_id=batch.pk).history_user == workshop_staff


def test_a_device_listed_twice_leaves_once(coordinator):
    device = recycled(actor=coordinator)
    batch = dispose(actor=coordinator, devices=[device.pk, device.label_code_id, device.pk])
    assert batch.items.count() == 1


def test_a_weight_typed_with_a_comma_is_read(coordinator):
    batch = dispose(actor=coordinator, devices=[recycled(actor=coordinator).pk], weight_kg="3,5")
    assert reload_batch(batch).weight_kg == Decimal("3.50")


def reload_batch(batch) -> DisposalBatch:
    return DisposalBatch.objects.get(pk=batch.pk)


# All or nothing


def test_one_device_not_recycled_refuses_the_whole_batch(coordinator):
    good = recycled(actor=coordinator)
    ready_for_intake = make_device(actor=coordinator)
    with pytest.raises(DomainError) as refused:
        dispose(actor=coordinator, devices=[good.pk, ready_for_intake.pk])
    assert (refused.value.code, refused.value.status) == ("not_recycled", 409)
    [problem] = refused.value.params["problems"]
    assert problem.device == group_label_code(ready_for_intake.label_code_id)
    assert problem.code == "not_recycled"
    # The message names the device so that the person can find it on the pallet.
    assert group_label_code(ready_for_intake.label_code_id) in str(refused.value)
    assert nothing_written()


def test_a_device_already_disposed_of_cannot_leave_again(coordinator):
    device, fresh = recycled(actor=coordinator), recycled(actor=coordinator)
    first = dispose(actor=coordinator, devices=[device.pk])
    with pytest.raises(DomainError) as refused:
        dispose(actor=coordinator, devices=[fresh.pk, device.pk], document_reference="BSD-2")
    assert (refused.value.code, refused.value.status) == ("already_disposed", 409)
    [problem] = refused.value.params["problems"]
    assert problem.device == group_label_code(device.label_code_id)
    assert first.reference in problem.message
    assert DisposalBatch.objects.count() == 1
    assert not DisposalItem.objects.filter(device=fresh).exists()


def test_several_problems_are_all_named_under_one_code(coordinator):
    gone, intake = recycled(actor=coordinator), make_device(actor=coordinator)
    dispose(actor=coordinator, devices=[gone.pk])
    with pytest.raises(DomainError) as refused:
        dispose(actor=coordinator, devices=[gone.pk, intake.pk, "ABC", 999_999])
    assert refused.value.code == "devices_refused"
    assert sorted(p.code for p in refused.value.params["problems"]) == [
        "already_disposed",
        "code_length",
        "not_found",
        "not_recycled",
    ]
    assert DisposalBatch.objects.count() == 1


def test_a_batch_without_devices_is_refused(coordinator):
    with pytest.raises(DomainError) as refused:
        dispose(actor=coordinator, devices=["", "  "])
    assert (refused.value.code, refused.value.status) == ("no_devices", 400)
    assert nothing_written()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", Decimal("0")),
        ("weight_kg", Decimal("-3")),
        ("weight_kg", "heavy"),
        ("weight_kg", Decimal("1.005")),
        ("weight_kg", None),
        ("eco_organisation", "   "),
        ("document_reference", ""),
        ("left_on", None),
        ("left_on", datetime.date.today() + datetime.timedelta(days=2)),
    ],
)
def test_a_register_line_needs_its_facts(coordinator, field, value):
    device = recycled(actor=coordinator)
    with pytest.raises(DomainError) as refused:
        dispose(actor=coordinator, devices=[device.pk], **{field: value})
    assert (refused.value.code, refused.value.status) == ("invalid", 400)
    assert list(refused.value.params["fields"]) == [field]
    assert nothing_written()


def test_the_one_to_one_turns_a_race_the_locks_missed_into_a_conflict(coordinator, monkeypatch):
    """A writer that took no lock (an admin, a script) inserts the item between the check
    and the write: the database refuses the second item and nothing of this batch remains."""
    device = recycled(actor=coordinator)
    real_save = disposals.tracked_save

    def save_after_a_sneaky_writer(instance, **kwargs):
        if isinstance(instance, DisposalItem):
            other = DisposalBatch.objects.create(
                eco_organisation="x",
                left_on=datetime.date(2025, 1, 1),
                weight_kg=1,
                document_reference="x",
                created_by=coordinator,
            )
            DisposalItem.objects.create(batch=other, device=instance.device)
        real_save(instance, **kwargs)

    monkeypatch.setattr(disposals, "tracked_save", save_after_a_sneaky_writer)
    with pytest.raises(DomainError) as refused:
        dispose(actor=coordinator, devices=[device.pk])
    assert (refused.value.code, refused.value.status) == ("already_disposed", 409)
    assert nothing_written()


def test_the_database_refuses_a_second_item_for_one_device(coordinator):
    device = recycled(actor=coordinator)
    batch = dispose(actor=coordinator, devices=[device.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        DisposalItem.objects.create(batch=batch, device=device)


# Who may


@pytest.mark.parametrize("persona", ["fund_reader", "structure_staff"])
def test_organisations_outside_the_bench_may_not_record_disposals(request, coordinator, persona):
    device = recycled(actor=coordinator)
    with pytest.raises(DomainError) as refused:
        dispose(actor=request.getfixturevalue(persona), devices=[device.pk])
    assert (refused.value.code, refused.value.status) == ("action_forbidden", 403)
    assert nothing_written()


def test_a_workshop_reader_may_not_record_disposals(workshop_org, workshop_recycled):
    reader = make_user(organisation=workshop_org, role=Role.READER)
    with pytest.raises(DomainError) as refused:
        dispose(actor=reader, devices=[workshop_recycled.pk])
    assert (refused.value.code, refused.value.status) == ("action_forbidden", 403)
    assert nothing_written()


def test_another_workshops_recycled_device_is_not_found(workshop_staff, other_workshop_recycled):
    for reference in (other_workshop_recycled.pk, other_workshop_recycled.label_code_id):
        with pytest.raises(DomainError) as refused:
            dispose(actor=workshop_staff, devices=[reference])
        assert refused.value.code == "not_found"
        # Told exactly like a code that names no device: nothing about the other workshop.
        [problem] = refused.value.params["problems"]
        assert "Atelier Nord" not in problem.message
    assert nothing_written()


# Reads


def test_each_organisation_sees_the_batches_it_handed_over(
    coordinator,
    workshop_staff,
    workshop_recycled,
    fund_reader,
    structure_staff,
    other_workshop_org,
):
    mine = dispose(actor=workshop_staff, devices=[workshop_recycled.pk])
    theirs = dispose(actor=coordinator, devices=[recycled(actor=coordinator).pk])
    other_staff = make_user(organisation=other_workshop_org)
    assert set(disposals_visible_to(coordinator)) == {mine, theirs}
    assert list(disposals_visible_to(workshop_staff)) == [mine]
    for outsider in (other_staff, fund_reader, structure_staff):
        assert not disposals_visible_to(outsider).exists()
        assert disposal_detail(outsider, mine.pk) is None
    detail = disposal_detail(workshop_staff, mine.pk)
    assert detail.device_count == 1
    assert [item.device for item in detail.item_rows] == [workshop_recycled]


def test_devices_awaiting_disposal_are_the_visible_recycled_ones_not_yet_gone(
    coordinator, workshop_staff, workshop_recycled, other_workshop_recycled
):
    waiting, gone = recycled(actor=coordinator), recycled(actor=coordinator)
    make_device(actor=coordinator)
    dispose(actor=coordinator, devices=[gone.pk])
    assert set(devices_awaiting_disposal(coordinator)) == {
        waiting,
        workshop_recycled,
        other_workshop_recycled,
    }
    assert list(devices_awaiting_disposal(workshop_staff)) == [workshop_recycled]
    assert list(devices_awaiting_disposal(coordinator, category="smartphone")) == []


def test_the_register_reads_a_period_in_date_order(coordinator):
    march, june, next_year = (
        dispose(actor=coordinator, devices=[recycled(actor=coordinator).pk], left_on=day)
        for day in (
            datetime.date(2024, 6, 1),
            datetime.date(2024, 3, 1),
            datetime.date(2025, 1, 2),
        )
    )
    assert list(disposal_register(coordinator)) == [june, march, next_year]
    assert list(
        disposal_register(
            coordinator, start=datetime.date(2024, 1, 1), end=datetime.date(2024, 12, 31)
        )
    ) == [june, march]
    assert disposal_years(coordinator) == [2025, 2024]


# Two people record the same device at once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("threads", [2, 10])
def test_concurrent_disposals_of_one_device_record_it_once(coordinator, threads):
    device = recycled(actor=coordinator)
    others = [recycled(actor=coordinator) for _ in range(threads)]

    def work(i):
        return dispose(
            actor=coordinator, devices=[others[i].pk, device.pk], document_reference=f"BSD-{i}"
        ).pk

    results, errors = run_at_once(work, count=threads)
    assert len(results) == 1
    assert len(errors) == threads - 1
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert {(e.code, e.status) for e in errors} == {("already_disposed", 409)}
    assert DisposalBatch.objects.count() == 1
    assert DisposalItem.objects.filter(device=device).count() == 1
    # The losers left nothing behind: the winner's two devices, and its history rows alone.
    assert DisposalItem.objects.count() == 2
    assert DisposalItem.history.count() == 2
    assert DisposalBatch.history.count() == 1
