"""Words a French user reads for two things the bench names often."""

import re

from django.utils import translation

from inventory.models import LockKind


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
