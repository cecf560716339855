"""Funding programmes: recorded by the coordination, checked when an allocation is approved."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import translation

from inventory.errors import DomainError
from inventory.models import Commune, Device
from inventory.states import Status
from logistics.allocations.services import matching_run_approve, matching_run_create
from logistics.funding.services import programme_create, programme_update
from logistics.models import Allocation, FundingProgramme, NeedLine
from tests.builders import accepted_need, make_organisation, make_user, ready_devices

TODAY = dt.date(2026, 5, 4)


@pytest.fixture(autouse=True)
def english():
    """The refusals' reasons are read in English (the site's language is French)."""
    with translation.override("en"):
        yield


def programme(coordinator, fund_org, **fields):
    return programme_create(
        actor=coordinator,
        funder=fund_org,
        **{"name": "Équipement 2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31"} | fields,
    )


def test_the_coordination_records_a_programme(coordinator, fund_org):
    made = programme(
        coordinator,
        fund_org,
        target_devices="150",
        target_budget="25 000,50",
        territories=["T3", "T4", "T3"],
        structure_types=["RFS"],
        publics=["seniors"],
        purposes=["public_access", "staff_use"],
    )
    made.refresh_from_db()
    assert (made.target_devices, str(made.target_budget)) == (150, "25000.50")
    assert made.territories == ["T3", "T4"] and made.purposes == ["public_access", "staff_use"]
    assert made.history.count() == 1 and made.reference == f"PRG-{made.pk:04d}"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"ends_on": "2025-12-31"}, "ends_on"),
        ({"starts_on": "le 1er janvier"}, "starts_on"),
        ({"target_devices": 0}, "target_devices"),
        ({"target_devices": 10**30}, "target_devices"),
        ({"target_budget": "beaucoup"}, "target_budget"),
        ({"territories": ["T9"]}, "territories"),
        ({"territories": "T2"}, "territories"),
        ({"structure_types": ["XYZ"]}, "structure_types"),
        ({"publics": [{"a": 1}]}, "publics"),
    ],
)
def test_bad_input_is_refused_field_by_field(coordinator, fund_org, fields, field):
    with pytest.raises(DomainError) as refused:
        programme(coordinator, fund_org, **fields)
    assert field in refused.value.params["fields"]
    assert not FundingProgramme.objects.exists()


def test_the_funder_must_be_a_fund(coordinator, workshop_org):
    with pytest.raises(DomainError) as refused:
        programme(coordinator, workshop_org)
    assert "funder" in refused.value.params["fields"]


def test_only_the_coordination_records_programmes(fund_reader, fund_org):
    with pytest.raises(DomainError) as refused:
        programme(fund_reader, fund_org)
    assert refused.value.status == 403
    assert not FundingProgramme.objects.exists()


def test_a_stale_edit_is_refused(coordinator, fund_org):
    made = programme(coordinator, fund_org)
    programme_update(actor=coordinator, programme_id=made.pk, version=1, name="Nouveau nom")
    with pytest.raises(DomainError) as refused:
        programme_update(actor=coordinator, programme_id=made.pk, version=1, name="Autre")
    assert refused.value.status == 412
    made.refresh_from_db()
    assert (made.name, made.version, made.history.count()) == ("Nouveau nom", 2, 2)


@pytest.fixture
def antony_need(coordinator, workshop_org, structure_org):
    """One ready laptop and an accepted need of a social centre (CS) of Antony (T2), for
    seniors, public access; proposed by a matching run."""
    ready_devices(coordinator, workshop_org, 1, ram_gb=8, storage_gb=256)
    accepted_need(
        structure_actor=make_user(organisation=structure_org),
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 1}],
        public="seniors",
    )
    return matching_run_create(actor=coordinator)


def approve(coordinator, run, made):
    with mock.patch("logistics.funding.services.timezone.localdate", return_value=TODAY):
        return matching_run_approve(actor=coordinator, run_id=run.pk, programme=made.pk)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"territories": ["T3"]}, "territory"),
        ({"structure_types": ["RFS"]}, "type"),
        ({"publics": ["young_people"]}, "public"),
        ({"purposes": ["staff_use"]}, "purpose"),
        ({"starts_on": "2026-06-01"}, "runs from"),
        ({"is_active": False}, "closed"),
    ],
)
def test_an_ineligible_programme_refuses_the_whole_approval(
    coordinator, fund_org, antony_need, fields, reason
):
    made = programme(coordinator, fund_org, **fields)
    with pytest.raises(DomainError) as refused:
        approve(coordinator, antony_need, made)
    assert refused.value.code == "programme_not_eligible" and refused.value.status == 409
    assert reason in str(refused.value.message)
    assert not Allocation.objects.exists()
    assert Device.objects.get().status == Status.READY
    assert NeedLine.objects.get().quantity_served == 0


def test_an_eligible_programme_is_attributed(coordinator, fund_org, antony_need, structure_org):
    assert structure_org.commune == Commune.objects.get(insee_code="92002")
    made = programme(
        coordinator, fund_org, territories=["T2"], structure_types=["CS"], publics=["seniors"]
    )
    (allocation,) = approve(coordinator, antony_need, made)
    assert allocation.programme == made
    assert allocation.history.get().programme_id == made.pk
    # Its period can no longer leave the allocation (approved on TODAY) out.
    Allocation.objects.filter(pk=allocation.pk).update(
        created_at=dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    )
    with pytest.raises(DomainError) as refused:
        programme_update(actor=coordinator, programme_id=made.pk, starts_on="2026-06-01")
    assert "starts_on" in refused.value.params["fields"]


def test_an_unknown_programme_is_a_field_error(coordinator, antony_need):
    for value in ("abc", 10**20, 999999):
        with pytest.raises(DomainError) as refused:
            matching_run_approve(actor=coordinator, run_id=antony_need.pk, programme=value)
        assert "programme" in refused.value.params["fields"]
    assert not Allocation.objects.exists()


def test_a_structure_without_a_commune_is_not_eligible_to_a_territorial_programme(
    coordinator, fund_org, workshop_org
):
    nowhere = make_organisation(kind="structure", commune=None)
    ready_devices(coordinator, workshop_org, 1, ram_gb=8, storage_gb=256)
    accepted_need(
        structure_actor=make_user(organisation=nowhere),
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 1}],
    )
    run = matching_run_create(actor=coordinator)
    with pytest.raises(DomainError) as refused:
        approve(coordinator, run, programme(coordinator, fund_org, territories=["T2"]))
    assert "territory" in str(refused.value.message)
