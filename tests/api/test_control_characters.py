"""Issue 9: NUL and other control characters in any text of a request are a field error (400
naming the field), never a 500 (PostgreSQL refuses NUL and lone surrogates).

Every operation of the OpenAPI schema is walked: each string of its request body (nested
objects, list items, dict keys and values), each query parameter, the Idempotency-Key header
and the label code in a path. Scanned text is the exception: it is recorded and answered per
scan, with the control characters shown as U+FFFD (inventory.scanning.services).
"""

import base64
import copy
import json
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from inventory.intake.services import donation_create
from inventory.reconditioning import services as reconditioning
from inventory.services import device_transition
from inventory.states import OrgKind
from inventory.text import CONTROL_CHARACTERS
from logistics.allocations import services as allocation_services
from logistics.deliveries.services import delivery_create
from logistics.disposals.services import disposal_create
from logistics.fund_reports.figures import Period
from logistics.fund_reports.figures import Scope as FundScope
from logistics.fund_reports.services import report_issue
from logistics.funding.services import programme_create
from logistics.handovers.services import hand_over_create
from logistics.loans.services import device_report_create
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
    token_client,
    valid_siret,
)

# NUL (PostgreSQL refuses it), ESC (a plain C0 control) and a lone surrogate (psycopg cannot
# encode it): each one sent alone in each place.
HOSTILE = {"nul": "lap\x00top", "esc": "lap\x1btop", "surrogate": "lap\ud800top"}
# Scanned text: answered per scan (found, unknown, invalid…), not refused as a field.
SCANNED = {("/api/scan/", ("raw",)), ("/api/scan/batch/", ("scans", 0, "raw"))}
SCANNED |= {("/api/shipments/{id}/receive/", ("raw",))}
SCANNED |= {("/api/deliveries/{id}/receive/", ("code",))}
ERASURE = {
    "level": "purge",
    "method": "nvme_sanitize",
    "verification": "full",
    "result": "passed",
    "started_at": "2026-01-05T10:00:00+01:00",
    "ended_at": "2026-01-05T10:40:00+01:00",
}
WEEE = {
    "eco_organisation": "ecosystem",
    "left_on": "2025-03-14",
    "weight_kg": "12.50",
    "document_reference": "BSD-1",
}


