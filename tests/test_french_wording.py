"""Words a French user reads for two things the bench names often."""

import re

import pytest
from django.utils import translation

from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.models import LockKind
from inventory.services import device_transition
from logistics.shipments.services import shipment_create
from tests.builders import make_device
from tests.test_typography import typography_problems


def test_batch_scanning_is_called_scanner_en_serie_wherever_it_is_offered(login, coordinator):
    client = login(coordinator)
    for url in ("/scan/", "/scan/batch/"):
        text = client.get(url).text
        assert "Scanner en série" in text, url
        assert "Mode lot" not in text, url
    start = client.post("/scan/batch/", {"action": "declare_lost", "confirm": "1"})
    heading = re.search(r"<h1>(.*?)</h1>", client.get(start["Location"]).text, re.S)[1]
    assert heading.startswith("Scanner en série\u00a0: ")


def test_the_gsma_list_is_named_in_words_not_by_its_acronym_alone():
    with translation.override("fr"):
        label = str(LockKind.STOLEN_LIST.label)
    assert "GSMA" in label
    assert "volés ou perdus" in label
    assert "IMEI" in label


def test_a_refused_batch_names_each_device_in_french_sentences(coordinator, workshop_org):
    lost, gone = make_device(actor=coordinator), make_device(actor=coordinator)
    for device in (lost, gone):
        device_transition(actor=coordinator, device_id=device.pk, action="declare_lost")
    with translation.override("fr"), pytest.raises(DomainError) as refused:
        shipment_create(actor=coordinator, workshop=workshop_org, devices=[lost.pk, gone.pk])
    message = str(refused.value.message)
    for device in (lost, gone):
        assert f"{group_label_code(device.label_code_id)}\u00a0: " in message
    assert ".; " not in message and not typography_problems(message)
