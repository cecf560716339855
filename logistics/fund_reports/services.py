"""Issuing a frozen report: the figures of a period and scope, drawn as PDF, CSV and XLSX,
stored with their SHA-256 and a verification code. Nothing ever changes an issued report:
there is no update; corrections made later show in `report_changes`, which compares the
frozen figures with the same period computed again."""

import hashlib
import json

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from inventory.documents.content import verification_code_display, verification_code_new
from inventory.errors import DomainError
from inventory.history import tracked_save
from inventory.permissions import require
from inventory.selectors import user_scope
from logistics import permissions
from logistics.fund_reports import figures
from logistics.fund_reports.selectors import report_build
from logistics.models import FundReport


def canonical(document: dict) -> bytes:
    """The bytes the figures' SHA-256 is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def report_files(document: dict, *, code: str | None = None) -> dict[str, bytes]:
    """The document as PDF, CSV and XLSX; an issued report's PDF carries its code."""
    from logistics.fund_reports.exports import report_csv, report_xlsx
    from logistics.fund_reports.pdf import report_pdf

    verification = None
    if code:
        check = settings.SITE_URL + reverse("logistics:fund_report_verify")
        verification = (verification_code_display(code), check)
    return {
        "pdf": report_pdf(document, verification=verification),
        "csv": report_csv(document),
        "xlsx": report_xlsx(document),
    }


def frozen_scope(programme) -> figures.Scope:
    """The scope an issued report is drawn with. A programme's report names its programme;
    the network's, which every fund reads, names none: its programme breakdown and targets
    merge every programme into one row, so that no funder reads another's figures."""
    if programme is not None:
        return figures.Scope(programme=programme)
    return figures.Scope(visible_programmes=frozenset())


def report_issue(*, actor, period: figures.Period, scope: figures.Scope) -> FundReport:
    """Freeze the period's figures and files (always in French, the site's language, whoever
    issues them). The files are written before the row commits; a failed write leaves no
    row, and a row never points to a file that was not written."""
    require(
        permissions.may_issue_fund_reports(user_scope(actor)),
        _("Only the coordination issues the fund's reports."),
    )
    scope = frozen_scope(scope.programme)
    with translation.override(settings.LANGUAGE_CODE):
        document = report_build(period, scope)
    for _attempt in range(3):
        code = verification_code_new()
        if FundReport.objects.filter(verification_code=code).exists():
            continue  # drawn twice (1 in 32^15): another report holds it, never touch its files
        with translation.override(settings.LANGUAGE_CODE):
            files = report_files(document, code=code)
        try:
            with transaction.atomic():
                report = FundReport(
                    period_start=period.start,
                    period_end=period.end,
                    programme=scope.programme,
                    figures=document,
                    figures_sha256=hashlib.sha256(canonical(document)).hexdigest(),
                    verification_code=code,
                    issued_by=actor,
                )
                for kind, content in files.items():
                    # The storage picks a free name: an existing file is never overwritten.
                    name = default_storage.save(f"fund_reports/{code}.{kind}", ContentFile(content))
                    setattr(report, f"{kind}_file", name)
                    setattr(report, f"{kind}_sha256", hashlib.sha256(content).hexdigest())
                tracked_save(report, actor=actor, reason="report_issue")
            return report
        except IntegrityError:
            # Only the code can collide (a concurrent issue drew the same one): draw again.
            if not FundReport.objects.filter(verification_code=code).exists():
                raise
            continue
    raise DomainError("conflict", _("The report could not be issued; try again."), status=409)


def report_file(report: FundReport, kind: str) -> bytes | None:
    name = getattr(report, f"{kind}_file", "")
    if name and default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    return None


def report_changes(report: FundReport) -> list[dict]:
    """What changed since the report was issued: the same period and scope computed again,
    compared figure by figure (totals with the impact's, months, breakdowns, workshops)."""
    scope = frozen_scope(report.programme)
    period = figures.Period(report.period_start, report.period_end)
    with translation.override(settings.LANGUAGE_CODE):
        now = report_build(period, scope)
    return document_changes(report.figures, now)


def document_changes(frozen: dict, now: dict) -> list[dict]:
    changes = []

    def compare(section: str, key: str, label: str, old: dict, new: dict, metrics) -> None:
        for metric in metrics:
            before, after = old.get(metric), new.get(metric)
            if before != after:
                changes.append(
                    {
                        "section": section,
                        "key": key,
                        "label": label,
                        "metric": metric,
                        "metric_label": frozen.get("metrics", {}).get(metric, {}).get("label")
                        or frozen.get("workshop_metrics", {}).get(metric, {}).get("label")
                        or metric,
                        "frozen": before,
                        "now": after,
                    }
                )

    metrics = list(frozen.get("metrics", {}))
    compare("totals", "", "", frozen.get("totals", {}), now.get("totals", {}), metrics)

    def rows(section: str, old_rows: list, new_rows: list, metric_keys) -> None:
        old_by = {row["key"]: row for row in old_rows}
        new_by = {row["key"]: row for row in new_rows}
        for key in list(old_by) + [k for k in new_by if k not in old_by]:
            old, new = old_by.get(key, {}), new_by.get(key, {})
            compare(section, key, (old or new).get("label", key), old, new, metric_keys)

    rows("months", frozen.get("months", []), now.get("months", []), metrics)
    for dimension, old_rows in frozen.get("breakdowns", {}).items():
        rows(dimension, old_rows, now.get("breakdowns", {}).get(dimension, []), metrics)
    rows(
        "workshops",
        frozen.get("workshops", []),
        now.get("workshops", []),
        list(frozen.get("workshop_metrics", {})),
    )
    return changes
