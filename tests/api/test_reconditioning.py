"""Bench records on the API: each write does what the bench page does, answers in the API's
shapes, refuses in its error shape, keeps other organisations' devices out of reach and writes
its history with the API user."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import (
    Device,
    ErasureRecord,
    IdempotencyRecord,
    LockCheck,
    LockKind,
    Reconditioning,
    Repair,
    Role,
    StorageMedium,
)
from inventory.models import TestItem as ChecklistItem
from inventory.models import TestResult as ChecklistResult
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import (
    make_device,
    make_user,
    record_reconditioning,
    reload,
    session_client,
    token_client,
    valid_imei,
    walk,
)

BENCH_MODELS = (Reconditioning, LockCheck, StorageMedium, ErasureRecord, ChecklistResult, Repair)
PDF_REPORT = b"%PDF-1.4 Blancco Drive Eraser report, S/N S3Z9NB0K\n%%EOF"


def url(device, section: str) -> str:
    return f"/api/devices/{device.pk}/{section}/"


def erasure_url(medium_id: int) -> str:
    return f"/api/media/{medium_id}/erasures/"


def erasure_body(**overrides) -> dict:
    now = timezone.now()
    body = {
        "level": "purge",
        "method": "nvme_sanitize",
        "verification": "full",
        "result": "passed",
        "started_at": (now - timedelta(minutes=30)).isoformat(),
        "ended_at": now.isoformat(),
        "tool": "Blancco Drive Eraser",
        "tool_version": "7.9",
    }
    return body | overrides


def bench_rows() -> tuple:
    return tuple(model.objects.count() for model in BENCH_MODELS)


def record_of(client, device) -> dict:
    response = client.get(url(device, "reconditioning"))
    assert response.status_code == 200, response.content
    return response.json()


def missing_codes(client, device) -> list[str]:
    return [problem["code"] for problem in record_of(client, device)["missing"]]


def add_medium(client, device, **fields) -> dict:
    body = {"kind": "ssd", "interface": "nvme", "capacity_gb": 256} | fields
    response = client.post(url(device, "media"), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def checklist_ids(device) -> list[int]:
    items = ChecklistItem.objects.filter(category_id=device.category_id, is_active=True)
    return list(items.values_list("pk", flat=True))


@pytest.fixture
def bench(workshop_staff):
    return token_client(workshop_staff)


@pytest.fixture
def workshop_reader(workshop_org):
    return make_user(organisation=workshop_org, role=Role.READER, username="reader")


@pytest.fixture
def reports(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def loaned(coordinator, workshop_staff, workshop_org, structure_org, device):
    """A device reconditioned at ECODAIR, then lent to a structure."""
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    walk(
        actor=coordinator,
        device=device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
        recorder=workshop_staff,
    )
    device_transition(
        actor=coordinator, device_id=device.pk, action="lend", target=structure_org, workflow=True
    )
    return reload(device)


# Reading the record


def test_a_device_not_yet_started_has_no_cycle_and_every_lock_unchecked(bench, at_workshop):
    record = record_of(bench, at_workshop)
    assert record["device_id"] == at_workshop.pk
    assert record["status"] == Status.AT_WORKSHOP
    assert record["recordable"] is True
    assert record["cycle"] is None
    assert [lock["kind"] for lock in record["locks"]] == LockKind.values
    assert {lock["outcome"] for lock in record["locks"]} == {None}
    assert [line["id"] for line in record["checklist"]] == checklist_ids(at_workshop)
    assert {line["outcome"] for line in record["checklist"]} == {None}
    assert record["media"] == [] and record["repairs"] == []
    assert [p["code"] for p in record["missing"]] == [
        "locks_unchecked",
        "tests_incomplete",
        "media_missing",
        "grade_missing",
    ]
    assert all(problem["detail"] for problem in record["missing"])


def test_the_record_shows_every_section_as_recorded(bench, workshop_staff, at_workshop, reports):
    record_reconditioning(actor=workshop_staff, device=at_workshop)
    record = record_of(bench, at_workshop)
    cycle = record["cycle"]
    assert cycle["workshop"]["name"] == "ECODAIR"
    assert (cycle["grade"], cycle["battery_health"], cycle["completed_at"]) == ("B", 87, None)
    assert cycle["in_france"] is True
    lock = record["locks"][0]
    assert (lock["outcome"], lock["checked_by"]) == ("not_applicable", "bench")
    assert lock["organisation"]["name"] == "ECODAIR" and lock["checked_at"]
    (medium,) = record["media"]
    assert (medium["kind"], medium["interface"], medium["capacity_gb"]) == ("ssd", "nvme", 256)
    assert (medium["state"], medium["erasure_status"]) == ("in_device", "passed")
    (erasure,) = medium["erasures"]
    assert erasure["medium"] == medium["id"]
    assert (erasure["method"], erasure["verification_percent"], erasure["operator"]) == (
        "nvme_sanitize",
        100,
        "bench",
    )
    assert (erasure["report_sha256"], erasure["report_url"]) == ("", None)
    assert {line["outcome"] for line in record["checklist"]} == {"passed"}
    assert record["missing"] == []


def test_the_record_costs_the_same_queries_for_a_short_and_a_long_record(
    bench, workshop_staff, coordinator, workshop_org, at_workshop, reports
):
    # Short: one record of each kind. Long: every lock and test, three media, three repairs.
    bench.post(url(at_workshop, "lock-checks"), {"outcomes": {"mdm": "cleared"}}, format="json")
    medium = add_medium(bench, at_workshop)
    bench.post(erasure_url(medium["id"]), erasure_body(), format="json")
    first_test = {str(checklist_ids(at_workshop)[0]): "passed"}
    bench.post(url(at_workshop, "test-results"), {"outcomes": first_test}, format="json")
    bench.post(url(at_workshop, "repairs"), {"part": "Clavier"}, format="json")
    long = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=long.pk, action="receive_at_workshop", target=workshop_org
    )
    for n in range(3):
        medium = add_medium(bench, long, serial_number=f"DISK-{n}")
        report = SimpleUploadedFile(f"r{n}.pdf", PDF_REPORT, "application/pdf")
        upload = erasure_body() | {"report": report}
        assert bench.post(erasure_url(medium["id"]), upload).status_code == 201
        bench.post(url(long, "repairs"), {"part": f"Part {n}"}, format="json")
    record_reconditioning(actor=workshop_staff, device=long)
    counts = []
    for device in (at_workshop, long):
        with CaptureQueriesContext(connection) as queries:
            record_of(bench, device)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(record_of(bench, long)["media"]) == 3


def test_a_device_lent_to_a_structure_shows_its_last_cycle_and_nothing_missing(
    api, coordinator, loaned
):
    record = record_of(api(coordinator), loaned)
    assert (record["status"], record["recordable"], record["missing"]) == ("on_loan", False, [])
    assert record["cycle"]["grade"] == "B"


# Writing, with the history's user


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_every_write_records_its_rows_and_history_with_the_api_user(
    make_client, workshop_staff, at_workshop, reports
):
    client = make_client(workshop_staff)
    locks = {kind: "not_applicable" for kind in LockKind.values} | {"mdm": "cleared"}
    reply = client.post(url(at_workshop, "lock-checks"), {"outcomes": locks}, format="json")
    assert reply.status_code == 200
    assert {lock["kind"]: lock["outcome"] for lock in reply.json()["locks"]} == locks
    assert reload(at_workshop).status == Status.IN_RECONDITIONING

    medium = add_medium(client, at_workshop, serial_number=" s3z9nb0k ", manufacturer="Samsung")
    assert (medium["serial_number"], medium["erasure_status"], medium["erasures"]) == (
        "S3Z9NB0K",
        "missing",
        [],
    )
    erased = client.post(erasure_url(medium["id"]), erasure_body(), format="json")
    assert erased.status_code == 201
    assert (erased.json()["result"], erased.json()["operator"]) == ("passed", "bench")

    outcomes = {str(pk): "passed" for pk in checklist_ids(at_workshop)}
    tested = client.post(url(at_workshop, "test-results"), {"outcomes": outcomes}, format="json")
    assert tested.status_code == 200
    assert {line["outcome"] for line in tested.json()["checklist"]} == {"passed"}

    repaired = client.post(
        url(at_workshop, "repairs"), {"part": "Clavier", "cost": "24.90", "minutes": 20}, "json"
    )
    assert repaired.status_code == 201
    assert (repaired.json()["cost"], repaired.json()["performed_by"]) == ("24.90", "bench")

    assessed = client.patch(
        url(at_workshop, "assessment"),
        {"grade": "A", "battery_health": 91, "os_installed": "Linux Mint 22"},
        format="json",
    )
    assert assessed.status_code == 200
    cycle = assessed.json()["cycle"]
    assert (cycle["grade"], cycle["battery_health"], cycle["os_installed"]) == (
        "A",
        91,
        "Linux Mint 22",
    )
    assert assessed.json()["missing"] == []

    rows = [row for model in BENCH_MODELS for row in model.history.all()]
    assert len(rows) == len(LockKind.values) + 1 + 1 + len(outcomes) + 1 + 2
    assert {row.history_user for row in rows} == {workshop_staff}
    device_rows = Device.history.filter(id=at_workshop.pk, history_user=workshop_staff)
    assert [row.history_change_reason for row in device_rows] == ["start_reconditioning"]
    ready = client.post(url(at_workshop, "transition"), {"action": "mark_ready"}, format="json")
    assert ready.status_code == 200 and ready.json()["changed"] is True


def test_the_same_lock_answer_again_writes_nothing(bench, at_workshop):
    body = {"outcomes": {"mdm": "cleared"}, "note": "ABM released"}
    assert bench.post(url(at_workshop, "lock-checks"), body, format="json").status_code == 200
    again = bench.post(url(at_workshop, "lock-checks"), body, format="json")
    assert again.status_code == 200
    mdm = next(lock for lock in again.json()["locks"] if lock["kind"] == "mdm")
    assert mdm["note"] == "ABM released"
    assert LockCheck.history.count() == 1


def test_a_phone_is_erased_by_a_factory_reset_in_one_call(
    bench, coordinator, workshop_org, workshop_staff
):
    phone = make_device(
        actor=coordinator, category="smartphone", manufacturer="Samsung", imei1=valid_imei(3)
    )
    device_transition(
        actor=coordinator, device_id=phone.pk, action="receive_at_workshop", target=workshop_org
    )
    response = bench.post(url(phone, "factory-reset"))
    assert response.status_code == 201
    erasure = response.json()
    assert (erasure["method"], erasure["level"], erasure["verification"]) == (
        "factory_reset",
        "purge",
        "full",
    )
    (medium,) = record_of(bench, phone)["media"]
    assert (medium["id"], medium["interface"], medium["erasure_status"]) == (
        erasure["medium"],
        "embedded",
        "passed",
    )
    assert ErasureRecord.history.get().history_user == workshop_staff


def test_an_erasure_report_is_uploaded_hashed_and_downloadable(
    bench, workshop_reader, at_workshop, reports
):
    medium = add_medium(bench, at_workshop)
    report = SimpleUploadedFile("blancco.pdf", PDF_REPORT, "application/pdf")
    response = bench.post(erasure_url(medium["id"]), erasure_body() | {"report": report})
    assert response.status_code == 201, response.content
    erasure = response.json()
    assert erasure["report_sha256"] == hashlib.sha256(PDF_REPORT).hexdigest()
    assert erasure["report_url"].startswith("http://testserver/api/erasures/")
    download = token_client(workshop_reader).get(erasure["report_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF_REPORT
    listed = record_of(bench, at_workshop)["media"][0]["erasures"][0]
    assert listed["report_url"] == erasure["report_url"]


def test_an_erasure_without_report_has_nothing_to_download(bench, at_workshop):
    medium = add_medium(bench, at_workshop)
    erasure = bench.post(erasure_url(medium["id"]), erasure_body(), format="json").json()
    response = bench.get(f"/api/erasures/{erasure['id']}/report/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# Invalid input: 400 naming the field, nothing written


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"outcomes": {"bios_lock": "cleared"}}, {"outcomes": {"bios_lock": ["Unknown lock."]}}),
        ({"outcomes": {"mdm": "maybe"}}, {"outcomes": {"mdm": None}}),
        ({"outcomes": {}}, {"outcomes": None}),
        ({"outcomes": ["mdm"]}, {"outcomes": None}),
        ({"outcomes": {"mdm": "cleared"}, "note": 3}, {"note": None}),
        ({}, {"outcomes": None}),
    ],
)
def test_a_bad_lock_check_names_its_field_and_writes_nothing(bench, at_workshop, body, fields):
    response = bench.post(url(at_workshop, "lock-checks"), body, format="json")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert set(error["fields"]) == set(fields)
    for name, expected in fields.items():
        if isinstance(expected, dict):
            assert set(error["fields"][name]) == set(expected)
    assert bench_rows() == (0,) * len(BENCH_MODELS)
    assert reload(at_workshop).status == Status.AT_WORKSHOP


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ended_at": (timezone.now() - timedelta(hours=2)).isoformat()}, "ended_at"),
        ({"verification": "none", "result": "passed"}, "result"),
        ({"verification": "sample"}, "verification_percent"),
        ({"method": "shred"}, "method"),
        ({"level": "wipe"}, "level"),
        ({"verification_percent": "50", "verification": "sample"}, "verification_percent"),
        ({"started_at": "yesterday"}, "started_at"),
    ],
)
def test_a_bad_erasure_names_its_field_and_writes_nothing(bench, at_workshop, overrides, field):
    medium = add_medium(bench, at_workshop)
    response = bench.post(erasure_url(medium["id"]), erasure_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not ErasureRecord.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("rapport.pdf", b"MZ\x90\x00 an executable, not a PDF"),
        ("rapport.docx", PDF_REPORT),
        ("rapport.xml", b"%PDF-1.4 not XML"),
    ],
)
def test_a_report_that_is_not_a_pdf_or_xml_is_refused(bench, at_workshop, reports, name, content):
    medium = add_medium(bench, at_workshop)
    upload = SimpleUploadedFile(name, content, "application/pdf")
    response = bench.post(erasure_url(medium["id"]), erasure_body() | {"report": upload})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"report"}
    assert not ErasureRecord.objects.exists()
    assert not any(reports.rglob("*.*"))


def test_a_multipart_erasure_reads_its_numbers_from_text(bench, at_workshop, reports):
    medium = add_medium(bench, at_workshop)
    form = erasure_body(verification="sample", verification_percent="10", result="failed")
    response = bench.post(erasure_url(medium["id"]), form)
    assert response.status_code == 201, response.content
    assert response.json()["verification_percent"] == 10


def test_an_upload_above_the_limit_answers_413_before_it_is_read(
    bench, at_workshop, reports, monkeypatch
):
    monkeypatch.setattr("api.views.reconditioning.UPLOAD_MAX_BYTES", 4096)
    medium = add_medium(bench, at_workshop)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4 " + b"0" * 8192, "application/pdf")
    response = bench.post(erasure_url(medium["id"]), erasure_body() | {"report": big})
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not ErasureRecord.objects.exists()


def test_test_results_name_the_items_as_sent(bench, at_workshop):
    phone_item = ChecklistItem.objects.filter(category_id="smartphone").first()
    laptop_item = checklist_ids(at_workshop)[0]
    cases = [
        ({str(phone_item.pk): "passed"}, {str(phone_item.pk)}),
        ({str(laptop_item): "works"}, {str(laptop_item)}),
        ({"no-such-test": "passed"}, {"no-such-test"}),
        ({"touchscreen": "passed"}, {"touchscreen"}),  # a phone's test, not a laptop's
        ({"a b": "passed"}, {"a b"}),
    ]
    for outcomes, named in cases:
        response = bench.post(url(at_workshop, "test-results"), {"outcomes": outcomes}, "json")
        assert response.status_code == 400, response.content
        assert set(response.json()["fields"]) == {"outcomes"}
        assert set(response.json()["fields"]["outcomes"]) == named
    assert bench_rows() == (0,) * len(BENCH_MODELS)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grade": "E"}, "grade"),
        ({"battery_health": 101}, "battery_health"),
        ({"battery_health": "90"}, "battery_health"),
        ({"os_installed": "x" * 121}, "os_installed"),
        ({}, "non_field_errors"),
    ],
)
def test_a_bad_assessment_names_its_field(bench, at_workshop, body, field):
    response = bench.patch(url(at_workshop, "assessment"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert bench_rows() == (0,) * len(BENCH_MODELS)


def test_an_assessment_changes_only_the_fields_given(bench, at_workshop):
    bench.patch(url(at_workshop, "assessment"), {"grade": "C", "battery_health": 70}, "json")
    reply = bench.patch(url(at_workshop, "assessment"), {"os_installed": "Windows 11"}, "json")
    cycle = reply.json()["cycle"]
    assert (cycle["grade"], cycle["battery_health"], cycle["os_installed"]) == (
        "C",
        70,
        "Windows 11",
    )
    cleared = bench.patch(url(at_workshop, "assessment"), {"grade": ""}, format="json")
    assert cleared.json()["cycle"]["grade"] == ""
    assert "grade_missing" in [problem["code"] for problem in cleared.json()["missing"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"part": ""}, "part"),
        ({"part": "   "}, "part"),
        ({"part": "Battery", "cost": 12.5}, "cost"),
        ({"part": "Battery", "cost": "-1"}, "cost"),
        ({"part": "Battery", "cost": "12.505"}, "cost"),
        ({"part": "Battery", "minutes": -5}, "minutes"),
    ],
)
def test_a_bad_repair_names_its_field(bench, at_workshop, body, field):
    response = bench.post(url(at_workshop, "repairs"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert not Repair.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "tape", "interface": "sata"}, "kind"),
        ({"kind": "ssd", "interface": "scsi"}, "interface"),
        ({"kind": "ssd", "interface": "sata", "capacity_gb": 0}, "capacity_gb"),
        ({"kind": "ssd", "interface": "sata", "hidden_areas": "maybe"}, "hidden_areas"),
    ],
)
def test_a_bad_medium_names_its_field(bench, at_workshop, body, field):
    response = bench.post(url(at_workshop, "media"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}
    assert not StorageMedium.objects.exists()


# Refusals of the services: their codes and statuses


def test_a_second_medium_with_the_same_serial_answers_409_duplicate(bench, at_workshop):
    add_medium(bench, at_workshop, serial_number="S3Z9")
    body = {"kind": "ssd", "interface": "sata", "serial_number": "s3z9"}
    response = bench.post(url(at_workshop, "media"), body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate"
    assert set(response.json()["fields"]) == {"serial_number"}
    assert StorageMedium.objects.count() == 1


def test_after_a_failed_erasure_only_destruction_is_accepted(bench, at_workshop):
    medium = add_medium(bench, at_workshop)
    failed = erasure_body(result="failed")
    assert bench.post(erasure_url(medium["id"]), failed, format="json").status_code == 201
    again = bench.post(erasure_url(medium["id"]), erasure_body(), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "destruction_required")
    shred = erasure_body(level="destruct", method="shred", verification="none")
    assert bench.post(erasure_url(medium["id"]), shred, format="json").status_code == 201
    after = bench.post(erasure_url(medium["id"]), shred, format="json")
    assert (after.status_code, after.json()["code"]) == (409, "medium_not_in_device")
    assert record_of(bench, at_workshop)["media"][0]["state"] == "destroyed"


def test_a_device_no_longer_at_the_bench_refuses_records(bench, workshop_staff, at_workshop):
    walk(actor=workshop_staff, device=at_workshop, actions=("start_reconditioning", "mark_ready"))
    response = bench.post(url(at_workshop, "repairs"), {"part": "Clavier"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_at_bench")
    assert record_of(bench, at_workshop)["recordable"] is False


def test_missing_names_each_guard_of_ready_by_its_code(bench, at_workshop):
    assert missing_codes(bench, at_workshop) == [
        "locks_unchecked",
        "tests_incomplete",
        "media_missing",
        "grade_missing",
    ]
    blocked = {"outcomes": {"activation_lock": "blocked"}}
    bench.post(url(at_workshop, "lock-checks"), blocked, format="json")
    assert missing_codes(bench, at_workshop)[0] == "lock_blocked"
    cleared = {"outcomes": {"activation_lock": "cleared"}}
    bench.post(url(at_workshop, "lock-checks"), cleared, format="json")

    medium = add_medium(bench, at_workshop)
    assert "erasure_missing" in missing_codes(bench, at_workshop)
    failed = erasure_body(result="failed")
    bench.post(erasure_url(medium["id"]), failed, format="json")
    assert "destruction_required" in missing_codes(bench, at_workshop)
    shred = erasure_body(level="destruct", method="shred", verification="none")
    bench.post(erasure_url(medium["id"]), shred, format="json")

    items = checklist_ids(at_workshop)
    outcomes = {str(pk): "passed" for pk in items} | {str(items[0]): "failed"}
    bench.post(url(at_workshop, "test-results"), {"outcomes": outcomes}, format="json")
    bench.patch(url(at_workshop, "assessment"), {"grade": "D"}, format="json")
    # The only disk was shredded: nothing is left to run on, and two locks are unanswered.
    assert missing_codes(bench, at_workshop) == [
        "locks_unchecked",
        "tests_failed",
        "working_medium_missing",
        "grade_not_reusable",
    ]

    fixed = {"outcomes": {str(items[0]): "passed"}}
    bench.post(url(at_workshop, "test-results"), fixed, format="json")
    bench.patch(url(at_workshop, "assessment"), {"grade": "B"}, format="json")
    # A destroyed medium needs no erasure, but the laptop needs a working one to run on.
    assert missing_codes(bench, at_workshop) == ["locks_unchecked", "working_medium_missing"]
    locks = {"outcomes": {"firmware_password": "cleared", "mdm": "not_applicable"}}
    bench.post(url(at_workshop, "lock-checks"), locks, format="json")
    new_disk = {"kind": "ssd", "interface": "sata", "is_new": True}
    assert bench.post(url(at_workshop, "media"), new_disk, format="json").status_code == 201
    assert missing_codes(bench, at_workshop) == []


# Scope: other organisations, funds, structures and readers


WRITES = [
    ("post", "lock-checks", {"outcomes": {"mdm": "cleared"}}),
    ("post", "media", {"kind": "ssd", "interface": "nvme"}),
    ("post", "factory-reset", None),
    ("post", "test-results", None),
    ("post", "repairs", {"part": "Clavier"}),
    ("patch", "assessment", {"grade": "B"}),
]


def write(client, device, method: str, section: str, body) -> tuple[int, str]:
    if section == "test-results":
        body = {"outcomes": {str(checklist_ids(device)[0]): "passed"}}
    response = getattr(client, method)(url(device, section), body, format="json")
    assert response.status_code < 500
    return response.status_code, response.json()["code"] if response.status_code >= 400 else ""


@pytest.mark.parametrize("persona", ["other_workshop", "fund", "structure"])
def test_a_device_outside_the_scope_answers_404_to_every_bench_call(
    persona, request, bench, workshop_staff, fund_reader, structure_staff, at_workshop
):
    user = {
        "other_workshop": make_user(organisation=request.getfixturevalue("other_workshop_org")),
        "fund": fund_reader,
        "structure": structure_staff,
    }[persona]
    medium = add_medium(bench, at_workshop)
    erasure = bench.post(erasure_url(medium["id"]), erasure_body(), format="json").json()
    client = token_client(user)
    before = (bench_rows(), reload(at_workshop).status, Device.history.count())
    assert client.get(url(at_workshop, "reconditioning")).status_code == 404
    for method, section, body in WRITES:
        assert write(client, at_workshop, method, section, body) == (404, "not_found"), section
    response = client.post(erasure_url(medium["id"]), erasure_body(), format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert client.get(f"/api/erasures/{erasure['id']}/report/").status_code == 404
    assert (bench_rows(), reload(at_workshop).status, Device.history.count()) == before


def test_a_reader_sees_the_record_and_may_write_nothing(bench, workshop_reader, at_workshop):
    medium = add_medium(bench, at_workshop)
    client = token_client(workshop_reader)
    before = (bench_rows(), reload(at_workshop).status, Device.history.count())
    assert record_of(client, at_workshop)["media"][0]["id"] == medium["id"]
    for method, section, body in WRITES:
        assert write(client, at_workshop, method, section, body) == (403, "action_forbidden")
    response = client.post(erasure_url(medium["id"]), erasure_body(), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert (bench_rows(), reload(at_workshop).status, Device.history.count()) == before


def test_a_structure_holding_the_device_has_no_bench(structure_staff, loaned):
    client = token_client(structure_staff)
    before = (bench_rows(), Device.history.count())
    response = client.get(url(loaned, "reconditioning"))
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    for method, section, body in WRITES:
        assert write(client, loaned, method, section, body) == (403, "action_forbidden")
    assert (bench_rows(), Device.history.count()) == before


def test_the_coordination_records_at_intake(api, coordinator, device):
    client = api(coordinator)
    medium = add_medium(client, device)
    assert client.post(erasure_url(medium["id"]), erasure_body(), format="json").status_code == 201
    cycle = record_of(client, device)["cycle"]
    assert cycle["workshop"] is None
    assert reload(device).status == Status.REGISTERED


def test_an_unknown_medium_or_device_answers_404(bench):
    assert bench.post(erasure_url(999999), erasure_body(), format="json").status_code == 404
    assert bench.get("/api/devices/999999/reconditioning/").status_code == 404
    assert bench.post("/api/devices/999999/repairs/", {"part": "x"}, "json").status_code == 404


# Idempotency-Key


@pytest.mark.parametrize(
    ("section", "body", "other", "model"),
    [
        (
            "media",
            {"kind": "hdd", "interface": "sata"},
            {"kind": "ssd", "interface": "sata"},
            StorageMedium,
        ),
        ("repairs", {"part": "Clavier"}, {"part": "Écran"}, Repair),
    ],
)
def test_a_replayed_key_creates_one_row_and_another_body_answers_422(
    bench, at_workshop, section, body, other, model
):
    key = {"Idempotency-Key": f"{section}-1"}
    first = bench.post(url(at_workshop, section), body, format="json", headers=key)
    again = bench.post(url(at_workshop, section), body, format="json", headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert model.objects.count() == model.history.count() == 1
    refused = bench.post(url(at_workshop, section), other, format="json", headers=key)
    assert (refused.status_code, refused.json()["code"]) == (422, "idempotency_key_reused")
    assert model.objects.count() == 1


def test_a_replayed_erasure_records_once(bench, at_workshop):
    medium = add_medium(bench, at_workshop)
    body, key = erasure_body(), {"Idempotency-Key": "erase-1"}
    replies = [
        bench.post(erasure_url(medium["id"]), body, format="json", headers=key) for _ in range(3)
    ]
    assert {reply.status_code for reply in replies} == {201}
    assert replies[2].json() == replies[0].json()
    assert ErasureRecord.objects.count() == 1


def test_a_replayed_upload_counts_its_report_by_content(bench, at_workshop, reports):
    medium = add_medium(bench, at_workshop)
    form, key = erasure_body(), {"Idempotency-Key": "upload-1"}

    def send(content: bytes):
        report = SimpleUploadedFile("blancco.pdf", content, "application/pdf")
        return bench.post(erasure_url(medium["id"]), form | {"report": report}, headers=key)

    first, again = send(PDF_REPORT), send(PDF_REPORT)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    other = send(PDF_REPORT + b"\n% another run")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert ErasureRecord.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_a_replayed_factory_reset_records_once(bench, coordinator, workshop_org):
    phone = make_device(actor=coordinator, category="tablet", manufacturer="Apple")
    device_transition(
        actor=coordinator, device_id=phone.pk, action="receive_at_workshop", target=workshop_org
    )
    key = {"Idempotency-Key": "reset-1"}
    replies = [bench.post(url(phone, "factory-reset"), headers=key) for _ in range(2)]
    assert [reply.status_code for reply in replies] == [201, 201]
    assert replies[1].json() == replies[0].json()
    assert ErasureRecord.objects.count() == StorageMedium.objects.count() == 1


def test_test_results_accept_the_items_code_as_well_as_its_id(bench, at_workshop):
    items = list(ChecklistItem.objects.filter(category_id="laptop", is_active=True))
    keyboard = next(item for item in items if item.code == "keyboard")
    outcomes = {"keyboard": "failed", str(items[0].pk): "passed"}
    response = bench.post(url(at_workshop, "test-results"), {"outcomes": outcomes}, "json")
    assert response.status_code == 200, response.content
    lines = {line["code"]: line["outcome"] for line in response.json()["checklist"]}
    assert lines["keyboard"] == "failed"
    assert lines[items[0].code] == "passed"
    assert ChecklistResult.objects.get(item=keyboard).outcome == "failed"


def test_an_item_named_twice_with_two_outcomes_is_refused(bench, at_workshop):
    keyboard = ChecklistItem.objects.get(category_id="laptop", code="keyboard")
    outcomes = {"keyboard": "failed", str(keyboard.pk): "passed"}
    response = bench.post(url(at_workshop, "test-results"), {"outcomes": outcomes}, "json")
    assert response.status_code == 400
    assert set(response.json()["fields"]["outcomes"]) == {str(keyboard.pk)}
    assert bench_rows() == (0,) * len(BENCH_MODELS)


def test_a_factory_reset_keeps_the_tool_it_is_sent(bench, coordinator, workshop_org):
    phone = make_device(
        actor=coordinator, category="smartphone", manufacturer="Apple", imei1=valid_imei(11)
    )
    device_transition(
        actor=coordinator, device_id=phone.pk, action="receive_at_workshop", target=workshop_org
    )
    body = {"tool": "Réglages > Réinitialiser", "tool_version": "iOS 17.5"}
    response = bench.post(url(phone, "factory-reset"), body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["tool"], response.json()["tool_version"]) == (
        "Réglages > Réinitialiser",
        "iOS 17.5",
    )
    erasure = ErasureRecord.objects.get(pk=response.json()["id"])
    assert (erasure.tool, erasure.tool_version) == ("Réglages > Réinitialiser", "iOS 17.5")
    too_long = bench.post(url(phone, "factory-reset"), {"tool": "x" * 81}, format="json")
    assert too_long.status_code == 400
    assert set(too_long.json()["fields"]) == {"tool"}


def test_a_new_medium_is_recorded_as_such_and_needs_no_erasure(bench, at_workshop):
    body = {"kind": "ssd", "interface": "sata", "is_new": True}
    response = bench.post(url(at_workshop, "media"), body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["is_new"], response.json()["erasure_status"]) == (True, "new")
    assert "media_missing" not in missing_codes(bench, at_workshop)
    assert "erasure_missing" not in missing_codes(bench, at_workshop)
    (medium,) = record_of(bench, at_workshop)["media"]
    assert (medium["is_new"], medium["erasure_status"]) == (True, "new")