@pytest.fixture
def world(coordinator, workshop_org, donor_org, fund_org, at_workshop, settings, tmp_path):
    """One object of each kind a path names, in the coordinator's reach; and a valid body for
    each operation, so that without the refusal the hostile text would reach the database."""
    settings.MEDIA_ROOT = str(tmp_path)  # the hand-over's receipt
    code = at_workshop.label_code_id
    # First, so that its matching run sees its need alone: a structure's kit of four laptops
    # lent, one in a delivery being prepared, one left to hand over, two handed over (one
    # reported broken).
    receiving = make_organisation(kind=OrgKind.STRUCTURE)
    receiver = make_user(organisation=receiving)
    kit = allocated(
        coordinator=coordinator,
        structure_actor=receiver,
        workshop=workshop_org,
        count=4,
        mode="loan",
    )
    delivery = delivery_create(actor=coordinator, allocation_ids=[kit[0].pk])
    hand_over = hand_over_create(
        actor=coordinator, allocation_ids=[kit[2].pk, kit[3].pk], received_by_name="Awa"
    )
    report, _created = device_report_create(
        actor=receiver, device_id=kit[3].device_id, kind="broken"
    )
    donation = donation_create(actor=coordinator, donor=donor_org, received_on=date(2026, 3, 2))
    medium = reconditioning.medium_add(
        actor=coordinator, device_id=at_workshop.pk, kind="ssd", interface="nvme"
    )
    now = timezone.now()
    erasure = reconditioning.erasure_record(
        actor=coordinator,
        medium_id=medium.pk,
        **ERASURE | {"started_at": now - timedelta(minutes=40), "ended_at": now},
    )
    waiting = make_device(actor=coordinator)
    shipment = shipment_create(actor=coordinator, workshop=workshop_org, devices=[waiting.pk])
    recycled = make_device(actor=coordinator)
    device_transition(actor=coordinator, device_id=recycled.pk, action="recycle")
    disposed = make_device(actor=coordinator)
    device_transition(actor=coordinator, device_id=disposed.pk, action="recycle")
    disposal = disposal_create(
        actor=coordinator,
        eco_organisation="Ecologic",
        left_on=date(2025, 3, 1),
        weight_kg="3.20",
        document_reference="BSD-0",
        devices=[disposed.pk],
    )
    structure = make_organisation(kind=OrgKind.STRUCTURE)
    need = make_need(actor=coordinator, structure=structure.pk)
    line = need.lines.get()
    member = make_user(organisation=structure)
    # A proposed matching run over an accepted need, a ready device it does not propose (for a
    # swap), and an allocation from an approved run.
    ready = [make_device(actor=coordinator) for _ in range(3)]
    for device in ready:
        reconditioned(coordinator, device, workshop_org)
    matched = make_organisation(kind=OrgKind.STRUCTURE)
    accepted_need(structure_actor=make_user(organisation=matched), coordinator=coordinator)
    approved = allocation_services.matching_run_create(actor=coordinator)
    [allocation] = allocation_services.matching_run_approve(
        actor=coordinator, run_id=approved.pk, line_ids=[approved.lines.first().pk]
    )
    run = allocation_services.matching_run_create(actor=coordinator)
    run_line = run.lines.get()
    spare = next(
        device
        for device in ready
        if reload(device).status == "ready" and device.pk != run_line.device_id
    )
    weights = allocation_services.policy_weights().to_dict() | {"public_bonus": {"seniors": 5}}
    # A funding programme and the network's report issued for a quarter.
    programme = programme_create(
        actor=coordinator,
        funder=fund_org,
        name="Seniors 92",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    fund_report = report_issue(
        actor=coordinator, period=Period(date(2026, 1, 1), date(2026, 3, 31)), scope=FundScope()
    )
    programme_fields = {
        "name": "Seniors connectés",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "target_budget": "25000.00",
        "territories": ["T2"],
        "structure_types": ["CS"],
        "publics": ["seniors"],
        "purposes": ["staff_use"],
    }
    ids = {
        "device": at_workshop.pk,
        "medium": medium.pk,
        "erasure": erasure.pk,
        "donation": donation.pk,
        "shipment": shipment.pk,
        "disposal": disposal.pk,
        "workshop": workshop_org.pk,
        "need": need.pk,
        "matching-run": run.pk,
        "line": run_line.pk,
        "allocation": allocation.pk,
        "structure": structure.pk,
        "member": member.pk,
        "delivery": delivery.pk,
        "hand-over": hand_over.pk,
        "loan": hand_over.loan.pk,
        "report": report.pk,
        "programme": programme.pk,
        "fund-report": fund_report.pk,
    }
    lines = [{"category": "laptop", "quantity": 1}]
    bodies = {
        ("post", "/api/devices/"): {"category": "laptop", "manufacturer": "HP"},
        ("post", "/api/devices/{id}/transition/"): {"action": "start_reconditioning"},
        ("post", "/api/scan/"): {"raw": code},
        ("post", "/api/scan/batch/"): {
            "action": "start_reconditioning",
            "scans": [{"client_id": "c-1", "raw": code}],
        },
        ("post", "/api/labels/"): {"codes": [code], "format": "avery-l7160"},
        ("post", "/api/labels/preprint/"): {"format": "avery-l7160", "count": 1},
        ("post", "/api/devices/{id}/lock-checks/"): {"outcomes": {"mdm": "cleared"}},
        ("post", "/api/devices/{id}/media/"): {"kind": "ssd", "interface": "nvme"},
        ("post", "/api/devices/{id}/test-results/"): {"outcomes": {"1": "passed"}},
        ("post", "/api/devices/{id}/repairs/"): {"part": "Clavier"},
        ("patch", "/api/devices/{id}/assessment/"): {"grade": "B"},
        ("post", "/api/media/{id}/erasures/"): ERASURE,
        ("post", "/api/donations/"): {"donor": donor_org.pk, "received_on": "2026-03-02"},
        ("patch", "/api/donations/{id}/"): {"notes": "x"},
        ("post", "/api/donors/"): {"name": "Donor"},
        ("post", "/api/shipments/"): {"workshop": workshop_org.pk, "devices": [waiting.pk]},
        ("post", "/api/shipments/{id}/receive/"): {"raw": waiting.label_code_id},
        ("post", "/api/disposals/"): WEEE | {"devices": [recycled.pk]},
        ("post", "/api/needs/"): need_fields() | {"lines": lines, "structure": structure.pk},
        ("patch", "/api/needs/{id}/"): {"urgency": "high", "lines": lines},
        ("post", "/api/needs/{id}/accept/"): {"quantities": {str(line.pk): 1}},
        ("post", "/api/needs/{id}/decline/"): {"reason": "Non."},
        ("post", "/api/needs/{id}/cancel/"): {"reason": "Doublon."},
        ("post", "/api/structures/"): {
            "name": "Centre social",
            "siret": valid_siret(990),
            "structure_type": "CS",
            "commune": "92002",
        },
        ("patch", "/api/structures/{id}/"): {"address": "3 rue du Port"},
        ("post", "/api/structures/{id}/members/"): {"email": "new@exemple.fr"},
        ("post", "/api/matching-runs/"): {
            "territory": "T2",
            "category": "laptop",
            "weights": {"ram_per_gb": 2, "public_bonus": {"seniors": 5}},
        },
        ("post", "/api/matching-runs/{id}/discard/"): {"reason": "Trop tôt."},
        ("post", "/api/matching-runs/{id}/lines/{line_id}/swap/"): {"device": spare.label_code_id},
        ("put", "/api/matching-policy/"): weights,
        ("post", "/api/allocations/{id}/cancel/"): {"reason": "Doublon."},
        ("post", "/api/deliveries/"): {
            "structure": receiving.pk,
            "expected_on": "2099-01-05",
            "carrier": "Kangoo",
            "notes": "Fragile",
        },
        ("post", "/api/deliveries/{id}/receive/"): {"code": kit[0].device.label_code_id},
        ("post", "/api/deliveries/{id}/cancel/"): {"reason": "Camion en panne"},
        ("post", "/api/hand-overs/"): {
            "allocations": [kit[1].pk],
            "received_by_name": "Awa",
            "received_by_role": "Médiatrice",
            "due_on": "2099-01-05",
            "note": "Kit",
        },
        ("post", "/api/hand-overs/{id}/signature/"): {
            "signer_name": "Awa",
            "image": "data:image/png;base64," + base64.b64encode(PNG_1PX).decode(),
        },
        ("post", "/api/loans/{id}/extend/"): {"due_on": "2099-01-05", "reason": "Atelier"},
        ("post", "/api/loans/{id}/return/"): {"returned": [kit[2].device_id], "note": "Rendu"},
        ("post", "/api/device-reports/"): {"device": kit[2].device_id, "kind": "broken"},
        ("post", "/api/device-reports/{id}/close/"): {"note": "Réparé"},
        ("post", "/api/programmes/"): programme_fields | {"funder": fund_org.pk},
        ("patch", "/api/programmes/{id}/"): programme_fields,
        ("post", "/api/fund/reports/"): {"start": "2026-01-01", "end": "2026-03-31"},
    }
    return {"ids": ids, "bodies": bodies, "code": code}


def path_object(path: str) -> str:
    for prefix, kind in [
        ("/api/media/", "medium"),
        ("/api/erasures/", "erasure"),
        ("/api/donations/", "donation"),
        ("/api/shipments/", "shipment"),
        ("/api/disposals/", "disposal"),
        ("/api/workshops/", "workshop"),
        ("/api/needs/", "need"),
        ("/api/matching-runs/", "matching-run"),
        ("/api/allocations/", "allocation"),
        ("/api/structures/", "structure"),
        ("/api/members/", "member"),
        ("/api/deliveries/", "delivery"),
        ("/api/hand-overs/", "hand-over"),
        ("/api/loans/", "loan"),
        ("/api/device-reports/", "report"),
        ("/api/programmes/", "programme"),
        ("/api/fund/reports/", "fund-report"),
    ]:
        if path.startswith(prefix):
            return kind
    return "device"


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def string_places(schema: dict, node: dict, base) -> list[tuple]:
    """Every place in a request body where the schema takes a string: (key, index, …) paths,
    a dict's keys included (marked by a final None)."""
    node = resolve(schema, node)
    branches = node.get("oneOf") or node.get("anyOf") or node.get("allOf")
    if branches:
        found = []
        for branch in branches:
            for place in string_places(schema, branch, base):
                if place not in found:
                    found.append(place)
        return found
    kind = node.get("type")
    if kind == "string" or ("enum" in node and kind is None):
        return [] if node.get("format") == "binary" else [()]
    if kind == "array":
        item = base[0] if isinstance(base, list) and base else None
        return [(0, *place) for place in string_places(schema, node["items"], item)]
    if kind == "object" or "properties" in node:
        base = base if isinstance(base, dict) else {}
        found = []
        for name, child in node.get("properties", {}).items():
            if child.get("readOnly"):
                continue
            found += [(name, *place) for place in string_places(schema, child, base.get(name))]
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            key = next(iter(base), "k")
            found += [(key, *place) for place in string_places(schema, extra, base.get(key))]
            found.append((None,))  # a key of its own
        return found
    return []


def put(body, place: tuple, value):
    """`body` with `value` at `place`; (…, None) renames the dict's first key to `value`."""
    body = copy.deepcopy(body) if body is not None else {}
    *steps, last = place
    target = body
    for step, following in zip(steps, [*steps[1:], last], strict=False):
        if isinstance(step, int):
            while len(target) <= step:
                target.append(None)
        elif step not in target:
            target[step] = None
        if not isinstance(target[step], dict | list):
            target[step] = [] if isinstance(following, int) else {}
        target = target[step]
    if last is None:
        old = next(iter(target), None)
        target[value] = target.pop(old) if old is not None else "x"
    elif isinstance(last, int):
        while len(target) <= last:
            target.append(None)
        target[last] = value
    else:
        target[last] = value
    return body


def errors_at(fields, place: tuple):
    node = fields
    for step in place:
        if step is None:
            return next(iter(node.values()), None) if isinstance(node, dict) else None
        node = node.get(str(step)) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def send(client, method, url, body=None, **extra):
    if body is None:
        return getattr(client, method)(url, **extra)
    content = json.dumps(body)  # ASCII escapes: a lone surrogate travels as \ud800
    return getattr(client, method)(url, content, content_type="application/json", **extra)


def operations(client) -> dict:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    found = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found[(method, path)] = operation
    return schema, found


def prepared(client, method, path, world) -> tuple[str, dict]:
    url = path.replace("{id}", str(world["ids"][path_object(path)]))
    url = url.replace("{code}", world["code"])
    url = url.replace("{line_id}", str(world["ids"]["line"]))
    extra = {}
    if (method, path) in {
        ("patch", "/api/donations/{id}/"),
        ("patch", "/api/needs/{id}/"),
        ("patch", "/api/structures/{id}/"),
        ("patch", "/api/programmes/{id}/"),
        ("post", "/api/loans/{id}/extend/"),
    }:
        # The object's own address: an extension's is its loan's.
        extra["HTTP_IF_MATCH"] = client.get(url.removesuffix("extend/"))["ETag"]
    return url, extra


@pytest.mark.slow
@pytest.mark.parametrize("hostile", HOSTILE, ids=list(HOSTILE))
def test_every_text_of_every_operation_refuses_control_characters(coordinator, world, hostile):
    text = HOSTILE[hostile]
    client = token_client(coordinator)
    schema, table = operations(client)
    checked, failures = 0, []
    for (method, path), operation in sorted(table.items()):
        body_schema = (
            operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        )
        base = world["bodies"].get((method, path))
        places = string_places(schema, body_schema["schema"], base) if body_schema else []
        for place in places:
            url, extra = prepared(client, method, path, world)
            body = put(base, place, text)
            response = send(client, method, url, body, **extra)
            checked += 1
            if response.status_code >= 500:
                failures.append((method, path, place, response.status_code))
            elif (path, place) in SCANNED:
                # Read as a scan: a per-scan answer (a receipt refuses a non-code with 400).
                if response.status_code != 200 and not response.json()["code"].startswith("code_"):
                    failures.append((method, path, place, response.status_code, "scan"))
            elif response.status_code != 400 or errors_at(
                response.json().get("fields", {}), place
            ) != [str(CONTROL_CHARACTERS)]:
                failures.append((method, path, place, response.status_code, response.content))
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            url, extra = prepared(client, method, path, world)
            # An address carries UTF-8: a lone surrogate arrives as U+FFFD, no refusal needed.
            refused = [str(CONTROL_CHARACTERS)] if hostile != "surrogate" else None
            if parameter["in"] == "query":
                response = send(client, method, f"{url}?{name}={quoted(text)}", **extra)
            elif parameter["in"] == "header":
                extra[f"HTTP_{name.upper().replace('-', '_')}"] = text
                response = send(client, method, url, world["bodies"].get((method, path)), **extra)
            elif parameter["in"] == "path" and name == "code":
                response = send(client, method, url.replace(world["code"], quoted(text)))
                refused = None  # not a label code: 400 invalid_label_code
            else:
                continue
            checked += 1
            if response.status_code >= 500:
                failures.append((method, path, name, response.status_code))
            elif refused and (
                response.status_code != 400 or response.json().get("fields") != {name: refused}
            ):
                failures.append((method, path, name, response.status_code, response.content))
    assert checked > 100
    assert not failures, failures


def quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(
    "body", ['["lap\\u0000top"]', '[null, {"\\u0000": "\\ud800"}]', '"\\u0000"', "3"]
)
def test_a_body_that_is_no_object_is_refused_in_drf_shape(coordinator, at_workshop, body):
    # The fields are only read in an object: DRF refuses anything else itself (no 500).
    response = token_client(coordinator).post(
        f"/api/devices/{at_workshop.pk}/repairs/",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="one",
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["fields"]


def test_every_operation_documents_the_400_of_a_refused_query_string(coordinator):
    schema, table = operations(token_client(coordinator))
    assert [key for key, operation in table.items() if "400" not in operation["responses"]] == []
