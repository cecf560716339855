"""Page titles: a page that shows an error says so first, where a screen reader starts."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.builders import walk


def title(response) -> str:
    match = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    # Only ASCII white space is layout: the no-break space of "Erreur : " is French typography.
    return unescape(re.sub(r"[ \t\r\n]+", " ", match.group(1)).strip()) if match else ""


# (persona, url name, url arguments, posted data): each post leaves its form with an error (a
# field sent empty: a view reading `request.POST or None` sees a post).
FORM_POSTS = [
    ("coordinator", "inventory:device_register", (), {"manufacturer": ""}),
    ("coordinator", "inventory:donor_create", (), {"name": ""}),
    ("coordinator", "inventory:donation_create", (), {"received_on": ""}),
    ("coordinator", "inventory:donation_edit", ("donation",), {"received_on": ""}),
    ("coordinator", "inventory:donation_device_register", ("donation",), {"manufacturer": ""}),
    ("coordinator", "inventory:donation_import", ("donation",), {}),
    ("coordinator", "inventory:checklist_category", ("laptop",), {"new-label_fr": ""}),
    ("coordinator", "logistics:shipment_create", (), {"send": "1"}),
    ("coordinator", "logistics:disposal_create", (), {"record": "1"}),
    ("coordinator", "labels:preprint", (), {"count": "0"}),
    ("workshop_staff", "inventory:bench_locks", ("device",), {"lock_mdm": "maybe"}),
    ("workshop_staff", "inventory:bench_medium", ("device",), {}),
    ("workshop_staff", "inventory:bench_erasure", ("device",), {}),
    ("workshop_staff", "inventory:bench_assessment", ("device",), {"battery_health": "500"}),
    ("workshop_staff", "inventory:bench_repair", ("device",), {}),
]


@pytest.fixture
def objects(donation, at_workshop, workshop_staff):
    walk(actor=workshop_staff, device=at_workshop, actions=("start_reconditioning",))
    return {"donation": donation.pk, "device": at_workshop.pk, "laptop": "laptop"}


@pytest.mark.parametrize(("persona", "name", "args", "data"), FORM_POSTS)
def test_a_form_page_with_errors_says_error_in_its_title(
    request, login, objects, persona, name, args, data
):
    client = login(request.getfixturevalue(persona))
    url = reverse(name, args=[objects[arg] for arg in args])
    if name in GETTABLE:
        assert not title(client.get(url)).startswith("Erreur")
    response = client.post(url, data)
    assert response.status_code in (200, 400, 409, 413), response.status_code
    assert title(response).startswith("Erreur\u00a0: "), title(response)


GETTABLE = {name for _p, name, _a, _d in FORM_POSTS if ":bench_" not in name}


def test_a_page_with_an_error_message_says_error_in_its_title(login, coordinator, device):
    # A move refused by the lifecycle comes back to the device page as an error message.
    response = login(coordinator).post(
        reverse("inventory:device_transition", args=[device.pk]),
        {"action": "mark_ready"},
        follow=True,
    )
    assert title(response).startswith("Erreur\u00a0: ")


def test_a_page_without_error_keeps_its_plain_title(login, coordinator, device):
    response = login(coordinator).get(reverse("inventory:device_detail", args=[device.pk]))
    assert not title(response).startswith("Erreur")
    assert title(response).endswith("· Réemploi")
