"""Hand-overs on the API: allocated devices given or lent in one step (idempotent), the stored
receipt served as PDF, signed on a screen or with a paper copy; each organisation its own
share, in a flat number of queries; hostile bodies answered 400, never 500."""

import base64
import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inventory.models import IdempotencyRecord, Role
from inventory.states import OrgKind, Status
from logistics.deliveries import services as deliveries
from logistics.handovers import services as handovers
from logistics.models import AllocationStatus, HandOver, HandOverItem, Loan
from tests.builders import (
    PNG_1PX,
    allocated,
    make_organisation,
    make_user,
    queries_of_get,
    reload,
    token_client,
)

pytestmark = pytest.mark.django_db

HAND_OVERS = "/api/hand-overs/"
DATA_URL = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # Receipts and signatures are stored with the media files: here, in this test's folder.
    settings.MEDIA_ROOT = str(tmp_path)


def url(hand_over, step: str = "") -> str:
    pk = hand_over if isinstance(hand_over, int) else hand_over.pk
    return f"{HAND_OVERS}{pk}/" + (f"{step}/" if step else "")


def written() -> tuple[int, int, int, int]:
    return (
        HandOver.objects.count(),
        HandOverItem.objects.count(),
        Loan.objects.count(),
        HandOver.history.count(),
    )


@pytest.fixture
def lent(coordinator, structure_staff, workshop_org):
    """Two allocations of laptops to lend (8 weeks) to the structure persona's organisation."""
    return allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=2,
        mode="loan",
    )


@pytest.fixture
def structure_api(structure_staff):
    return token_client(structure_staff)


def body(allocations, **overrides) -> dict:
    return {
        "allocations": [a.pk for a in allocations],
        "received_by_name": "Awa Diallo",
        "received_by_role": "Médiatrice",
    } | overrides


def handed(coordinator, allocations) -> HandOver:
    return handovers.hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in allocations], received_by_name="Awa"
    )


# Handing over


def test_a_kit_is_handed_over_as_one_loan_with_its_receipt(coord, lent, structure_org):
    response = coord.post(HAND_OVERS, body(lent, note="Kit mobile"), format="json")
    assert response.status_code == 201, response.content
    hand_over = response.json()
    assert hand_over["reference"].startswith("REM-") and len(hand_over["verification_code"]) == 16
    assert hand_over["structure"]["id"] == structure_org.pk
    assert (hand_over["received_by_name"], hand_over["received_by_role"]) == (
        "Awa Diallo",
        "Médiatrice",
    )
    assert (hand_over["signed"], hand_over["signature_kind"]) == (False, "")
    assert (hand_over["device_count"], hand_over["loan_count"]) == (2, 2)
    assert len(hand_over["receipt_sha256"]) == 64
    loan = Loan.objects.get(hand_over_id=hand_over["id"])
    assert hand_over["loan"] == loan.pk
    assert loan.due_on == timezone.localdate() + datetime.timedelta(weeks=8)
    items = hand_over["items"]
    assert [item["allocation"] for item in items] == [a.pk for a in lent]
    first = items[0]["as_handed_over"]
    assert first["label_code"] == lent[0].device.label_code_id
    assert (first["category"], first["manufacturer"], first["grade"]) == ("laptop", "Dell", "B")
    for allocation in lent:
        assert reload(allocation.device).status == Status.ON_LOAN
        allocation.refresh_from_db()
        assert allocation.status == AllocationStatus.HANDED_OVER


def test_gifts_start_no_loan(coord, coordinator, structure_staff, workshop_org):
    gifts = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=1
    )
    response = coord.post(HAND_OVERS, body(gifts), format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["loan"], response.json()["loan_count"]) == (None, 0)
    assert reload(gifts[0].device).status == Status.GIVEN


def test_a_due_date_given_is_the_loans(coord, lent):
    due = timezone.localdate() + datetime.timedelta(days=30)
    response = coord.post(HAND_OVERS, body(lent, due_on=due.isoformat()), format="json")
    assert response.status_code == 201, response.content
    assert Loan.objects.get(pk=response.json()["loan"]).due_on == due


@pytest.mark.parametrize("days", [0, -3, 800])
def test_a_due_date_out_of_range_is_refused(coord, lent, days):
    due = timezone.localdate() + datetime.timedelta(days=days)
    response = coord.post(HAND_OVERS, body(lent, due_on=due.isoformat()), format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["due_on"])
    assert written() == (0, 0, 0, 0)


