"""« 1 appareil », never « 1 appareils »: a count of devices or labels agrees with its number."""

import re

from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from inventory.models import Donation
from inventory.models import TestItem as ChecklistItem
from inventory.reconditioning import services as bench
from logistics.models import DisposalBatch, Shipment
from logistics.shipments.services import shipment_create, shipment_receive
from tests.builders import make_device, recycled


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_shipment_of_one_device_says_one_device(login, coordinator, workshop_org, device):
    response = login(coordinator).post(
        reverse("logistics:shipment_create"),
        {
            "workshop": workshop_org.pk,
            "sent_on": "2026-03-02",
            "token": "t1",
            "send": "1",
            "device": [device.pk],
        },
        follow=True,
    )
    reference = Shipment.objects.get().reference
    assert f"{reference} enregistrée\u00a0: 1 appareil en route vers ECODAIR." in messages_of(
        response
    )


def test_a_shipment_says_one_received(login, coordinator, workshop_staff, workshop_org, devices):
    shipment = shipment_create(
        actor=coordinator, workshop=workshop_org, devices=[device.pk for device in devices]
    )
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=devices[0].label_code_id)
    client = login(coordinator)
    for url in (
        reverse("logistics:shipment_detail", args=[shipment.pk]),
        reverse("logistics:shipment_list"),
    ):
        assert re.search(r"\b1 sur 3 reçu\b(?!s)", visible(client.get(url).text)), url


def test_a_disposal_of_one_device_says_one_device(login, coordinator):
    device = recycled(actor=coordinator)
    response = login(coordinator).post(
        reverse("logistics:disposal_create"),
        {
            "eco_organisation": "Ecologic",
            "collector": "Envie 92",
            "left_on": "2025-03-14",
            "weight_kg": "12,5",
            "document_reference": "BSD-77",
            "codes": "",
            "notes": "",
            "token": "t-1",
            "record": "1",
            "device": [str(device.pk)],
        },
        follow=True,
    )
    reference = DisposalBatch.objects.get().reference
    assert f"{reference} enregistré\u00a0: 1 appareil remis à Ecologic." in messages_of(response)


def test_one_device_counted_on_arrival_is_singular(login, coordinator, donation):
    Donation.objects.filter(pk=donation.pk).update(received_count=1)
    page = login(coordinator).get(reverse("inventory:donation_detail", args=[donation.pk]))
    assert "(1 compté à l'arrivée)" in visible(page.text).replace("&#x27;", "'")


def test_printing_one_label_says_one_label(coordinator, tmp_path):
    device = make_device(actor=coordinator)
    output = tmp_path / "one.pdf"
    with translation.override("fr"):
        out = __import__("io").StringIO()
        call_command(
            "print_labels",
            device.label_code_id,
            format="avery-l7160",
            output=str(output),
            stdout=out,
        )
    assert out.getvalue().startswith("1 étiquette au format ")
    assert "écrite dans" in out.getvalue()


def test_one_test_answered_of_the_checklist_is_singular(login, coordinator, device):
    [item, *others] = ChecklistItem.objects.filter(category_id=device.category_id, is_active=True)
    assert others
    bench.test_results_record(actor=coordinator, device_id=device.pk, outcomes={item.pk: "passed"})
    page = login(coordinator).get(reverse("inventory:device_detail", args=[device.pk]))
    assert re.search(rf"\b1 sur {len(others) + 1} renseigné\b(?!s)", visible(page.text))
