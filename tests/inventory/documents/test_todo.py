"""The coordination's to-do reads only the open donations (`todo_open`): every write that can
put a donation on it or take it off keeps the flag, so that the to-do counted over the open
donations is the to-do counted over all of them."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.documents.selectors import (
    TODO_FLAGS,
    certificate_states,
    coordination_todo,
    todo_flags,
)
from inventory.documents.services import certificate_issue
from inventory.intake.services import donation_update
from inventory.models import Donation
from inventory.reconditioning import services as bench
from tests.builders import (
    ATTESTED,
    erase,
    import_laptops,
    make_device,
    make_donation,
    record_reconditioning,
    to_bench,
)


def todo_over_every_donation() -> tuple[int, int, int, list[int]]:
    """The to-do as it was counted before the flag: over every donation ever received."""
    states = certificate_states(Donation.objects.all())
    to_issue = [pk for pk, state in states.items() if state.to_issue]
    oldest = Donation.objects.filter(pk__in=to_issue).order_by("received_on", "id")
    return (
        len(to_issue),
        sum(1 for state in states.values() if not state.attestation_complete),
        sum(1 for state in states.values() if state.counts_differ),
        [donation.pk for donation in oldest[:5]],
    )


def assert_todo_complete() -> None:
    todo = coordination_todo(5)
    assert (
        todo.certificates_to_issue,
        todo.attestations_incomplete,
        todo.counts_differ,
        [d.pk for d in todo.first_to_issue],
    ) == todo_over_every_donation()
    # And every donation's flags say what its state says (closed ones are off every line).
    rows = {row["pk"]: row for row in Donation.objects.values("pk", *TODO_FLAGS)}
    for pk, state in certificate_states(Donation.objects.all()).items():
        assert {"pk": pk, **todo_flags(state)} == rows[pk], pk


def is_open(donation) -> bool:
    return Donation.objects.get(pk=donation.pk).todo_open


def test_a_settled_donation_leaves_the_todo_and_a_change_brings_it_back(coordinator, donor_org):
    settled = make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    assert not is_open(settled)
    donation_update(actor=coordinator, donation_id=settled.pk, released_firmware=False)
    assert is_open(settled)
    donation_update(actor=coordinator, donation_id=settled.pk, released_firmware=True)
    assert not is_open(settled)
    # Counted 2 on arrival, one registered: the counts differ until the second one is.
    donation_update(actor=coordinator, donation_id=settled.pk, received_count=2)
    assert is_open(settled)
    make_device(actor=coordinator, donation=settled, category="screen")
    assert is_open(settled)
    make_device(actor=coordinator, donation=settled, category="screen")
    assert not is_open(settled)
    assert_todo_complete()


def test_an_import_into_a_donation_updates_its_place(coordinator, donor_org):
    donation = make_donation(actor=coordinator, donor=donor_org, received_count=3, **ATTESTED)
    assert is_open(donation)
    import_laptops(actor=coordinator, donation=donation, count=3)
    # Three laptops hold data not erased yet: pending, but nothing for the coordination now.
    assert not is_open(donation)
    assert_todo_complete()


def test_erasures_open_the_certificate_and_issuing_it_closes_it(
    settings, tmp_path, coordinator, workshop_staff, workshop_org, donor_org
):
    settings.MEDIA_ROOT = tmp_path
    donation = make_donation(
        actor=coordinator, donor=donor_org, expected_count=1, received_count=1, **ATTESTED
    )
    laptop = make_device(actor=coordinator, donation=donation)
    assert not is_open(donation)  # pending: the workshop's to do, not the coordination's
    to_bench(coordinator, laptop, workshop_org)
    record_reconditioning(actor=workshop_staff, device=laptop)
    assert is_open(donation)  # complete: a certificate to issue
    assert_todo_complete()
    certificate_issue(actor=coordinator, donation_id=donation.pk)
    assert not is_open(donation)
    # A new medium erased later: the certificate no longer lists every medium.
    medium = bench.medium_add(
        actor=workshop_staff, device_id=laptop.pk, kind="hdd", interface="sata"
    )
    assert not is_open(donation)  # pending again (the new disk is not erased)
    erase(workshop_staff, medium)
    assert is_open(donation)
    assert_todo_complete()


def test_a_mix_of_donations_gives_the_same_todo_as_counting_every_donation(
    settings, tmp_path, coordinator, workshop_staff, workshop_org, donor_org
):
    settings.MEDIA_ROOT = tmp_path
    make_donation(actor=coordinator, donor=donor_org, expected_count=5, received_count=4)
    make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    for count in (1, 2):
        donation = make_donation(
            actor=coordinator, donor=donor_org, received_count=count, **ATTESTED
        )
        for _ in range(count):
            device = make_device(actor=coordinator, donation=donation)
            to_bench(coordinator, device, workshop_org)
            record_reconditioning(actor=workshop_staff, device=device)
        assert_todo_complete()
    certificate_issue(actor=coordinator, donation_id=donation.pk)
    assert_todo_complete()


def test_the_todo_reads_only_the_open_donations(coordinator, donor_org):
    for _ in range(3):
        make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    open_one = make_donation(actor=coordinator, donor=donor_org)
    with CaptureQueriesContext(connection) as queries:
        todo = coordination_todo(5)
    assert todo.attestations_incomplete == 1
    donation_reads = [
        q["sql"] for q in queries.captured_queries if "inventory_donation" in q["sql"]
    ]
    assert donation_reads
    assert all("todo_open" in sql for sql in donation_reads[:-1]), donation_reads
    assert Donation.objects.filter(todo_open=True).get() == open_one


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only")
def test_the_todo_reads_two_partial_indexes_and_no_device(coordinator, donor_org):
    for _ in range(3):
        make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    make_donation(actor=coordinator, donor=donor_org)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_donation")
    with CaptureQueriesContext(connection) as queries:
        coordination_todo(5)
    reads = [query["sql"] for query in queries.captured_queries]
    # The lines' counts over the open donations, then the first certificates to issue.
    assert len(reads) == 2, reads
    assert not [sql for sql in reads if "inventory_device" in sql or "storagemedium" in sql]
    for sql, index in zip(
        reads, ("donation_todo_open_idx", "donation_todo_certificate_idx"), strict=True
    ):
        with connection.cursor() as cursor:
            # Bitmap scans only: on a few rows, reading the whole primary key index and
            # filtering would look as cheap; a bitmap scan needs an index condition or a
            # partial index whose condition the query implies.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_indexonlyscan = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (row,) = cursor.fetchone()
        plan = json.dumps(row if not isinstance(row, str) else json.loads(row))
        assert '"Seq Scan"' not in plan, plan
        assert index in plan, plan
