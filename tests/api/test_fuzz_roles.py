"""R10: every operation of the OpenAPI schema, called by a fund reader and by a workshop that
does not hold the device: no 5xx, never another organisation's device, denied writes change
nothing.

The operations come from GET /api/schema/, so a new endpoint fails this test until it has a
row in OPERATIONS with the statuses each persona should get.
"""

import base64
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.codes import group_label_code
from inventory.intake.services import donation_create
from inventory.models import (
    Device,
    ErasureRecord,
    LabelCode,
    LockCheck,
    Organisation,
    Reconditioning,
    Repair,
    StorageMedium,
)
from inventory.models import TestResult as ChecklistResult
from inventory.reconditioning import services as reconditioning
from inventory.services import device_transition
from inventory.states import OrgKind
from logistics.allocations import services as allocation_services
from logistics.deliveries.services import delivery_create
from logistics.disposals.services import disposal_create
from logistics.fund_reports.figures import Period
from logistics.fund_reports.figures import Scope as FundScope
from logistics.fund_reports.services import report_issue
from logistics.funding.services import programme_create
from logistics.handovers.services import hand_over_create
from logistics.loans.services import device_report_create
from logistics.models import (
    Allocation,
    DeviceReport,
    DisposalBatch,
    FundingProgramme,
    FundReport,
    HandOver,
    Loan,
    LoanExtension,
    MatchingRun,
    Need,
    Shipment,
)
from logistics.shipments.services import shipment_create
from tests.builders import (
    PNG_1PX,
    accepted_need,
    allocated,
    make_device,
    make_need,
    make_organisation,
    make_user,
    need_fields,
    reconditioned,
    reload,
)

# Every operation of the schema, twice: over a second, so out of the fast loop.
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Call:
    params: dict | None = None
    body: dict | None = None
    workshop: int = 404  # status for a workshop user who does not hold the device
    fund: int = 404  # status for a fund reader
    # Whose id fills {id}: device, medium or erasure (of that device); or donation, shipment,
    # disposal, workshop (the other workshop's, or the coordination's), need (a structure's),
    # structure (the need's), member (a person of that structure); or delivery, hand_over,
    # loan, report (another structure's, its devices from the other workshop); or programme,
    # fund_report (another funder's programme and its issued report).
    obj: str = "device"


