"""Each figure of the fund's reports against the year counted by hand in scenario.py."""

import datetime as dt

import pytest

from inventory.errors import DomainError
from logistics.fund_reports import figures
from logistics.fund_reports.selectors import report_build, report_scope_for
from logistics.models import Allocation
from tests.builders import make_organisation, make_user
from tests.logistics.fund_reports.scenario import build_year

YEAR = figures.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
NETWORK = figures.Scope()


@pytest.fixture
def year(coordinator, workshop_org, fund_org):
    return build_year(coordinator=coordinator, workshop=workshop_org, fund=fund_org)


def rows_by_key(rows):
    return {row["key"]: row for row in rows}


def test_totals_of_the_year(year):
    totals = figures.figures_totals(YEAR, NETWORK)
    assert {
        k: totals[k]
        for k in (
            "received",
            "reconditioned",
            "handed_over",
            "gifts",
            "loans",
            "recycled",
            "on_loan",
            "overdue",
            "units_asked",
            "units_accepted",
            "units_served",
            "structures_asked",
            "structures_equipped",
            "wait_median_days",
            "wait_p90_days",
        )
    } == {
        "received": 5,
        "reconditioned": 5,
        "handed_over": 5,
        "gifts": 3,
        "loans": 2,
        "recycled": 1,
        "on_loan": 1,
        "overdue": 1,
        "units_asked": 5,
        "units_accepted": 5,
        "units_served": 5,
        "structures_asked": 2,
        "structures_equipped": 2,
        "wait_median_days": 10.0,
        "wait_p90_days": 30.0,
    }
    assert totals["reuse_rate"] == round(5 / 6, 4)
    assert (totals["co2e_kg"], totals["materials_kg"], totals["ewaste_kg"]) == (243.0, 1143.0, 2.83)
    assert totals["impact_not_estimated"] == 1


def test_a_device_counts_in_one_programme_only(year):
    assert year.refusal is not None and year.refusal.code == "programme_not_eligible"
    assert "Programme A" in str(year.refusal.message)
    d3 = year.devices["d3"]
    assert list(
        Allocation.objects.filter(device=d3)
        .order_by("pk")
        .values_list("programme__name", flat=True)
    ) == ["Programme A", None]
    rows = rows_by_key(figures.figures_by(YEAR, NETWORK, "programme"))
    assert rows[str(year.a.pk)]["handed_over"] == 3  # d1, d2 and d3's loan
    assert rows[figures.NO_PROGRAMME]["handed_over"] == 2
    assert str(year.b.pk) not in rows
    # The programme's own scope: its allocations only; device flows do not apply.
    scoped = figures.figures_totals(YEAR, figures.Scope(programme=year.a))
    assert (scoped["handed_over"], scoped["gifts"], scoped["loans"]) == (3, 2, 1)
    assert scoped["received"] is None and scoped["reuse_rate"] is None
    # A's criteria cover every need, but only two were submitted while it ran (2 + 1 units);
    # its loans were all back by the year's end.
    assert (scoped["units_asked"], scoped["on_loan"]) == (3, 0)


def test_breakdowns_by_territory_type_category_public_purpose(year):
    territory = rows_by_key(figures.figures_by(YEAR, NETWORK, "territory"))
    assert {
        k: (r["handed_over"], r["gifts"], r["loans"], r["on_loan"], r["overdue"])
        for k, r in territory.items()
    } == {"T2": (3, 3, 0, 0, 0), "T3": (2, 0, 2, 1, 1)}
    assert territory["T2"]["received"] is None  # a device is nobody's until handed over
    assert territory["T3"]["wait_median_days"] == 30.0
    assert territory["T2"]["co2e_kg"] == 243.0
    kinds = rows_by_key(figures.figures_by(YEAR, NETWORK, "structure_type"))
    assert (kinds["CCAS"]["handed_over"], kinds["ASSO"]["handed_over"]) == (3, 2)
    category = rows_by_key(figures.figures_by(YEAR, NETWORK, "category"))
    assert {
        k: (r["received"], r["reconditioned"], r["handed_over"], r["recycled"])
        for k, r in category.items()
    } == {"laptop": (4, 4, 4, 1), "tablet": (1, 1, 1, 0)}
    assert category["tablet"]["impact_not_estimated"] == 1
    assert category["tablet"]["co2e_kg"] == 0
    assert category["laptop"]["reuse_rate"] == 0.8
    public = figures.figures_by(YEAR, NETWORK, "public")
    assert [(r["key"], r["handed_over"], r["on_loan"]) for r in public] == [("everyone", 5, None)]
    commune = rows_by_key(figures.figures_by(YEAR, NETWORK, "commune"))
    assert (
        set(commune) == {"92002", "92012"} and commune["92012"]["label"] == "Boulogne-Billancourt"
    )


