"""Bench records and the guards of "ready": each missing piece blocks with its own code."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inventory.errors import DomainError
from inventory.guards import GuardContext, guard_problems
from inventory.models import (
    Category,
    ErasureRecord,
    LockCheck,
    LockKind,
    MediumState,
    Reconditioning,
)
from inventory.models import (
    TestItem as ChecklistItem,
)
from inventory.reconditioning import selectors as bench_reads
from inventory.reconditioning import services as bench
from inventory.services import device_transition
from inventory.states import MOVES, Status
from tests.builders import erase, make_device, make_user, record_reconditioning, reload, walk
from tests.concurrency import run_at_once


def at_bench(coordinator, workshop_org, **fields):
    device = make_device(actor=coordinator, **fields)
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    walk(actor=coordinator, device=device, actions=("receive_at_workshop",))
    return reload(device)


def mark_ready(actor, device):
    return device_transition(actor=actor, device_id=device.pk, action="mark_ready")


def missing_codes(device, actor):
    device = reload(device)
    context = GuardContext(device=device, move=MOVES["mark_ready"], actor=actor, target=None)
    return {problem.code for problem in guard_problems(context)}


@pytest.fixture
def laptop(coordinator, workshop_org):
    return at_bench(coordinator, workshop_org)


def test_the_first_record_starts_the_reconditioning(workshop_staff, laptop):
    bench.lock_checks_record(
        actor=workshop_staff, device_id=laptop.pk, outcomes={"firmware_password": "cleared"}
    )
    assert reload(laptop).status == Status.IN_RECONDITIONING
    cycle = Reconditioning.objects.get(device=laptop)
    assert cycle.completed_at is None
    assert cycle.workshop.name == "ECODAIR"


def test_a_complete_record_lets_the_device_become_ready(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    assert missing_codes(laptop, workshop_staff) == set()
    assert mark_ready(workshop_staff, laptop).changed
    cycle = Reconditioning.objects.get(device=laptop)
    assert (cycle.outcome, cycle.grade) == ("mark_ready", "B")
    assert cycle.completed_at is not None


def test_nothing_recorded_names_every_missing_piece(coordinator, laptop):
    walk(actor=coordinator, device=laptop, actions=("start_reconditioning",))
    assert missing_codes(laptop, coordinator) == {
        "locks_unchecked",
        "tests_incomplete",
        "media_missing",
        "grade_missing",
    }
    with pytest.raises(DomainError):
        mark_ready(coordinator, laptop)
    assert reload(laptop).status == Status.IN_RECONDITIONING


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        ("lock", "lock_blocked"),
        ("test_failed", "tests_failed"),
        ("test_missing", "tests_incomplete"),
        ("erasure_missing", "erasure_missing"),
        ("erasure_failed", "destruction_required"),
        ("grade_missing", "grade_missing"),
        ("grade_d", "grade_not_reusable"),
    ],
)
def test_each_missing_piece_blocks_ready_with_its_code(workshop_staff, laptop, spoil, code):
    record_reconditioning(actor=workshop_staff, device=laptop)
    items = list(ChecklistItem.objects.filter(category_id="laptop"))
    if spoil == "lock":
        bench.lock_checks_record(
            actor=workshop_staff, device_id=laptop.pk, outcomes={"mdm": "blocked"}
        )
    elif spoil == "test_failed":
        bench.test_results_record(
            actor=workshop_staff, device_id=laptop.pk, outcomes={items[2].pk: "failed"}
        )
    elif spoil == "test_missing":
        ChecklistItem.objects.create(
            category_id="laptop", code="fingerprint", label_fr="Lecteur", label_en="Reader"
        )
    elif spoil == "erasure_missing":
        bench.medium_add(actor=workshop_staff, device_id=laptop.pk, kind="hdd", interface="sata")
    elif spoil == "erasure_failed":
        medium = bench.medium_add(
            actor=workshop_staff, device_id=laptop.pk, kind="hdd", interface="sata"
        )
        erase(workshop_staff, medium, method="overwrite", level="clear", result="failed")
    elif spoil == "grade_missing":
        bench.assessment_record(actor=workshop_staff, device_id=laptop.pk, grade="")
    elif spoil == "grade_d":
        bench.assessment_record(actor=workshop_staff, device_id=laptop.pk, grade="D")
    assert code in missing_codes(laptop, workshop_staff)
    with pytest.raises(DomainError) as excinfo:
        mark_ready(workshop_staff, laptop)
    assert excinfo.value.code == code
    assert reload(laptop).status == Status.IN_RECONDITIONING
    assert not laptop.history.filter(history_change_reason="mark_ready").exists()


def test_a_failed_erasure_accepts_only_a_destruction_which_then_counts(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    medium = bench.medium_add(
        actor=workshop_staff, device_id=laptop.pk, kind="hdd", interface="sata", serial_number="w1"
    )
    erase(
        workshop_staff,
        medium,
        method="overwrite",
        level="clear",
        result="unverifiable",
        verification="none",
    )
    with pytest.raises(DomainError) as excinfo:
        erase(workshop_staff, medium, method="overwrite", level="clear")
    assert excinfo.value.code == "destruction_required"
    erase(workshop_staff, medium, method="shred", level="destruct", verification="full")
    medium.refresh_from_db()
    assert medium.state == MediumState.DESTROYED
    assert missing_codes(laptop, workshop_staff) == set()
    with pytest.raises(DomainError) as excinfo:
        erase(workshop_staff, medium)
    assert excinfo.value.code == "medium_not_in_device"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"method": "shred"}, "method"),
        ({"level": "destruct"}, "method"),
        ({"verification": "sample"}, "verification_percent"),
        ({"verification": "none"}, "result"),
        ({"result": "maybe"}, "result"),
        ({"ended_at": timezone.now() - timedelta(days=2)}, "ended_at"),
        ({"ended_at": timezone.now() + timedelta(days=2)}, "ended_at"),
    ],
)
def test_an_inconsistent_erasure_is_refused_field_by_field(
    workshop_staff, laptop, overrides, field
):
    medium = bench.medium_add(
        actor=workshop_staff, device_id=laptop.pk, kind="ssd", interface="nvme"
    )
    with pytest.raises(DomainError) as excinfo:
        erase(workshop_staff, medium, **overrides)
    assert excinfo.value.code == "invalid"
    assert field in excinfo.value.params["fields"]
    assert not ErasureRecord.objects.exists()


def test_a_report_is_stored_with_its_sha256_and_must_be_what_it_claims(
    workshop_staff, laptop, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    medium = bench.medium_add(
        actor=workshop_staff, device_id=laptop.pk, kind="ssd", interface="nvme"
    )
    body = b"%PDF-1.4 Blancco report for S/N 1234\n%%EOF"
    record = erase(
        workshop_staff, medium, report=SimpleUploadedFile("rapport.pdf", body, "application/pdf")
    )
    import hashlib

    assert record.report_sha256 == hashlib.sha256(body).hexdigest()
    assert record.report.read() == body
    fake = SimpleUploadedFile("rapport.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    with pytest.raises(DomainError) as excinfo:
        erase(workshop_staff, medium, report=fake)
    assert "report" in excinfo.value.params["fields"]
    assert ErasureRecord.objects.count() == 1


def test_a_phone_is_erased_by_an_encrypted_factory_reset_in_one_step(
    coordinator, workshop_org, workshop_staff
):
    from tests.builders import valid_imei

    phone = at_bench(
        coordinator,
        workshop_org,
        category="smartphone",
        manufacturer="Samsung",
        imei1=valid_imei(7),
    )
    record = bench.factory_reset_record(actor=workshop_staff, device_id=phone.pk)
    assert (record.method, record.level, record.verification) == (
        "factory_reset",
        "purge",
        "full",
    )
    assert record.medium.interface == "embedded"
    # A second reset reuses the same built-in medium.
    bench.factory_reset_record(actor=workshop_staff, device_id=phone.pk)
    assert phone.media.count() == 1


def test_a_device_without_data_needs_no_medium(coordinator, workshop_org, workshop_staff):
    screen = at_bench(coordinator, workshop_org, category="screen", manufacturer="Iiyama")
    items = ChecklistItem.objects.filter(category_id="screen")
    bench.test_results_record(
        actor=workshop_staff, device_id=screen.pk, outcomes={i.pk: "passed" for i in items}
    )
    bench.assessment_record(actor=workshop_staff, device_id=screen.pk, grade="A")
    assert mark_ready(workshop_staff, screen).changed


def test_records_are_refused_to_readers_structures_and_other_workshops(
    laptop, structure_staff, other_workshop_org, fund_reader, workshop_org
):
    from inventory.models import Role

    outsider = make_user(organisation=other_workshop_org)
    reader = make_user(organisation=workshop_org, role=Role.READER)
    for actor, code in (
        (outsider, "not_found"),
        (structure_staff, "not_found"),
        (fund_reader, "not_found"),
        (reader, "action_forbidden"),
    ):
        with pytest.raises(DomainError) as excinfo:
            bench.lock_checks_record(actor=actor, device_id=laptop.pk, outcomes={"mdm": "cleared"})
        assert excinfo.value.code == code
    assert not LockCheck.objects.exists()
    assert not Reconditioning.objects.exists()


def test_a_device_in_stock_takes_no_record(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    mark_ready(workshop_staff, laptop)
    with pytest.raises(DomainError) as excinfo:
        bench.repair_record(actor=workshop_staff, device_id=laptop.pk, part="Clavier")
    assert excinfo.value.code == "not_at_bench"


def test_every_record_leaves_history_rows_with_its_author(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    bench.repair_record(
        actor=workshop_staff, device_id=laptop.pk, part="Batterie", cost="39.90", minutes=25
    )
    cycle = Reconditioning.objects.get(device=laptop)
    for manager in (
        cycle.lock_checks,
        cycle.test_results,
        cycle.erasures,
        cycle.repairs,
        laptop.media,
    ):
        model = manager.model
        rows = model.history.filter(id__in=manager.values("pk"))
        assert rows.count() >= manager.count() > 0
        assert not rows.filter(history_user__isnull=True).exists()
        assert set(rows.values_list("history_user", flat=True)) == {workshop_staff.pk}
    assert cycle.history.filter(history_user=workshop_staff).exists()


def test_the_same_answer_twice_writes_no_history(workshop_staff, laptop):
    outcomes = {kind: "cleared" for kind in LockKind.values}
    bench.lock_checks_record(actor=workshop_staff, device_id=laptop.pk, outcomes=outcomes)
    rows = LockCheck.history.count()
    assert (
        bench.lock_checks_record(actor=workshop_staff, device_id=laptop.pk, outcomes=outcomes) == []
    )
    assert LockCheck.history.count() == rows


def test_a_loan_coming_back_opens_a_new_cycle(coordinator, workshop_org, structure_org, laptop):
    walk(actor=coordinator, device=laptop, actions=("mark_ready", "reserve"))
    device_transition(
        actor=coordinator, device_id=laptop.pk, action="lend", target=structure_org, workflow=True
    )
    device_transition(actor=coordinator, device_id=laptop.pk, action="return_loan")
    device_transition(
        actor=coordinator, device_id=laptop.pk, action="send_to_workshop", target=workshop_org
    )
    walk(actor=coordinator, device=laptop, actions=("receive_at_workshop", "start_reconditioning"))
    # The previous pass's tests and erasure do not carry over: re-erase, re-test.
    assert {"tests_incomplete", "erasure_missing", "grade_missing"} <= missing_codes(
        laptop, coordinator
    )
    walk(actor=coordinator, device=laptop, actions=("mark_ready",))
    assert Reconditioning.objects.filter(device=laptop, outcome="mark_ready").count() == 2


def test_recycling_closes_the_cycle(workshop_staff, laptop):
    bench.lock_checks_record(actor=workshop_staff, device_id=laptop.pk, outcomes={"frp": "blocked"})
    device_transition(actor=workshop_staff, device_id=laptop.pk, action="recycle")
    assert Reconditioning.objects.get(device=laptop).outcome == "recycle"


def test_reconditioned_in_france_follows_where_the_steps_happened(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    assert bench_reads.bench_record(reload(laptop)).in_france is True
    organisation = workshop_staff.membership.organisation
    organisation.country = "BE"
    organisation.save()
    assert bench_reads.bench_record(reload(laptop)).in_france is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_benches_recording_at_once_share_one_cycle(coordinator, workshop_org, workshop_staff):
    laptop = at_bench(coordinator, workshop_org)
    kinds = LockKind.values
    results, errors = run_at_once(
        lambda i: bench.lock_checks_record(
            actor=workshop_staff, device_id=laptop.pk, outcomes={kinds[i % len(kinds)]: "cleared"}
        ),
        count=10,
    )
    assert errors == []
    assert Reconditioning.objects.filter(device=laptop).count() == 1
    assert LockCheck.objects.count() == len(kinds)
    assert reload(laptop).status == Status.IN_RECONDITIONING
    assert laptop.history.filter(history_change_reason="start_reconditioning").count() == 1


def test_a_factory_reset_is_only_for_phones_and_tablets(workshop_staff, laptop):
    with pytest.raises(DomainError) as excinfo:
        bench.factory_reset_record(actor=workshop_staff, device_id=laptop.pk)
    assert excinfo.value.code == "factory_reset_not_applicable"
    assert not ErasureRecord.objects.exists()
    assert not laptop.media.exists()


# The "ready" rule: the locks the category calls for, and a working medium that holds no one's
# data (erased in this cycle, or factory-new).


def test_ready_requires_every_lock_check_the_category_calls_for(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    LockCheck.objects.filter(kind__in=["firmware_password", "mdm"]).delete()
    with pytest.raises(DomainError) as excinfo:
        mark_ready(workshop_staff, laptop)
    assert excinfo.value.code == "locks_unchecked"
    assert "BIOS/UEFI" in str(excinfo.value.message)
    bench.lock_checks_record(actor=workshop_staff, device_id=laptop.pk, outcomes={"mdm": "cleared"})
    assert "locks_unchecked" in missing_codes(laptop, workshop_staff)
    bench.lock_checks_record(
        actor=workshop_staff, device_id=laptop.pk, outcomes={"firmware_password": "not_applicable"}
    )
    assert missing_codes(laptop, workshop_staff) == set()
    assert mark_ready(workshop_staff, laptop).changed


@pytest.mark.parametrize(
    ("category", "required"),
    [
        ("laptop", {"firmware_password", "mdm"}),
        ("desktop", {"firmware_password", "mdm"}),
        ("tablet", {"activation_lock", "frp", "mdm"}),
        ("smartphone", {"activation_lock", "frp", "mdm", "stolen_list"}),
        ("screen", set()),
    ],
)
def test_each_category_names_the_locks_it_needs(db, category, required):
    assert set(Category.objects.get(code=category).required_lock_kinds) == required


def test_a_phone_with_no_lock_checked_is_not_ready(coordinator, workshop_org, workshop_staff):
    from tests.builders import valid_imei

    phone = at_bench(
        coordinator, workshop_org, category="smartphone", manufacturer="Apple", imei1=valid_imei(5)
    )
    bench.factory_reset_record(actor=workshop_staff, device_id=phone.pk)
    items = ChecklistItem.objects.filter(category_id="smartphone")
    bench.test_results_record(
        actor=workshop_staff, device_id=phone.pk, outcomes={i.pk: "passed" for i in items}
    )
    bench.assessment_record(actor=workshop_staff, device_id=phone.pk, grade="A")
    assert missing_codes(phone, workshop_staff) == {"locks_unchecked"}
    with pytest.raises(DomainError):
        mark_ready(workshop_staff, phone)
    outcomes = {"activation_lock": "cleared", "frp": "not_applicable", "mdm": "cleared"}
    bench.lock_checks_record(actor=workshop_staff, device_id=phone.pk, outcomes=outcomes)
    assert missing_codes(phone, workshop_staff) == {"locks_unchecked"}  # the GSMA list
    bench.lock_checks_record(
        actor=workshop_staff, device_id=phone.pk, outcomes={"stolen_list": "cleared"}
    )
    assert mark_ready(workshop_staff, phone).changed


def test_a_laptop_whose_only_disk_was_destroyed_is_not_ready(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    (ssd,) = laptop.media.all()
    erase(workshop_staff, ssd, method="shred", level="destruct", verification="full")
    assert missing_codes(laptop, workshop_staff) == {"working_medium_missing"}
    with pytest.raises(DomainError) as excinfo:
        mark_ready(workshop_staff, laptop)
    assert excinfo.value.code == "working_medium_missing"
    assert reload(laptop).status == Status.IN_RECONDITIONING
    # A factory-new disk fitted at the workshop held no one's data: it needs no erasure.
    new = bench.medium_add(
        actor=workshop_staff, device_id=laptop.pk, kind="ssd", interface="sata", is_new=True
    )
    assert new.is_new
    assert missing_codes(laptop, workshop_staff) == set()
    assert mark_ready(workshop_staff, laptop).changed


def test_a_used_disk_fitted_as_a_replacement_needs_its_erasure(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    (ssd,) = laptop.media.all()
    erase(workshop_staff, ssd, method="shred", level="destruct", verification="full")
    used = bench.medium_add(actor=workshop_staff, device_id=laptop.pk, kind="hdd", interface="sata")
    assert missing_codes(laptop, workshop_staff) == {"erasure_missing"}
    erase(workshop_staff, used, method="overwrite", level="clear")
    assert mark_ready(workshop_staff, laptop).changed


def test_a_removed_disk_leaves_a_laptop_without_a_working_medium(workshop_staff, laptop):
    record_reconditioning(actor=workshop_staff, device=laptop)
    laptop.media.update(state=MediumState.REMOVED)
    assert missing_codes(laptop, workshop_staff) == {"working_medium_missing"}


def test_a_category_calls_only_for_lock_kinds_that_exist(db):
    category = Category.objects.get(code="laptop")
    category.required_locks = "mdm, icloud"
    with pytest.raises(ValidationError):
        category.clean()
    category.required_locks = " mdm,firmware_password,mdm "
    category.clean()
    assert category.required_locks == "mdm,firmware_password"