def test_a_retried_hand_over_with_its_idempotency_key_is_made_once(coord, lent):
    headers = {"HTTP_IDEMPOTENCY_KEY": "hand-over-1"}
    first = coord.post(HAND_OVERS, body(lent), format="json", **headers)
    again = coord.post(HAND_OVERS, body(lent), format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert written()[:3] == (1, 2, 1)

    other = coord.post(HAND_OVERS, body(lent, note="Autre"), format="json", **headers)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert written()[:3] == (1, 2, 1)
    assert IdempotencyRecord.objects.count() == 1


def test_an_allocation_handed_over_already_refuses_the_whole_hand_over(coord, coordinator, lent):
    handed(coordinator, lent[:1])
    before = written()
    response = coord.post(HAND_OVERS, body(lent), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "allocation_not_active")
    assert written() == before
    assert reload(lent[1].device).status == Status.RESERVED


def test_a_workshops_second_tap_learns_the_devices_were_handed_over(workshop_staff, lent):
    bench = token_client(workshop_staff)
    assert bench.post(HAND_OVERS, body(lent), format="json").status_code == 201
    again = bench.post(HAND_OVERS, body(lent), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "allocation_not_active")
    assert written()[:2] == (1, 2)


def test_a_structure_confirms_only_devices_it_received(
    structure_api, workshop_staff, structure_staff, lent
):
    refused = structure_api.post(HAND_OVERS, body(lent), format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_delivered")
    delivery = deliveries.delivery_create(actor=workshop_staff, allocation_ids=[a.pk for a in lent])
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    for allocation in lent:
        deliveries.delivery_receive(
            actor=structure_staff, delivery_id=delivery.pk, raw=allocation.device.label_code_id
        )
    response = structure_api.post(HAND_OVERS, body(lent), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["delivery"] == delivery.pk


def test_another_structures_allocation_is_not_found(lent):
    stranger = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE))
    response = token_client(stranger).post(HAND_OVERS, body(lent), format="json")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert lent[0].device.label_code_id not in response.content.decode()
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize("persona", ["fund_reader", "donor_user", "structure_reader"])
def test_readers_the_fund_and_donors_hand_nothing_over(request, structure_org, lent, persona):
    if persona == "structure_reader":
        user = make_user(organisation=structure_org, role=Role.READER)
    else:
        user = request.getfixturevalue(persona)
    response = token_client(user).post(HAND_OVERS, body(lent), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert written() == (0, 0, 0, 0)


# The receipt


def test_the_receipt_is_served_as_the_stored_pdf(coord, coordinator, structure_api, lent):
    hand_over = handed(coordinator, lent)
    for client in (coord, structure_api):
        response = client.get(f"{url(hand_over)}receipt.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert hand_over.reference in response["Content-Disposition"]


def test_a_receipt_whose_file_is_lost_is_not_found(coord, coordinator, lent):
    hand_over = handed(coordinator, lent)
    HandOver.objects.filter(pk=hand_over.pk).update(receipt_file="receipts/gone.pdf")
    response = coord.get(f"{url(hand_over)}receipt.pdf", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "receipt_missing"


# Signing


def test_the_receipt_is_signed_on_the_screen_once(structure_api, coordinator, lent):
    hand_over = handed(coordinator, lent)
    issued = HandOver.objects.get(pk=hand_over.pk).receipt_sha256
    response = structure_api.post(
        url(hand_over, "signature"), {"signer_name": "Awa Diallo", "image": DATA_URL}, format="json"
    )
    assert response.status_code == 200, response.content
    signed = response.json()
    assert (signed["signed"], signed["signature_kind"], signed["signer_name"]) == (
        True,
        "drawn",
        "Awa Diallo",
    )
    assert signed["receipt_sha256"] != issued
    pdf = structure_api.get(f"{url(hand_over)}receipt.pdf")
    assert pdf.content.startswith(b"%PDF")
    again = structure_api.post(
        url(hand_over, "signature"), {"signer_name": "Awa", "image": DATA_URL}, format="json"
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_signed")


@pytest.mark.parametrize(
    ("signature", "field"),
    [
        ({"signer_name": "Awa", "image": "data:image/gif;base64,R0lG"}, "image"),
        ({"signer_name": "Awa", "image": "data:image/png;base64,!!!"}, "image"),
        ({"signer_name": "Awa", "image": "data:image/png;base64,aGVsbG8="}, "image"),
        ({"signer_name": "Awa", "image": 5}, "image"),
        ({"signer_name": "Awa", "image": "data:image/png;base64," + "A" * 800_000}, "image"),
        ({"signer_name": "", "image": DATA_URL}, "signer_name"),
        ({"signer_name": ["Awa"], "image": DATA_URL}, "signer_name"),
        ({"image": DATA_URL}, "signer_name"),
    ],
)
def test_a_drawing_that_is_no_png_is_refused(structure_api, coordinator, lent, signature, field):
    hand_over = handed(coordinator, lent)
    response = structure_api.post(url(hand_over, "signature"), signature, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert list(response.json()["fields"]) == [field]
    assert not HandOver.objects.get(pk=hand_over.pk).is_signed


def test_a_signed_paper_copy_is_uploaded(structure_api, coordinator, lent):
    hand_over = handed(coordinator, lent)
    scan = SimpleUploadedFile("bon.pdf", b"%PDF-1.4 signed scan", "application/pdf")
    response = structure_api.post(
        url(hand_over, "signature"), {"signer_name": "Awa", "file": scan}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["signed"], response.json()["signature_kind"]) == (True, "paper")
    assert HandOver.objects.get(pk=hand_over.pk).signature_file.endswith(".pdf")


def test_a_paper_copy_that_is_no_pdf_or_image_is_refused(structure_api, coordinator, lent):
    hand_over = handed(coordinator, lent)
    scan = SimpleUploadedFile("bon.txt", b"hello", "text/plain")
    response = structure_api.post(
        url(hand_over, "signature"), {"signer_name": "Awa", "file": scan}, format="multipart"
    )
    assert (response.status_code, list(response.json()["fields"])) == (400, ["file"])
    assert not HandOver.objects.get(pk=hand_over.pk).is_signed


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"signer_name": "A\x00wa"}, "signer_name"),
        ({"signer_name": "x" * 121}, "signer_name"),
        ({"signer_name": "Awa", "file": ""}, "file"),
        ({"signer_name": "Awa"}, "file"),
        ({"file": "scan"}, "signer_name"),
    ],
)
def test_a_paper_form_that_is_not_valid_is_refused(structure_api, coordinator, lent, form, field):
    hand_over = handed(coordinator, lent)
    form = dict(form)
    if form.get("file") == "scan":
        form["file"] = SimpleUploadedFile("bon.pdf", b"%PDF-1.4 scan", "application/pdf")
    response = structure_api.post(url(hand_over, "signature"), form, format="multipart")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert field in response.json()["fields"]
    assert not HandOver.objects.get(pk=hand_over.pk).is_signed


def test_a_paper_copy_above_the_limit_is_refused_before_it_is_read(
    structure_api, coordinator, lent
):
    hand_over = handed(coordinator, lent)
    big = b"%PDF-" + b"0" * handovers.MAX_PAPER_BYTES
    scan = SimpleUploadedFile("bon.pdf", big, "application/pdf")
    response = structure_api.post(
        url(hand_over, "signature"), {"signer_name": "Awa", "file": scan}, format="multipart"
    )
    assert (response.status_code, response.json()["code"]) == (413, "file_too_large")
    assert not HandOver.objects.get(pk=hand_over.pk).is_signed


def test_a_body_above_the_upload_cap_is_refused(structure_api, coordinator, lent):
    hand_over = handed(coordinator, lent)
    scan = SimpleUploadedFile("bon.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024), "application/pdf")
    response = structure_api.post(
        url(hand_over, "signature"), {"signer_name": "Awa", "file": scan}, format="multipart"
    )
    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")


# Who reads and signs which


def test_each_organisation_reads_its_own_hand_overs(
    coord, coordinator, structure_api, workshop_staff, other_workshop_staff, lent
):
    hand_over = handovers.hand_over_create(
        actor=workshop_staff, allocation_ids=[a.pk for a in lent], received_by_name="Awa"
    )
    for client in (coord, structure_api, token_client(workshop_staff)):
        assert [h["id"] for h in client.get(HAND_OVERS).json()["results"]] == [hand_over.pk]
        assert client.get(url(hand_over)).json()["device_count"] == 2
    stranger = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE))
    for user in (other_workshop_staff, stranger):
        client = token_client(user)
        assert client.get(HAND_OVERS).json()["results"] == []
        assert client.get(url(hand_over)).status_code == 404
        assert client.get(f"{url(hand_over)}receipt.pdf").status_code == 404
        signing = client.post(
            url(hand_over, "signature"), {"signer_name": "X", "image": DATA_URL}, format="json"
        )
        assert (signing.status_code, signing.json()["code"]) == (404, "not_found")
    assert not HandOver.objects.get(pk=hand_over.pk).is_signed


@pytest.mark.parametrize("persona", ["fund_reader", "donor_user"])
def test_the_fund_and_donors_read_no_hand_over(request, coordinator, lent, persona):
    hand_over = handed(coordinator, lent)
    client = token_client(request.getfixturevalue(persona))
    assert client.get(HAND_OVERS).status_code == 403
    assert client.get(url(hand_over)).status_code == 403
    receipt = client.get(f"{url(hand_over)}receipt.pdf")
    assert (receipt.status_code, receipt["Content-Type"]) == (403, "application/json")
    signing = client.post(
        url(hand_over, "signature"), {"signer_name": "X", "image": DATA_URL}, format="json"
    )
    assert signing.status_code == 403
    assert not HandOver.objects.get(pk=hand_over.pk).is_signed


def test_a_hand_over_id_beyond_any_integer_is_not_found(coord):
    for path in (url(10**30), f"{url(10**30)}receipt.pdf"):
        response = coord.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


# The list


def test_the_list_filters_unsigned_receipts_and_by_structure(
    coord, coordinator, structure_staff, lent, structure_org
):
    first = handed(coordinator, lent[:1])
    second = handed(coordinator, lent[1:])
    handovers.hand_over_sign(
        actor=structure_staff, hand_over_id=first.pk, signer_name="Awa", image=PNG_1PX
    )

    def ids(query) -> list[int]:
        response = coord.get(HAND_OVERS, query)
        assert response.status_code == 200, response.content
        return [h["id"] for h in response.json()["results"]]

    assert ids({}) == [second.pk, first.pk]
    assert ids({"unsigned": "true"}) == [second.pk]
    assert ids({"unsigned": "1"}) == [second.pk]
    assert ids({"unsigned": "false"}) == [second.pk, first.pk]
    assert ids({"structure": structure_org.pk}) == [second.pk, first.pk]
    assert ids({"structure": structure_org.pk + 1000}) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"unsigned": "yes"}, "unsigned"),
        ({"unsigned": ""}, "unsigned"),
        ({"structure": "x"}, "structure"),
        ({"structure": str(10**30)}, "structure"),
    ],
)
def test_a_filter_that_is_not_valid_is_refused(coord, query, field):
    response = coord.get(HAND_OVERS, query)
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])


