"""Frozen reports: issued once, never changed by later corrections, which show as changes."""

import datetime as dt
import hashlib
import json

import pypdfium2 as pdfium
import pytest

from inventory.documents.content import verification_code_display
from inventory.errors import DomainError
from inventory.models import Device
from logistics.fund_reports import figures
from logistics.fund_reports.services import canonical, report_changes, report_file, report_issue
from logistics.models import FundReport, HandOver
from tests.logistics.fund_reports.scenario import build_year, noon

YEAR = figures.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture
def year(coordinator, workshop_org, fund_org):
    return build_year(coordinator=coordinator, workshop=workshop_org, fund=fund_org)


def stored(report):
    return {kind: report_file(report, kind) for kind in ("pdf", "csv", "xlsx")}


def test_an_issued_report_keeps_its_figures_and_files(year, coordinator):
    report = report_issue(actor=coordinator, period=YEAR, scope=figures.Scope())
    files = stored(report)
    for kind, content in files.items():
        assert hashlib.sha256(content).hexdigest() == getattr(report, f"{kind}_sha256"), kind
    assert report.figures_sha256 == hashlib.sha256(canonical(report.figures)).hexdigest()
    assert report.figures["totals"]["handed_over"] == 5
    # Every fund reads the network's report: it names no programme.
    assert report.figures["programmes"] == []
    programmes = {r["key"]: r for r in report.figures["breakdowns"]["programme"]}
    assert set(programmes) == {figures.OTHER_PROGRAMMES, figures.NO_PROGRAMME}
    assert programmes[figures.OTHER_PROGRAMMES]["handed_over"] == 3
    assert "Programme A" not in json.dumps(report.figures, ensure_ascii=False)
    text = "".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(files["pdf"]))
    assert verification_code_display(report.verification_code) in text
    assert report_changes(report) == []
    # A correction: d4's hand-over was on 1 September, not 1 October; d6 was registered in
    # 2025 after all.
    hand_over = HandOver.objects.get(items__device=year.devices["d4"])
    HandOver.objects.filter(pk=hand_over.pk).update(handed_at=noon(dt.date(2025, 9, 1)))
    Device.objects.filter(pk=year.devices["d6"].pk).update(created_at=noon(dt.date(2025, 2, 1)))
    again = FundReport.objects.get(pk=report.pk)
    assert again.figures == report.figures and stored(again) == files
    changes = {
        (c["section"], c["key"], c["metric"]): (c["frozen"], c["now"])
        for c in report_changes(again)
    }
    assert changes[("totals", "", "received")] == (5, 6)
    assert changes[("months", "2025-09", "handed_over")] == (1, 2)
    assert changes[("months", "2025-10", "handed_over")] == (1, 0)
    assert ("totals", "", "handed_over") not in changes


def test_only_the_coordination_issues(year, fund_reader):
    with pytest.raises(DomainError) as refused:
        report_issue(actor=fund_reader, period=YEAR, scope=figures.Scope())
    assert refused.value.status == 403
    assert not FundReport.objects.exists()


def test_a_programme_report_is_its_programme_s(year, coordinator):
    report = report_issue(actor=coordinator, period=YEAR, scope=figures.Scope(programme=year.a))
    assert report.programme == year.a
    assert report.figures["scope"]["programme_name"] == "Programme A"
    assert report.figures["totals"]["handed_over"] == 3
    assert report_changes(report) == []