def operations(device: Device, persona: str, others: "Others") -> dict[tuple[str, str], Call]:
    code = device.label_code_id
    weee = {
        "eco_organisation": "ecosystem",
        "left_on": "2025-03-14",
        "weight_kg": "12.50",
        "document_reference": f"BSD-{persona}",
    }
    return {
        ("get", "/api/devices/"): Call(workshop=200, fund=200),
        ("post", "/api/devices/"): Call(
            body={"category": "laptop", "manufacturer": "HP", "custodian": device.custodian_id},
            workshop=201,  # registered into the workshop's own custody, whatever it asked
            fund=403,
        ),
        ("get", "/api/devices/{id}/"): Call(),
        ("get", "/api/devices/{id}/history/"): Call(),
        ("post", "/api/devices/{id}/transition/"): Call(body={"action": "start_reconditioning"}),
        ("get", "/api/devices/{id}/label/"): Call(params={"format": "avery-l7160"}),
        ("get", "/api/devices/by-code/{code}/"): Call(),
        ("get", "/api/organisations/"): Call(workshop=200, fund=200),
        ("post", "/api/scan/"): Call(body={"raw": code}, workshop=200, fund=200),
        ("post", "/api/scan/batch/"): Call(
            body={
                "action": "start_reconditioning",
                "scans": [{"client_id": f"{persona}-1", "raw": code}],
            },
            workshop=200,
            fund=403,  # a fund reader makes no move: the batch is refused before any scan
        ),
        ("post", "/api/labels/"): Call(body={"codes": [code], "format": "avery-l7160"}),
        ("post", "/api/labels/preprint/"): Call(
            body={"format": "avery-l7160", "count": 1}, workshop=200, fund=403
        ),
        ("get", "/api/devices/{id}/reconditioning/"): Call(),
        ("post", "/api/devices/{id}/lock-checks/"): Call(body={"outcomes": {"mdm": "cleared"}}),
        ("post", "/api/devices/{id}/media/"): Call(body={"kind": "ssd", "interface": "nvme"}),
        ("post", "/api/devices/{id}/factory-reset/"): Call(),
        ("post", "/api/devices/{id}/test-results/"): Call(body={"outcomes": {"1": "passed"}}),
        ("post", "/api/devices/{id}/repairs/"): Call(body={"part": "Clavier"}),
        ("patch", "/api/devices/{id}/assessment/"): Call(body={"grade": "B"}),
        ("post", "/api/media/{id}/erasures/"): Call(body=ERASURE, obj="medium"),
        ("get", "/api/erasures/{id}/report/"): Call(obj="erasure"),
        # Intake: the coordination's, and a workshop's for the donations it collects itself
        # (the coordination's donation stays out of its sight); a donor's people read their own.
        ("get", "/api/donations/"): Call(workshop=200, fund=403),
        ("post", "/api/donations/"): Call(
            body={"donor": others.donation.donor_id, "received_on": "2026-03-02"},
            workshop=201,
            fund=403,
        ),
        ("get", "/api/donations/{id}/"): Call(obj="donation"),
        ("patch", "/api/donations/{id}/"): Call(body={"notes": "x"}, obj="donation"),
        ("get", "/api/donations/{id}/devices/"): Call(obj="donation"),
        ("post", "/api/donations/{id}/import/"): Call(obj="donation"),
        ("post", "/api/donors/"): Call(body={"name": f"Donor {persona}"}, workshop=201, fund=403),
        # Logistics: the coordination and the workshops, each workshop its own share.
        ("get", "/api/shipments/"): Call(workshop=200, fund=403),
        ("post", "/api/shipments/"): Call(
            body={"workshop": device.custodian_id, "devices": [device.pk, code]},
            workshop=403,
            fund=403,
        ),
        ("get", "/api/shipments/{id}/"): Call(obj="shipment", fund=403),
        ("post", "/api/shipments/{id}/receive/"): Call(
            body={"raw": others.shipped.label_code_id}, obj="shipment", fund=403
        ),
        ("get", "/api/workshops/{id}/queue/"): Call(obj="workshop", fund=403),
        ("get", "/api/disposals/"): Call(workshop=200, fund=403),
        ("post", "/api/disposals/"): Call(
            body=weee | {"devices": [device.pk, others.disposed.pk]},
            workshop=409,  # neither device is in its scope: both named as not found
            fund=403,
        ),
        ("get", "/api/disposals/{id}/"): Call(obj="disposal", fund=403),
        ("get", "/api/disposals/register.csv"): Call(workshop=200, fund=403),
        # The needs register: the structures' and the coordination's, nobody else's.
        ("get", "/api/needs/"): Call(workshop=403, fund=403),
        ("post", "/api/needs/"): Call(
            body={**need_fields(), "lines": [{"category": "laptop", "quantity": 1}]},
            workshop=403,
            fund=403,
        ),
        ("get", "/api/needs/units/"): Call(workshop=403, fund=403),
        ("get", "/api/needs/{id}/"): Call(obj="need", workshop=403, fund=403),
        ("patch", "/api/needs/{id}/"): Call(
            body={"urgency": "high"}, obj="need", workshop=403, fund=403
        ),
        ("post", "/api/needs/{id}/submit/"): Call(obj="need", workshop=403, fund=403),
        ("post", "/api/needs/{id}/accept/"): Call(obj="need", workshop=403, fund=403),
        ("post", "/api/needs/{id}/decline/"): Call(
            body={"reason": "Non."}, obj="need", workshop=403, fund=403
        ),
        ("post", "/api/needs/{id}/cancel/"): Call(obj="need", workshop=403, fund=403),
        # Structures and their people: the coordination's alone.
        ("get", "/api/structures/"): Call(workshop=403, fund=403),
        ("post", "/api/structures/"): Call(
            body={"name": f"Structure {persona}", "structure_type": "CS", "commune": "92002"},
            workshop=403,
            fund=403,
        ),
        ("post", "/api/structures/import/"): Call(workshop=403, fund=403),
        ("get", "/api/structures/{id}/"): Call(obj="structure", workshop=403, fund=403),
        ("patch", "/api/structures/{id}/"): Call(
            body={"address": "x"}, obj="structure", workshop=403, fund=403
        ),
        ("post", "/api/structures/{id}/deactivate/"): Call(obj="structure", workshop=403, fund=403),
        ("post", "/api/structures/{id}/activate/"): Call(obj="structure", workshop=403, fund=403),
        ("get", "/api/structures/{id}/members/"): Call(obj="structure", workshop=403, fund=403),
        ("post", "/api/structures/{id}/members/"): Call(
            body={"email": f"{persona}@exemple.fr"}, obj="structure", workshop=403, fund=403
        ),
        ("post", "/api/members/{id}/deactivate/"): Call(obj="member", workshop=403, fund=403),
        ("post", "/api/members/{id}/activate/"): Call(obj="member", workshop=403, fund=403),
        ("post", "/api/members/{id}/reinvite/"): Call(obj="member", workshop=403, fund=403),
        # Matching runs and the policy: the coordination's alone. Allocations: a workshop
        # reads those of the devices it holds (none here); another's answers 404.
        ("get", "/api/matching-runs/"): Call(workshop=403, fund=403),
        ("post", "/api/matching-runs/"): Call(body={"category": "laptop"}, workshop=403, fund=403),
        ("get", "/api/matching-runs/{id}/"): Call(obj="run", workshop=403, fund=403),
        ("post", "/api/matching-runs/{id}/approve/"): Call(obj="run", workshop=403, fund=403),
        ("post", "/api/matching-runs/{id}/discard/"): Call(obj="run", workshop=403, fund=403),
        ("post", "/api/matching-runs/{id}/lines/{line_id}/remove/"): Call(
            obj="run", workshop=403, fund=403
        ),
        ("post", "/api/matching-runs/{id}/lines/{line_id}/restore/"): Call(
            obj="run", workshop=403, fund=403
        ),
        ("post", "/api/matching-runs/{id}/lines/{line_id}/swap/"): Call(
            body={"device": device.pk}, obj="run", workshop=403, fund=403
        ),
        ("get", "/api/matching-policy/"): Call(workshop=403, fund=403),
        ("put", "/api/matching-policy/"): Call(
            body=allocation_services.policy_weights().to_dict(), workshop=403, fund=403
        ),
        ("get", "/api/allocations/"): Call(workshop=200, fund=403),
        ("get", "/api/allocations/{id}/"): Call(obj="allocation", fund=403),
        ("post", "/api/allocations/{id}/cancel/"): Call(
            body={"reason": "Non."}, obj="allocation", fund=403
        ),
        # Deliveries, hand-overs and loans: a workshop reads those it takes part in (none
        # here), another's answers 404; the fund and donors read none. Reports: a structure's
        # and the coordination's.
        ("get", "/api/deliveries/"): Call(workshop=200, fund=403),
        ("post", "/api/deliveries/"): Call(body={"allocations": [others.allocation.pk]}, fund=403),
        ("post", "/api/deliveries/build/"): Call(workshop=400, fund=403),  # nothing at its bench
        ("get", "/api/deliveries/{id}/"): Call(obj="delivery", fund=403),
        ("post", "/api/deliveries/{id}/dispatch/"): Call(obj="delivery", fund=403),
        ("post", "/api/deliveries/{id}/receive-at-depot/"): Call(obj="delivery", fund=403),
        ("post", "/api/deliveries/{id}/receive/"): Call(
            body={"code": others.delivered.label_code_id}, obj="delivery", fund=403
        ),
        ("post", "/api/deliveries/{id}/cancel/"): Call(
            body={"reason": "Non."}, obj="delivery", fund=403
        ),
        ("get", "/api/hand-overs/"): Call(workshop=200, fund=403),
        ("post", "/api/hand-overs/"): Call(
            body={"allocations": [others.allocation.pk], "received_by_name": persona},
            fund=403,
        ),
        ("get", "/api/hand-overs/{id}/"): Call(obj="hand_over", fund=403),
        ("get", "/api/hand-overs/{id}/receipt.pdf"): Call(obj="hand_over", fund=403),
        ("post", "/api/hand-overs/{id}/signature/"): Call(
            body={"signer_name": persona, "image": SIGNATURE}, obj="hand_over", fund=403
        ),
        ("get", "/api/loans/"): Call(workshop=200, fund=403),
        ("get", "/api/loans/{id}/"): Call(obj="loan", fund=403),
        ("post", "/api/loans/{id}/extend/"): Call(
            body={"due_on": str(date.today() + timedelta(days=200)), "reason": "Non."},
            obj="loan",
            fund=403,
        ),
        ("post", "/api/loans/{id}/return/"): Call(
            body={"returned": [others.lent.pk]}, obj="loan", fund=403
        ),
        ("get", "/api/device-reports/"): Call(workshop=403, fund=403),
        ("post", "/api/device-reports/"): Call(
            body={"device": others.lent.pk, "kind": "lost"}, workshop=403, fund=403
        ),
        ("post", "/api/device-reports/{id}/close/"): Call(
            body={"note": "Non."}, obj="report", workshop=403, fund=403
        ),
        # The fund's figures, reports and programmes: the coordination's and the funds'. A fund
        # reads the network's and its own programmes' (another funder's answers 404), and
        # neither issues a report nor records a programme.
        ("get", "/api/fund/figures/"): Call(workshop=403, fund=200),
        ("get", "/api/fund/report/"): Call(workshop=403, fund=200),
        ("get", "/api/fund/report.pdf"): Call(workshop=403, fund=200),
        ("get", "/api/fund/report.csv"): Call(workshop=403, fund=200),
        ("get", "/api/fund/report.xlsx"): Call(workshop=403, fund=200),
        ("get", "/api/fund/reports/"): Call(workshop=403, fund=200),
        ("post", "/api/fund/reports/"): Call(
            body={"start": "2026-01-01", "end": "2026-03-01"}, workshop=403, fund=403
        ),
        ("get", "/api/fund/reports/{id}/"): Call(obj="fund_report", workshop=403),
        ("get", "/api/fund/reports/{id}/changes/"): Call(obj="fund_report", workshop=403),
        ("get", "/api/fund/reports/{id}/report.pdf"): Call(obj="fund_report", workshop=403),
        ("get", "/api/fund/reports/{id}/report.csv"): Call(obj="fund_report", workshop=403),
        ("get", "/api/fund/reports/{id}/report.xlsx"): Call(obj="fund_report", workshop=403),
        ("get", "/api/programmes/"): Call(workshop=403, fund=200),
        ("post", "/api/programmes/"): Call(
            body={
                "funder": others.programme.funder_id,
                "name": f"Programme {persona}",
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
            },
            workshop=403,
            fund=403,
        ),
        ("get", "/api/programmes/{id}/"): Call(obj="programme", workshop=403),
        ("patch", "/api/programmes/{id}/"): Call(
            body={"name": "x"}, obj="programme", workshop=403, fund=403
        ),
    }


