"""Where each donation's certificate stands: the same counts as the certificate, and why it is
still pending, in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from inventory.documents.content import certificate_content
from inventory.documents.selectors import certificate_states
from inventory.documents.services import certificate_issue
from inventory.intake.services import donation_update
from inventory.models import Donation
from inventory.reconditioning import services as bench
from tests.builders import ATTESTED, erase, make_device, make_donation


@pytest.fixture(autouse=True)
def english():
    # The reasons are read in English here, whatever language an earlier test left active.
    with translation.override("en"):
        yield


def state_of(donation):
    return certificate_states(Donation.objects.filter(pk=donation.pk))[donation.pk]


def test_the_state_counts_what_the_certificate_would_say(donation, certified):
    state = state_of(donation)
    content = certificate_content(donation)
    assert state.media_erased == content.media_count == 3
    assert state.devices_not_erased == len(content.pending) == 2
    assert state.reasons() == ["2 devices not erased yet", "release attestation incomplete"]
    assert (state.status, state.to_issue) == ("pending", False)


def test_a_complete_donation_is_to_issue_until_its_certificate_is(
    settings, tmp_path, coordinator, workshop_staff, donation, certified
):
    settings.MEDIA_ROOT = tmp_path
    for device in (certified["waiting"], certified["intake"]):
        device.refresh_from_db()
    (disk,) = certified["waiting"].media.all()
    erase(workshop_staff, disk)
    bench.medium_add(
        actor=coordinator, device_id=certified["intake"].pk, kind="ssd", interface="sata"
    )
    assert state_of(donation).reasons() == [
        "1 device not erased yet",
        "release attestation incomplete",
    ]
    erase(coordinator, certified["intake"].media.get())
    donation_update(actor=coordinator, donation_id=donation.pk, **ATTESTED)
    assert state_of(donation).reasons() == []
    assert state_of(donation).status == "to_issue"
    certificate_issue(actor=coordinator, donation_id=donation.pk)
    assert (state_of(donation).status, state_of(donation).to_issue) == ("up_to_date", False)


def test_devices_counted_but_not_registered_keep_it_pending(coordinator, donor_org):
    donation = make_donation(actor=coordinator, donor=donor_org, received_count=3, **ATTESTED)
    assert state_of(donation).reasons() == ["no device registered yet"]
    make_device(actor=coordinator, donation=donation)
    state = state_of(donation)
    assert state.reasons() == [
        "2 devices counted on arrival not registered yet",
        "1 device not erased yet",
    ]
    assert state.counts_differ


def test_a_donation_of_screens_needs_no_certificate(coordinator, donor_org):
    donation = make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    make_device(actor=coordinator, donation=donation, category="screen", manufacturer="Iiyama")
    assert state_of(donation).status == "not_needed"


def test_states_cost_the_same_queries_for_one_donation_and_many(coordinator, donor_org):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            certificate_states(Donation.objects.all())
        return len(captured)

    make_device(actor=coordinator, donation=make_donation(actor=coordinator, donor=donor_org))
    one = queries()
    for _ in range(5):
        donation = make_donation(actor=coordinator, donor=donor_org, received_count=2)
        make_device(actor=coordinator, donation=donation)
        make_device(actor=coordinator, donation=donation, category="screen", manufacturer="LG")
    assert queries() == one == 4