@pytest.mark.parametrize("persona", ["coordinator", "structure_staff"])
def test_the_list_reads_as_many_queries_for_twelve_hand_overs_as_for_two(
    request, coordinator, structure_staff, workshop_org, persona
):
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=13,
        mode="loan",
    )
    client = token_client(request.getfixturevalue(persona))
    for allocation in made[:2]:
        handed(coordinator, [allocation])
    two = queries_of_get(client, HAND_OVERS)
    handed(coordinator, made[2:4])
    for allocation in made[4:13]:
        handed(coordinator, [allocation])
    assert client.get(HAND_OVERS).json()["count"] == 12
    assert queries_of_get(client, HAND_OVERS) == two


# Hostile input


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"allocations": "1"}, "allocations"),
        ({"allocations": [True]}, "allocations"),
        ({"allocations": [1.5]}, "allocations"),
        ({"allocations": []}, "allocations"),
        ({"allocations": {"1": 1}}, "allocations"),
        ({"allocations": [2**64]}, "allocations"),
        ({"allocations": None}, "allocations"),
        ({"received_by_name": ""}, "received_by_name"),
        ({"received_by_name": 12}, "received_by_name"),
        ({"received_by_name": "x" * 121}, "received_by_name"),
        ({"received_by_name": "A\x00wa"}, "received_by_name"),
        ({"received_by_role": ["a"]}, "received_by_role"),
        ({"due_on": "tomorrow"}, "due_on"),
        ({"due_on": 20300101}, "due_on"),
        ({"note": "x" * 1001}, "note"),
        ({"note": "\ud800"}, "note"),
    ],
)
def test_hostile_bodies_are_refused_never_a_server_error(coord, overrides, field):
    raw = json.dumps(body([]) | {"allocations": [1]} | overrides)  # \ud800 as an escape
    response = coord.post(HAND_OVERS, raw, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert list(response.json()["fields"]) == [field]
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "raw", ["null", "[1]", "{not json", '"\\u0000"', '{"allocations": [1' + "0" * 5000 + "]}"]
)
def test_a_body_that_is_no_object_is_refused(coord, raw):
    response = coord.post(HAND_OVERS, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "parse_error"}
    assert written() == (0, 0, 0, 0)


def test_the_schema_documents_every_hand_over_operation(coord):
    paths = coord.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert set(paths[HAND_OVERS]) == {"get", "post"}
    receipt = paths[f"{HAND_OVERS}{{id}}/receipt.pdf"]["get"]
    assert "application/pdf" in receipt["responses"]["200"]["content"]
    signature = paths[f"{HAND_OVERS}{{id}}/signature/"]["post"]
    assert set(signature["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }
    assert {"409", "413"} <= set(signature["responses"])