SIGNATURE = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()


@dataclass(frozen=True)
class Others:
    """Objects of other organisations than the personas': the targets of the rows whose {id}
    is a donation, a shipment, a disposal, a workshop, a need (its structure's) or a person of
    that structure, and the devices they hold."""

    donation: object
    shipment: Shipment
    shipped: Device
    disposal: DisposalBatch
    disposed: Device
    workshop: object
    need: Need
    member: object
    # A proposed matching run over that structure's accepted need, and an allocation of it
    # from an approved one, their devices at the other workshop.
    run: MatchingRun | None = None
    allocation: Allocation | None = None
    # Another structure's delivery being prepared, and its hand-over of two devices lent (one
    # reported broken): their devices come from the other workshop.
    delivery: Shipment | None = None
    delivered: Device | None = None
    hand_over: HandOver | None = None
    loan: Loan | None = None
    lent: Device | None = None
    report: DeviceReport | None = None
    # Another funder's programme and the report issued for it.
    programme: FundingProgramme | None = None
    fund_report: FundReport | None = None


@pytest.fixture
def others(coordinator, donor_org, other_workshop_org, settings, tmp_path) -> Others:
    settings.MEDIA_ROOT = str(tmp_path)  # the hand-over's receipt
    # First, so that its matching run sees its need alone.
    receiving = make_organisation(kind=OrgKind.STRUCTURE)
    receiver = make_user(organisation=receiving)
    kit = allocated(
        coordinator=coordinator,
        structure_actor=receiver,
        workshop=other_workshop_org,
        count=3,
        mode="loan",
    )
    delivery = delivery_create(actor=coordinator, allocation_ids=[kit[0].pk])
    hand_over = hand_over_create(
        actor=coordinator, allocation_ids=[kit[1].pk, kit[2].pk], received_by_name="Awa"
    )
    report, _created = device_report_create(
        actor=receiver, device_id=kit[2].device_id, kind="broken"
    )
    donation = donation_create(actor=coordinator, donor=donor_org, received_on=date(2026, 3, 2))
    shipped = make_device(actor=coordinator, donor=donor_org, donation=donation)
    shipment = shipment_create(actor=coordinator, workshop=other_workshop_org, devices=[shipped.pk])
    disposed = make_device(actor=coordinator)
    device_transition(actor=coordinator, device_id=disposed.pk, action="recycle")
    disposal = disposal_create(
        actor=coordinator,
        eco_organisation="Ecologic",
        left_on=date(2025, 3, 1),
        weight_kg="3.20",
        document_reference="BSD-OTHER",
        devices=[disposed.pk],
    )
    structure = make_organisation(kind=OrgKind.STRUCTURE)
    need = make_need(actor=coordinator, structure=structure.pk, submit=False)
    member = make_user(organisation=structure)
    for _ in range(3):
        reconditioned(coordinator, make_device(actor=coordinator), other_workshop_org)
    accepted_need(structure_actor=make_user(organisation=structure), coordinator=coordinator)
    approved = allocation_services.matching_run_create(actor=coordinator)
    [allocation] = allocation_services.matching_run_approve(
        actor=coordinator, run_id=approved.pk, line_ids=[approved.lines.first().pk]
    )
    run = allocation_services.matching_run_create(actor=coordinator)
    programme = programme_create(
        actor=coordinator,
        funder=make_organisation(kind=OrgKind.FUND),
        name="Inclusion Nord",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    fund_report = report_issue(
        actor=coordinator,
        period=Period(date(2026, 1, 1), date(2026, 3, 1)),
        scope=FundScope(programme=programme),
    )
    return Others(
        donation,
        shipment,
        reload(shipped),
        disposal,
        reload(disposed),
        other_workshop_org,
        need,
        member,
        run=run,
        allocation=allocation,
        delivery=delivery,
        delivered=reload(kit[0].device),
        hand_over=hand_over,
        loan=hand_over.loan,
        lent=reload(kit[1].device),
        report=report,
        programme=programme,
        fund_report=fund_report,
    )


ERASURE = {
    "level": "purge",
    "method": "nvme_sanitize",
    "verification": "full",
    "result": "passed",
    "started_at": "2026-01-05T10:00:00+01:00",
    "ended_at": "2026-01-05T10:40:00+01:00",
}
BENCH_MODELS = (Reconditioning, LockCheck, StorageMedium, ErasureRecord, ChecklistResult, Repair)


def bench_rows() -> tuple:
    return tuple((model.objects.count(), model.history.count()) for model in BENCH_MODELS)


@pytest.fixture
def erased(coordinator, at_other_workshop, settings, tmp_path) -> ErasureRecord:
    """A medium of the other workshop's device, erased with a report: the targets of the rows
    whose {id} is a medium or an erasure."""
    settings.MEDIA_ROOT = tmp_path
    report = SimpleUploadedFile("report.pdf", b"%PDF-1.4 erasure report", "application/pdf")
    medium = reconditioning.medium_add(
        actor=coordinator, device_id=at_other_workshop.pk, kind="ssd", interface="nvme"
    )
    now = timezone.now()
    return reconditioning.erasure_record(
        actor=coordinator,
        medium_id=medium.pk,
        report=report,
        **ERASURE | {"started_at": now - timedelta(minutes=40), "ended_at": now},
    )


def schema_operations(client) -> set[tuple[str, str]]:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return {
        (method, path)
        for path, item in response.json()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def device_state(device: Device) -> tuple:
    device = reload(device)
    return (device.status, device.custodian_id, device.updated_at, device.history.count())


def never_shows(response, device: Device) -> None:
    content = response.content.decode(errors="replace")
    for secret in (device.label_code_id, group_label_code(device.label_code_id)):
        assert secret not in content.upper()
    assert device.serial_number not in content
    if response.get("Content-Type", "").startswith("application/json"):
        assert device.pk not in device_ids(response.json())


def others_state(others: Others) -> tuple:
    donation = others.donation
    donation.refresh_from_db()
    need = Need.objects.get(pk=others.need.pk)
    return (
        (need.status, need.urgency, need.version, Need.objects.count()),
        (
            MatchingRun.objects.get(pk=others.run.pk).status,
            list(others.run.lines.values_list("device_id", "removed")),
            Allocation.objects.get(pk=others.allocation.pk).status,
            (MatchingRun.objects.count(), Allocation.objects.count()),
            allocation_services.policy_weights(),
        ),
        (
            need.structure.is_active,
            need.structure.history.count(),
            Organisation.objects.filter(kind=OrgKind.STRUCTURE).count(),
        ),
        (reload_user(others.member).is_active, get_user_model().objects.count()),
        (
            Shipment.objects.get(pk=others.delivery.pk).stage,
            others.delivery.items.filter(received_at__isnull=False).count(),
            HandOver.objects.get(pk=others.hand_over.pk).signature_kind,
            Loan.objects.filter(pk=others.loan.pk).values_list("version", "due_on").get(),
            DeviceReport.objects.get(pk=others.report.pk).closed_at,
            device_state(others.delivered),
            device_state(others.lent),
            (HandOver.objects.count(), Loan.objects.count(), LoanExtension.objects.count()),
            DeviceReport.objects.count(),
        ),
        (
            FundingProgramme.objects.filter(pk=others.programme.pk)
            .values_list("name", "version")
            .get(),
            others.programme.history.count(),
            FundingProgramme.objects.count(),
            FundReport.objects.count(),
        ),
        donation.notes,
        donation.history.count(),
        donation.devices.count(),
        device_state(others.shipped),
        others.shipment.items.filter(received_at__isnull=False).count(),
        others.disposal.items.count(),
        DisposalBatch.objects.count(),
        Shipment.objects.count(),
    )


def reload_user(user):
    return get_user_model().objects.get(pk=user.pk)


def device_ids(body) -> set:
    """The id of every device object (one with a label_code) and every device_id in a body."""
    found = set()
    if isinstance(body, dict):
        if "label_code" in body and isinstance(body.get("id"), int):
            found.add(body["id"])
        if isinstance(body.get("device_id"), int):
            found.add(body["device_id"])
        for value in body.values():
            found |= device_ids(value)
    elif isinstance(body, list):
        for value in body:
            found |= device_ids(value)
    return found


@pytest.mark.parametrize("persona", ["workshop", "fund"])
def test_every_operation_keeps_another_organisations_device_out_of_sight(
    persona, workshop_staff, fund_reader, at_other_workshop, workshop_org, erased, others
):
    user = {"workshop": workshop_staff, "fund": fund_reader}[persona]
    client = APIClient()
    client.force_login(user)
    table = operations(at_other_workshop, persona, others)
    assert schema_operations(client) == set(table), "add a row for each new API operation"

    before = device_state(at_other_workshop)
    devices, codes = Device.objects.count(), LabelCode.objects.count()
    bench_before = bench_rows()
    ids = {
        "device": at_other_workshop.pk,
        "medium": erased.medium_id,
        "erasure": erased.pk,
        "donation": others.donation.pk,
        "shipment": others.shipment.pk,
        "disposal": others.disposal.pk,
        "workshop": others.workshop.pk,
        "need": others.need.pk,
        "run": others.run.pk,
        "allocation": others.allocation.pk,
        "structure": others.need.structure_id,
        "member": others.member.pk,
        "delivery": others.delivery.pk,
        "hand_over": others.hand_over.pk,
        "loan": others.loan.pk,
        "report": others.report.pk,
        "programme": others.programme.pk,
        "fund_report": others.fund_report.pk,
    }
    others_before = others_state(others)
    seen = {}
    for (method, path), call in table.items():
        url = path.format(
            id=ids[call.obj],
            code=at_other_workshop.label_code_id,
            line_id=others.run.lines.first().pk,
        )
        if method == "get":
            response = client.get(url, call.params or {})
        else:
            response = getattr(client, method)(url, call.body or {}, format="json")
        seen[(method, path)] = response.status_code
        assert response.status_code < 500, (method, path, response.content[:300])
        never_shows(response, at_other_workshop)
        never_shows(response, others.shipped)
        never_shows(response, others.disposed)
        never_shows(response, others.delivered)
        never_shows(response, others.lent)
        if path == "/api/devices/" and method == "get":
            assert at_other_workshop.pk not in device_ids(response.json())
        if path.startswith("/api/scan/"):
            assert response.json().get("device") is None
        assert device_state(at_other_workshop) == before, (method, path)

    expected = {op: getattr(call, persona) for op, call in table.items()}
    assert seen == expected
    assert bench_rows() == bench_before, "a denied bench record wrote rows or history"
    assert others_state(others) == others_before, "a denied write changed another's records"
    if persona == "fund":
        # Every write the fund reader tried was denied: no device, history or code appeared.
        assert (Device.objects.count(), LabelCode.objects.count()) == (devices, codes)
    else:
        assert Device.objects.count() == devices + 1
        assert Device.objects.latest("id").custodian == workshop_org
