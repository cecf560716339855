"""The label URL, the scan page and batch mode, as a user at the bench drives them."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.codes import check_symbol, group_label_code
from inventory.models import ScanEvent, ScanResult
from inventory.services import device_transition, label_codes_preprint
from inventory.states import Status
from tests.builders import make_device, reload, walk, wrong_check

SCAN = "/scan/"


# /d/<code>


def test_the_label_url_opens_the_device_page_for_who_may_see_it(login, coordinator, device):
    response = login(coordinator).get(f"/d/{group_label_code(device.label_code_id).lower()}")
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:device_detail", args=[device.pk])
    assert ScanEvent.objects.filter(device=device, result=ScanResult.FOUND).count() == 1


def test_the_upper_case_label_url_of_the_qr_code_resolves_too(login, coordinator, device):
    response = login(coordinator).get(f"/D/{device.label_code_id}")
    assert response.status_code == 302


def test_a_stranger_sees_a_public_page_without_private_data(client, device, donor_org):
    response = client.get(f"/d/{device.label_code_id}")
    assert response.status_code == 200
    text = response.text
    assert group_label_code(device.label_code_id) in text
    for private in (device.serial_number, device.custodian.name, donor_org.name):
        assert private not in text


def test_another_organisations_user_sees_the_public_page(login, workshop_staff, device):
    response = login(workshop_staff).get(f"/d/{device.label_code_id}")
    assert response.status_code == 200
    assert device.serial_number not in response.text


def test_a_wrong_check_character_never_names_a_device(client, device):
    response = client.get(f"/d/{wrong_check(device.label_code_id)}")
    assert response.status_code == 400
    assert device.serial_number not in response.text


def test_an_unknown_code_is_not_found(client, db):
    assert client.get("/d/" + "7QK2M9XH" + check_symbol("7QK2M9XH")).status_code == 404


def test_a_preprinted_label_offers_registration_with_its_code(login, coordinator):
    [label] = label_codes_preprint(actor=coordinator, count=1)
    client = login(coordinator)
    response = client.get(f"/d/{label.code}")
    assert response.status_code == 200
    assert f"?label_code={label.code}" in response.text
    form = client.get(f"{reverse('inventory:device_register')}?label_code={label.code}")
    assert form.context["form"]["label_code"].value() == group_label_code(label.code)


# The scan page


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: f"http://localhost:8000/d/{code}",
        lambda code: code.lower(),
        lambda code: group_label_code(code),
    ],
)
def test_scanning_shows_the_card_and_records_the_scan(
    login, workshop_staff, workshop_device, typed
):
    response = login(workshop_staff).post(SCAN, {"raw": typed(workshop_device.label_code_id)})
    assert response.status_code == 200
    assert response.context["device"] == workshop_device
    actions = [choice["move"].action for choice in response.context["moves"]]
    assert "receive_at_workshop" in actions
    assert ScanEvent.objects.get().result == ScanResult.FOUND


def test_garbage_is_refused_and_recorded(login, workshop_staff, db):
    response = login(workshop_staff).post(SCAN, {"raw": "4006381333931"})
    assert response.context["outcome"].result == ScanResult.INVALID
    assert "device" not in response.context
    assert ScanEvent.objects.filter(result=ScanResult.INVALID, raw="4006381333931").exists()


def test_one_tap_on_the_card_applies_the_move(login, workshop_staff, workshop_device):
    client = login(workshop_staff)
    response = client.post(
        SCAN, {"raw": workshop_device.label_code_id, "action": "receive_at_workshop"}
    )
    assert response.context["outcome"].result == ScanResult.APPLIED
    assert reload(workshop_device).status == Status.AT_WORKSHOP
    row = workshop_device.history.order_by("-history_id").first()
    assert (row.history_user, row.history_change_reason) == (workshop_staff, "receive_at_workshop")
    again = client.post(
        SCAN, {"raw": workshop_device.label_code_id, "action": "receive_at_workshop"}
    )
    assert again.context["outcome"].result == ScanResult.ALREADY_DONE


def test_an_exit_from_the_card_needs_its_confirmation(login, workshop_staff, workshop_device):
    client = login(workshop_staff)
    client.post(SCAN, {"raw": workshop_device.label_code_id, "action": "receive_at_workshop"})
    response = client.post(SCAN, {"raw": workshop_device.label_code_id, "action": "recycle"})
    assert response.context["form_errors"]
    assert reload(workshop_device).status == Status.AT_WORKSHOP


def test_the_scan_costs_the_same_queries_whatever_the_history(login, coordinator, workshop_org):
    def ready_device(cycles: int):
        device = make_device(actor=coordinator)
        device_transition(
            actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
        )
        walk(
            actor=coordinator,
            device=device,
            actions=("receive_at_workshop", "start_reconditioning", "mark_ready"),
        )
        for _cycle in range(cycles):
            for action in ("reserve", "release_reservation"):
                device_transition(
                    actor=coordinator, device_id=device.pk, action=action, workflow=True
                )
        return device

    short, long = ready_device(0), ready_device(12)
    assert long.history.count() - short.history.count() == 24
    client = login(coordinator)
    counts = []
    for device in (short, long):
        with CaptureQueriesContext(connection) as queries:
            client.post(SCAN, {"raw": device.label_code_id})
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_funds_cannot_scan(login, fund_reader):
    assert login(fund_reader).get(SCAN).status_code == 403


# Batch mode


def test_batch_mode_applies_refuses_and_sums_up(login, coordinator, workshop_org):
    first, second = make_device(actor=coordinator), make_device(actor=coordinator)
    lost = make_device(actor=coordinator)
    device_transition(actor=coordinator, device_id=lost.pk, action="declare_lost")
    client = login(coordinator)
    start = client.post(
        "/scan/batch/", {"action": "send_to_workshop", "target-workshop": str(workshop_org.pk)}
    )
    assert start.status_code == 302
    url = start["Location"]
    for raw in (
        first.label_code_id,
        second.label_code_id.lower(),
        first.label_code_id,
        lost.label_code_id,
    ):
        client.post(url, {"raw": raw})
    results = [event.result for event in ScanEvent.objects.order_by("id")]
    assert results == [
        ScanResult.APPLIED,
        ScanResult.APPLIED,
        ScanResult.ALREADY_DONE,
        ScanResult.REFUSED,
    ]
    assert reload(first).custodian == workshop_org
    summary = client.get(url + "&finished=1")
    assert dict(summary.context["summary"]) == {
        str(ScanResult.APPLIED.label): 2,
        str(ScanResult.ALREADY_DONE.label): 1,
        str(ScanResult.REFUSED.label): 1,
    }
    refused = next(e for e in summary.context["events"] if e.result == ScanResult.REFUSED)
    assert refused.error_code == "transition_not_allowed"


def test_a_batch_move_that_sends_devices_needs_its_destination(login, coordinator):
    response = login(coordinator).post("/scan/batch/", {"action": "send_to_workshop"})
    assert response.status_code == 200
    assert ScanEvent.objects.count() == 0


def test_a_second_scan_after_the_batch_move_took_the_device_away_says_already_done(
    login, workshop_staff, workshop_device, coordinator, donor_org
):
    device_transition(
        actor=workshop_staff, device_id=workshop_device.pk, action="receive_at_workshop"
    )
    workshop_device.donor = donor_org
    workshop_device.save(update_fields=["donor"])
    client = login(workshop_staff)
    start = client.post("/scan/batch/", {"action": "return_to_donor", "confirm": "1"})
    url = start["Location"]
    assert "confirm=1" in url
    for _scan in range(2):
        client.post(url, {"raw": workshop_device.label_code_id})
    results = list(ScanEvent.objects.order_by("id").values_list("result", flat=True))
    assert results == [ScanResult.APPLIED, ScanResult.ALREADY_DONE]


def test_a_batch_of_exits_needs_its_confirmation(login, coordinator):
    client = login(coordinator)
    response = client.post("/scan/batch/", {"action": "recycle"})
    assert response.status_code == 200  # back to the form, with the message
    assert client.get("/scan/batch/abc/?action=recycle").status_code == 302


def test_a_coordinator_may_batch_receipts_for_a_workshop(login, coordinator, workshop_org):
    registered = make_device(actor=coordinator)
    client = login(coordinator)
    start = client.post(
        "/scan/batch/",
        {"action": "receive_at_workshop", "target-workshop": str(workshop_org.pk)},
    )
    client.post(start["Location"], {"raw": registered.label_code_id})
    assert ScanEvent.objects.get().result == ScanResult.APPLIED
    assert reload(registered).custodian == workshop_org


# What the title says (read first by a screen reader when the page opens)


def title(response) -> str:
    text = response.content.decode()
    inner = text[text.index("<title>") + 7 : text.index("</title>")]
    return unescape(re.sub(r"[ \t\r\n]+", " ", inner).strip())


def test_the_scan_pages_title_carries_the_result(login, workshop_staff, workshop_device):
    client = login(workshop_staff)
    code = group_label_code(workshop_device.label_code_id)
    found = client.post(SCAN, {"raw": workshop_device.label_code_id})
    assert title(found).startswith(f"Appareil trouvé\u00a0: {code} · ")
    unknown = "7QK2M9XH" + check_symbol("7QK2M9XH")
    response = client.post(SCAN, {"raw": unknown})
    assert title(response).startswith(f"Code inconnu\u00a0: {group_label_code(unknown)}")
    response = client.post(SCAN, {"raw": wrong_check(workshop_device.label_code_id)})
    assert title(response).startswith("Erreur\u00a0: ")
    refused = client.post(SCAN, {"raw": workshop_device.label_code_id, "action": "mark_ready"})
    assert refused.context["outcome"].result == ScanResult.REFUSED
    assert title(refused).startswith("Erreur\u00a0: ")
    assert not title(client.get(SCAN)).startswith("Erreur")


def test_the_scan_page_offers_to_bind_a_preprinted_label_like_the_label_url(
    login, coordinator, structure_staff
):
    [label] = label_codes_preprint(actor=coordinator, count=1)
    bind = f"{reverse('inventory:device_register')}?label_code={label.code}"
    response = login(coordinator).post(SCAN, {"raw": label.code.lower()})
    assert response.context["outcome"].result == ScanResult.UNASSIGNED
    assert title(response).startswith(
        f"Étiquette pas encore associée\u00a0: {group_label_code(label.code)}"
    )
    assert f'href="{bind}"' in response.text
    # The same offer as /d/<code>.
    assert f'href="{bind}"' in login(coordinator).get(f"/d/{label.code}").text
    # Who may not register devices is told the label is free, and offered nothing.
    response = login(structure_staff).post(SCAN, {"raw": label.code})
    assert response.context["outcome"].result == ScanResult.UNASSIGNED
    assert "label_code=" not in response.text


def test_the_batch_pages_title_carries_the_last_result(login, coordinator, workshop_org):
    first = make_device(actor=coordinator)
    client = login(coordinator)
    start = client.post(
        "/scan/batch/", {"action": "send_to_workshop", "target-workshop": str(workshop_org.pk)}
    )
    response = client.post(start["Location"], {"raw": first.label_code_id})
    assert title(response).startswith(
        f"Action effectuée\u00a0: {group_label_code(first.label_code_id)} · "
    )
    response = client.post(start["Location"], {"raw": "[/"})
    assert title(response).startswith("Erreur\u00a0: ")


def test_the_label_urls_title_says_unknown_or_error(client, login, coordinator, device):
    unknown = "7QK2M9XH" + check_symbol("7QK2M9XH")
    assert title(client.get(f"/d/{unknown}")).startswith("Code inconnu\u00a0: ")
    assert title(client.get(f"/d/{wrong_check(device.label_code_id)}")).startswith("Erreur\u00a0: ")
    [label] = label_codes_preprint(actor=coordinator, count=1)
    assert title(client.get(f"/d/{label.code}")).startswith("Étiquette pas encore associée\u00a0: ")
