"""POST /api/devices/: registration through the service, validation with fields, duplicates,
and Idempotency-Key replays."""

import json

import pytest

from inventory.models import Device, IdempotencyRecord, LabelCode
from inventory.states import Status
from tests.builders import make_device, valid_imei

URL = "/api/devices/"


def post(client, body, **headers):
    return client.post(URL, body, format="json", headers=headers)


def nothing_written():
    return Device.objects.count() == 0 and Device.history.count() == 0


def test_create_registers_the_device_and_answers_201(api, coordinator, coordinator_org, donor_org):
    body = {
        "category": "smartphone",
        "manufacturer": " Samsung ",
        "model_name": "Galaxy A52",
        "serial_number": "r58r1234",
        "imei1": valid_imei(7),
        "donor": donor_org.pk,
        "specs": {"ram_gb": 6, "storage_gb": 128, "storage_type": "emmc", "screen_inches": 6.5},
    }
    response = post(api(coordinator), body)
    assert response.status_code == 201, response.json()
    reply = response.json()
    device = Device.objects.get(pk=reply["id"])
    assert device.manufacturer == "Samsung"
    assert device.serial_number == "R58R1234"
    assert device.imei1 == valid_imei(7)
    assert device.donor == donor_org
    assert device.custodian == coordinator_org
    assert device.ram_gb == 6 and str(device.screen_inches) == "6.5"
    assert reply["status"] == Status.REGISTERED
    assert reply["label_code"] == device.label_code_id
    assert reply["specs"]["storage_type"] == "emmc"
    [row] = device.history.all()
    assert row.history_user == coordinator
    assert row.history_change_reason == "register"


def test_workshop_staff_register_into_their_own_custody(
    api, workshop_staff, workshop_org, coordinator_org
):
    response = post(
        api(workshop_staff),
        {"category": "laptop", "manufacturer": "HP", "custodian": coordinator_org.pk},
    )
    assert response.status_code == 201
    assert response.json()["custodian"]["id"] == workshop_org.pk


def test_create_can_bind_a_preprinted_label(api, coordinator):
    from inventory.codes import check_symbol

    code = "ABCDEFGH" + check_symbol("ABCDEFGH")
    LabelCode.objects.create(code=code)
    response = post(
        api(coordinator),
        {"category": "laptop", "manufacturer": "HP", "label_code": code.lower()},
    )
    assert response.status_code == 201
    assert response.json()["label_code"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "smartphone", "manufacturer": "Apple", "imei1": "123456789012345"}, "imei1"),
        ({"category": "laptop"}, "manufacturer"),
        ({"category": "laptop", "manufacturer": "   "}, "manufacturer"),
        ({"category": "spaceship", "manufacturer": "Dell"}, "category"),
        ({"manufacturer": "Dell"}, "category"),
        ({"category": "laptop", "manufacturer": "Dell", "imei1": "x"}, "imei1"),
        ({"category": "laptop", "manufacturer": "Dell", "donor": "abc"}, "donor"),
        ({"category": "laptop", "manufacturer": "Dell", "donor": 10**30}, "donor"),
        ({"category": "laptop", "manufacturer": "Dell", "custodian": 1.5}, "custodian"),
        ({"category": "laptop", "manufacturer": "Dell", "custodian": True}, "custodian"),
        ({"category": "laptop", "manufacturer": "D" * 100_000}, "manufacturer"),
        ({"category": "laptop", "manufacturer": "Dell", "specs": "fast"}, "specs"),
        ({"category": "laptop", "manufacturer": "Dell", "specs": {"ram_gb": -1}}, "specs"),
        ({"category": "laptop", "manufacturer": "Dell", "specs": {"ram_gb": 10**9}}, "specs"),
        ({"category": "laptop", "manufacturer": "Dell", "specs": {"ram_gb": "8 Go"}}, "specs"),
        ({"category": "laptop", "manufacturer": "Dell", "label_code": "nope"}, "label_code"),
        ({"category": ["laptop"], "manufacturer": "Dell"}, "category"),
        ({"category": {"code": "laptop"}, "manufacturer": "Dell"}, "category"),
    ],
)
def test_invalid_input_answers_400_with_the_field_and_writes_nothing(api, coordinator, body, field):
    response = post(api(coordinator), body)
    assert response.status_code == 400, response.json()
    reply = response.json()
    assert reply["code"] == "invalid"
    assert reply["detail"]
    assert field in reply["fields"]
    assert nothing_written()


def test_a_donor_of_the_wrong_kind_is_refused_by_the_service(api, coordinator, workshop_org):
    response = post(
        api(coordinator), {"category": "laptop", "manufacturer": "HP", "donor": workshop_org.pk}
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"donor"}
    assert nothing_written()