def test_months_and_workshops(year):
    months = rows_by_key(figures.figures_by_month(YEAR, NETWORK))
    assert list(months) == [f"2025-{m:02d}" for m in range(1, 13)]
    assert [months[k]["handed_over"] for k in months] == [0, 0, 2, 1, 0, 0, 0, 0, 1, 1, 0, 0]
    assert months["2025-01"]["received"] == 5 and months["2025-06"]["recycled"] == 1
    assert months["2025-08"]["reconditioned"] == 1 and months["2025-02"]["reconditioned"] == 2
    assert months["2025-03"]["on_loan"] is None  # a snapshot at the period's end only
    (workshop,) = figures.workshop_figures(YEAR, NETWORK)
    assert workshop["label"] == "ECODAIR"
    assert (workshop["ready"], workshop["recycled"], workshop["yield"]) == (5, 1, round(5 / 6, 4))
    assert (workshop["turnaround_median_days"], workshop["turnaround_p90_days"]) == (7.0, 21.0)
    assert workshop["in_progress"] == 0


def test_a_shorter_period_and_the_loans_at_its_end(year):
    spring = figures.Period(dt.date(2025, 3, 1), dt.date(2025, 6, 30))
    totals = figures.figures_totals(spring, NETWORK)
    assert (totals["handed_over"], totals["received"], totals["recycled"]) == (3, 0, 1)
    # d3 was out on 30 June, due 24 June: overdue then, returned since.
    assert (totals["on_loan"], totals["overdue"]) == (1, 1)
    # Impact counts each device handed over in the period once.
    assert totals["co2e_kg"] == 243.0


def test_a_fund_reader_sees_its_programmes_and_the_rest_merged(year, fund_reader, coordinator):
    other_fund = make_organisation(kind="fund", name="Autre financeur")
    other_reader = make_user(organisation=other_fund)
    scope = report_scope_for(other_reader)
    rows = rows_by_key(figures.figures_by(YEAR, scope, "programme"))
    assert set(rows) == {figures.OTHER_PROGRAMMES, figures.NO_PROGRAMME}
    assert rows[figures.OTHER_PROGRAMMES]["handed_over"] == 3
    with pytest.raises(DomainError) as refused:
        report_scope_for(other_reader, year.a.pk)
    assert refused.value.status == 404
    own = report_scope_for(fund_reader, year.a.pk)
    assert own.programme == year.a
    assert set(
        rows_by_key(figures.figures_by(YEAR, report_scope_for(fund_reader), "programme"))
    ) == {str(year.a.pk), figures.NO_PROGRAMME}


@pytest.mark.parametrize("kind", ["workshop", "structure", "donor"])
def test_other_organisations_read_no_figures(db, kind):
    user = make_user(organisation=make_organisation(kind=kind))
    with pytest.raises(DomainError) as refused:
        report_scope_for(user)
    assert refused.value.status == 403


def test_the_document_holds_every_breakdown_and_its_sources(year):
    document = report_build(YEAR, NETWORK)
    assert set(document["breakdowns"]) == set(figures.DIMENSIONS)
    assert document["totals"]["handed_over"] == 5
    assert [line["category"] for line in document["impact"]["lines"]] == ["laptop", "tablet"]
    assert document["impact"]["lines"][1]["estimated"] is False
    assert any("ADEME" in factor["source"] for factor in document["impact"]["factors"])
    (a,) = [p for p in document["programmes"] if p["name"] == "Programme A"]
    assert (a["handed_over_to_date"], a["target_devices"], a["progress"]) == (3, 10, 0.3)
