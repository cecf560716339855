"""R11: schema-driven fuzzing with schemathesis, in process through the WSGI application, as a
coordinator with a token: no server error and every reply as the schema describes it.

Skipped where schemathesis is not installed (it is a development dependency). The schema is
loaded at collection time: schemathesis' fixture-based loader does not run under pytest 9.
"""

import os
from datetime import date

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from config.wsgi import application
from inventory.intake.services import donation_create
from inventory.services import device_transition
from inventory.states import OrgKind
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
    accepted_need,
    allocated,
    make_device,
    make_need,
    make_organisation,
    make_user,
    reconditioned,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")  # installed with schemathesis

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection(db):
    # As django.test.Client does: a request must not close the connection that holds the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(coordinator, donor_org, workshop_org, settings, tmp_path) -> str:
    # A few real rows, so that some generated ids and codes meet a device, a donation, a
    # shipment, a WEEE disposal, a workshop, a need, and a structure with a person; and a
    # structure's delivery, hand-over, loan and report (first: its matching run sees its need
    # alone); a funding programme and issued reports. Hand-overs store their receipts, and
    # reports their files, in this test's folder.
    settings.MEDIA_ROOT = str(tmp_path)
    receiver = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE))
    kit = allocated(
        coordinator=coordinator,
        structure_actor=receiver,
        workshop=workshop_org,
        count=4,
        mode="loan",
    )
    delivery_create(actor=coordinator, allocation_ids=[kit[0].pk])
    hand_over_create(
        actor=coordinator, allocation_ids=[kit[2].pk, kit[3].pk], received_by_name="Awa"
    )
    device_report_create(actor=receiver, device_id=kit[3].device_id, kind="broken")
    donation = donation_create(actor=coordinator, donor=donor_org, received_on=date(2026, 3, 2))
    devices = [make_device(actor=coordinator, donor=donor_org, donation=donation) for _ in range(4)]
    shipment_create(actor=coordinator, workshop=workshop_org, devices=[devices[0].pk])
    device_transition(actor=coordinator, device_id=devices[1].pk, action="recycle")
    disposal_create(
        actor=coordinator,
        eco_organisation="ecosystem",
        left_on=date(2025, 3, 14),
        weight_kg="4.20",
        document_reference="BSD-1",
        devices=[devices[1].pk],
    )
    structure = make_organisation(kind=OrgKind.STRUCTURE)
    make_need(actor=coordinator, structure=structure.pk, submit=False)
    make_need(actor=coordinator, structure=structure.pk)
    make_user(organisation=structure)
    # A matching run approved in part (an allocation) and a proposed one over what is left.
    for _ in range(3):
        reconditioned(coordinator, make_device(actor=coordinator), workshop_org)
    matched = make_organisation(kind=OrgKind.STRUCTURE)
    accepted_need(structure_actor=make_user(organisation=matched), coordinator=coordinator)
    approved = allocation_services.matching_run_create(actor=coordinator)
    allocation_services.matching_run_approve(
        actor=coordinator, run_id=approved.pk, line_ids=[approved.lines.first().pk]
    )
    allocation_services.matching_run_create(actor=coordinator)
    # A funding programme with a report issued for it, and the network's report.
    programme = programme_create(
        actor=coordinator,
        funder=make_organisation(kind=OrgKind.FUND),
        name="Seniors 92",
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))
    report_issue(actor=coordinator, period=quarter, scope=FundScope(programme=programme))
    report_issue(actor=coordinator, period=quarter, scope=FundScope())
    return Token.objects.get_or_create(user=coordinator)[0].key


@schema.parametrize()
@hypothesis.settings(
    max_examples=25,
    database=None,  # no .hypothesis folder in the work tree
    # The same examples on every run, so CI cannot turn red by chance; set
    # REEMPLOI_FUZZ_RANDOM=1 to explore fresh examples while developing.
    derandomize=os.environ.get("REEMPLOI_FUZZ_RANDOM") != "1",
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
def test_every_operation_answers_as_its_schema_says(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        # A schema cannot say every rule (a check character, an unknown category, a move the
        # status forbids): schema-valid input may rightly get a 400 or 409. Every other check
        # runs, among them no 5xx, documented statuses, reply schemas and content types, and
        # schema-violating input rejected.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