@pytest.mark.parametrize("body", [[], "text", 42, None, [{"category": "laptop"}]])
def test_a_body_that_is_not_an_object_answers_400(api, coordinator, body):
    response = api(coordinator).post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "non_field_errors" in response.json()["fields"]


def test_a_duplicate_serial_answers_409_duplicate(api, coordinator):
    make_device(actor=coordinator, manufacturer="Dell", serial_number="7XK2L3")
    response = post(
        api(coordinator), {"category": "laptop", "manufacturer": "dell", "serial_number": "7xk2l3"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate"
    assert "serial_number" in response.json()["fields"]
    assert Device.objects.count() == 1


def test_a_fund_reader_may_not_register_and_nothing_is_written(api, fund_reader):
    response = post(api(fund_reader), {"category": "laptop", "manufacturer": "HP"})
    assert response.status_code == 403
    assert response.json()["code"] == "action_forbidden"
    assert nothing_written()


def test_structure_staff_may_not_register(api, structure_staff):
    response = post(api(structure_staff), {"category": "laptop", "manufacturer": "HP"})
    assert response.status_code == 403
    assert nothing_written()


# Idempotency-Key


BODY = {"category": "laptop", "manufacturer": "Dell", "serial_number": "IDEM-1"}


def test_the_same_key_and_body_replayed_five_times_create_one_device(api, coordinator):
    client = api(coordinator)
    replies = [post(client, BODY, **{"Idempotency-Key": "k-1"}) for _ in range(5)]
    assert [reply.status_code for reply in replies] == [201] * 5
    assert all(reply.json() == replies[0].json() for reply in replies)
    assert [reply.has_header("Idempotent-Replayed") for reply in replies] == [False] + [True] * 4
    assert Device.objects.count() == 1
    assert Device.history.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_key_with_a_key_order_change_is_the_same_body(api, coordinator):
    client = api(coordinator)
    first = post(client, BODY, **{"Idempotency-Key": "k-order"})
    reordered = dict(reversed(list(BODY.items())))
    again = post(client, reordered, **{"Idempotency-Key": "k-order"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert Device.objects.count() == 1


def test_the_same_key_with_another_body_answers_422(api, coordinator):
    client = api(coordinator)
    assert post(client, BODY, **{"Idempotency-Key": "k-2"}).status_code == 201
    response = post(client, BODY | {"serial_number": "OTHER"}, **{"Idempotency-Key": "k-2"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Device.objects.count() == 1


def test_the_same_key_with_an_invalid_body_answers_422(api, coordinator):
    client = api(coordinator)
    assert post(client, BODY, **{"Idempotency-Key": "k-bad"}).status_code == 201
    response = post(client, {"category": "laptop"}, **{"Idempotency-Key": "k-bad"})
    assert response.status_code == 422
    assert Device.objects.count() == 1


def test_a_retry_of_a_device_without_serial_is_replayed_not_registered_again(api, coordinator):
    """Nothing unique in the device itself: the record's own constraint stops the second."""
    client = api(coordinator)
    body = {"category": "laptop", "manufacturer": "Dell"}
    replies = [post(client, body, **{"Idempotency-Key": "k-noserial"}) for _ in range(3)]
    assert [reply.status_code for reply in replies] == [201] * 3
    assert len({reply.json()["id"] for reply in replies}) == 1
    assert replies[-1]["Idempotent-Replayed"] == "true"
    assert Device.objects.count() == 1
    assert LabelCode.objects.count() == 1  # the retries' codes went with their rollback


def test_keys_belong_to_one_user(api, coordinator, workshop_staff):
    assert post(api(coordinator), BODY, **{"Idempotency-Key": "shared"}).status_code == 201
    other = post(
        api(workshop_staff), BODY | {"serial_number": "IDEM-2"}, **{"Idempotency-Key": "shared"}
    )
    assert other.status_code == 201
    assert Device.objects.count() == 2


def test_a_refused_create_stores_no_key_so_a_corrected_retry_works(api, coordinator):
    client = api(coordinator)
    refused = post(client, {"category": "laptop"}, **{"Idempotency-Key": "k-3"})
    assert refused.status_code == 400
    assert IdempotencyRecord.objects.count() == 0
    assert post(client, BODY, **{"Idempotency-Key": "k-3"}).status_code == 201


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_an_empty_or_overlong_key_answers_400(api, coordinator, key):
    response = post(api(coordinator), BODY, **{"Idempotency-Key": key})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert nothing_written()
