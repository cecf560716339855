"""Web screens of the fund's figures: the dashboard (a fund reader's home page), its downloads
(PDF, CSV, XLSX of the period and scope shown), the frozen reports (their list, one report
with its stored files and what changed since it was issued, the issue itself) and the public
page that checks a report's verification code.

The coordination and the funds read them: a fund reads the network's figures and its own
programmes' (another funder's programme answers 404); the other roles get the 403 page. The
dashboard reads only what it shows (totals, months, one breakdown, workshops, programmes): a
fixed number of queries whatever the data. The downloads read the whole document.
"""

import datetime as dt
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from inventory.documents.content import verification_code_display, verification_code_normalize
from inventory.errors import DomainError
from inventory.impact import assumptions, factors
from inventory.models import Category
from inventory.permissions import require_screen
from inventory.selectors import Scope, user_scope
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from logistics import permissions
from logistics.fund_reports import figures, selectors, services
from logistics.fund_reports.forms import FiguresForm, IssueForm, quick_periods
from logistics.models import FundReport

PAGE_SIZE = 50
NOT_YOURS = gettext_lazy("The fund's reports are for the coordination and the funds.")
# Typed codes are cut to this length before they are shown back (a code has 16 symbols).
CODE_SHOWN = 40
# The monthly charts, in this order; one whose figure does not apply to the scope is left out.
CHARTS = ("handed_over", "received", "reconditioned", "units_asked")
# Chart geometry (CSS px): room for the values above the bars, the bars, the month and year.
CHART_TOP = 22
CHART_BARS = 150
CHART_BOTTOM = 38
# A chart of a year fits a 320 px screen; a longer one is given a minimum width (its region
# then scrolls sideways), so that a month's value and name keep about 1.8 rem each.
CHART_SIZES = ((12, ""), (24, "chart--m24"), (36, "chart--m36"))
CHART_LARGEST = "chart--m60"
FILES = {
    "pdf": ("application/pdf", "PDF"),
    "csv": ("text/csv; charset=utf-8", "CSV"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
}
SECTIONS = {
    "totals": gettext_lazy("Totals"),
    "months": gettext_lazy("Month"),
    "workshops": gettext_lazy("Workshops"),
    **figures.DIMENSIONS,
}


# Pure helpers: how a figure reads, a chart's geometry


def display(value, kind: str) -> dict:
    """A figure as shown, in the active language's number format: counts and kilograms with
    thousands separators, rates in per cent, days with one decimal; None is "not applicable",
    shown as a dash and never as 0."""
    if value is None:
        return {"text": "—", "na": True}
    if kind == "rate":
        text = _("%(percent)s%%") % {"percent": number_format(value * 100, 1)}
    elif kind == "days":
        text = number_format(value, 1)
    elif kind == "kg":
        text = number_format(value, 1 if abs(value) < 100 else 0, force_grouping=True)
    else:
        text = number_format(value, 0, force_grouping=True)
    return {"text": text, "na": False}


def _month_of(key: str) -> dt.date:
    return dt.date(int(key[:4]), int(key[5:7]), 1)


def chart_size(months: int) -> str:
    for most, size in CHART_SIZES:
        if months <= most:
            return size
    return CHART_LARGEST


def bar_chart(months: list[dict], metric: str) -> dict | None:
    """A monthly bar chart of one metric as SVG geometry: x and widths in per cent of the
    chart's width (it follows the screen), heights in px; None when the metric does not apply
    to any month."""
    label, kind = figures.METRICS[metric]
    values = [row.get(metric) for row in months]
    if not values or all(value is None for value in values):
        return None
    top = max(value or 0 for value in values)
    slot = 100 / len(values)
    bars = []
    for index, (row, value) in enumerate(zip(months, values, strict=True)):
        height = (value or 0) / top * CHART_BARS if top else 0
        month = _month_of(row["key"])
        bars.append(
            {
                "x": f"{index * slot + slot * 0.15:.3f}%",
                "width": f"{slot * 0.7:.3f}%",
                "center": f"{(index + 0.5) * slot:.3f}%",
                "y": f"{CHART_TOP + CHART_BARS - height:.1f}",
                "height": f"{height:.1f}",
                "value_y": f"{CHART_TOP + CHART_BARS - height - 6:.1f}",
                "value": display(value, kind)["text"],
                "label": row["label"],
                "month": date_format(month, "N"),
                # Every other month's name is left out on a narrow screen (CSS): a year's
                # names side by side would touch (a longer period scrolls instead).
                "alternate": index % 2 == 1 and 6 < len(values) <= 12,
                "year": str(month.year) if index == 0 or month.month == 1 else "",
            }
        )
    total = sum(value or 0 for value in values)
    highest = max(range(len(values)), key=lambda index: values[index] or 0)
    title = _("%(metric)s, by month") % {"metric": label}
    if top:
        summary = _("%(total)s over the period; the highest month is %(month)s, with %(top)s.") % {
            "total": display(total, kind)["text"],
            "month": months[highest]["label"],
            "top": display(top, kind)["text"],
        }
    else:
        summary = _("None in any month of the period.")
    return {
        "metric": metric,
        "title": title,
        "summary": summary,
        "bars": bars,
        "size": chart_size(len(values)),
        "height": CHART_TOP + CHART_BARS + CHART_BOTTOM,
        "baseline": CHART_TOP + CHART_BARS,
        "month_y": CHART_TOP + CHART_BARS + 16,
        "year_y": CHART_TOP + CHART_BARS + 32,
    }


def table_of(rows: list[dict], metrics: dict) -> dict:
    """A breakdown as a table: the columns that hold a figure for at least one row (those
    left out are named), each cell as `display` reads it."""
    columns = [name for name in metrics if any(row.get(name) is not None for row in rows)]
    return {
        "columns": [{"name": name, "label": metrics[name][0]} for name in columns],
        "omitted": [metrics[name][0] for name in metrics if name not in columns] if rows else [],
        "rows": [
            {
                "key": row["key"],
                "label": row["label"],
                "cells": [display(row.get(name), metrics[name][1]) for name in columns],
            }
            for row in rows
        ],
    }


def _tiles(totals: dict) -> list[dict]:
    """The key figures, each with what it is made of."""

    def value(metric: str) -> dict:
        return display(totals.get(metric), figures.METRICS[metric][1])

    def count(metric: str) -> str:
        return value(metric)["text"]

    def label(metric: str):
        return figures.METRICS[metric][0]

    tiles = [
        {"label": label("received"), "value": value("received")},
        {"label": label("reconditioned"), "value": value("reconditioned")},
    ]
    handed = {"label": label("handed_over"), "value": value("handed_over")}
    if totals.get("gifts") is not None and totals.get("loans") is not None:
        handed["detail"] = _("%(gifts)s and %(loans)s") % {
            "gifts": ngettext("%(count)s gift", "%(count)s gifts", totals["gifts"])
            % {"count": count("gifts")},
            "loans": ngettext("%(count)s loan", "%(count)s loans", totals["loans"])
            % {"count": count("loans")},
        }
    tiles += [
        handed,
        {"label": label("recycled"), "value": value("recycled")},
        {
            "label": label("reuse_rate"),
            "value": value("reuse_rate"),
            "detail": _("Handed over ÷ (handed over + recycled or dismantled)"),
        },
    ]
    on_loan = {"label": label("on_loan"), "value": value("on_loan")}
    if totals.get("overdue") is not None:
        on_loan["detail"] = ngettext(
            "of which %(count)s overdue", "of which %(count)s overdue", totals["overdue"]
        ) % {"count": count("overdue")}
    units = {"label": label("units_served"), "value": value("units_served")}
    if totals.get("units_asked") is not None:
        units["detail"] = _("Asked: %(asked)s · accepted: %(accepted)s") % {
            "asked": count("units_asked"),
            "accepted": count("units_accepted"),
        }
    equipped = {"label": label("structures_equipped"), "value": value("structures_equipped")}
    if totals.get("structures_asked") is not None:
        equipped["detail"] = ngettext(
            "out of %(count)s structure that asked",
            "out of %(count)s structures that asked",
            totals["structures_asked"],
        ) % {"count": count("structures_asked")}
    wait = {"label": label("wait_median_days"), "value": value("wait_median_days")}
    if totals.get("wait_p90_days") is not None:
        wait["detail"] = _("90th percentile: %(days)s") % {"days": count("wait_p90_days")}
    co2e = {"label": label("co2e_kg"), "value": value("co2e_kg")}
    if totals.get("impact_not_estimated"):
        co2e["detail"] = ngettext(
            "%(count)s device handed over is not estimated",
            "%(count)s devices handed over are not estimated",
            totals["impact_not_estimated"],
        ) % {"count": count("impact_not_estimated")}
    tiles += [
        on_loan,
        units,
        equipped,
        wait,
        co2e,
        {"label": label("materials_kg"), "value": value("materials_kg")},
        {"label": label("ewaste_kg"), "value": value("ewaste_kg")},
    ]
    return tiles


# Who reads, and what


def _reader(request) -> Scope:
    scope = user_scope(request.user)
    require_screen(permissions.may_read_fund_reports(scope), NOT_YOURS)
    return scope


def _refused(err: DomainError) -> None:
    if err.status == 404:
        raise Http404 from err
    if err.status == 403:
        raise PermissionDenied(err.message) from err


def _figures_scope(request, programme_id) -> figures.Scope:
    try:
        return selectors.report_scope_for(request.user, programme_id)
    except DomainError as err:
        _refused(err)
        raise


def _query(period: figures.Period, figures_scope: figures.Scope, **extra) -> str:
    values = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    if figures_scope.programme is not None:
        values["programme"] = figures_scope.programme.pk
    return urlencode(values | {k: v for k, v in extra.items() if v})


def _read(request):
    """(form, period or None, figures scope) of the query string. Another funder's programme
    answers 404 (report_scope_for), before any form is read."""
    programmes = list(selectors.programmes_visible_to(request.user).order_by("name", "id"))
    figures_scope = _figures_scope(request, request.GET.get("programme"))
    form = FiguresForm(
        request.GET or None,
        programmes=programmes,
        default=selectors.period_default(),
    )
    return form, form.period(), figures_scope


def _programme_rows(period, figures_scope) -> list[dict]:
    # The progress rows of report_build, read alone: the dashboard computes no other section
    # of the document.
    rows = selectors.programme_rows(period, figures_scope)
    detail = reverse("logistics:programme_detail", args=[2**31 - 1])
    for row in rows:
        row["url"] = detail.replace(str(2**31 - 1), str(row["id"]))
        row["starts"] = dt.date.fromisoformat(row["starts_on"])
        row["ends"] = dt.date.fromisoformat(row["ends_on"])
        row["to_date"] = display(row["handed_over_to_date"], "count")
        row["in_period"] = display(row["handed_over_in_period"], "count")
        row["target"] = display(row["target_devices"], "count")
        row["share"] = display(row["progress"], "rate")
        row["meter"] = min(100, round((row["progress"] or 0) * 100))
    return rows


def _impact_notes() -> dict:
    """The impact's assumptions and sources (inventory/data), as the dashboard states them."""
    names = {category.code: category.name for category in Category.objects.all()}
    sources = []
    for factor in factors().values():
        try:
            published = date_format(_month_of(factor.published_on + "-01"), "YEAR_MONTH_FORMAT")
        except ValueError:
            published = factor.published_on
        sources.append(
            {
                "device_type": names.get(factor.device_type, factor.device_type),
                "published": factor.published,
                "co2e": display(factor.per_year.get("co2e_kg"), "kg"),
                "materials": display(factor.per_year.get("materials_kg"), "kg"),
                "ewaste": display(factor.per_year.get("ewaste_kg"), "kg"),
                "source": factor.source,
                "published_on": published,
            }
        )
    return {
        "assumptions": [
            {
                "category": names.get(assumption.category, assumption.category),
                "years": number_format(assumption.extra_years.normalize()),
                "years_count": int(assumption.extra_years),
                "basis": assumption.basis,
            }
            for assumption in assumptions().values()
        ],
        "factors": sources,
    }


# The dashboard


@login_required
def fund_dashboard(request):
    """The figures of a period and scope: key figures, monthly charts with their data, one
    breakdown, the workshops, the programmes against their targets, the impact; and the
    downloads and (for the coordination) the issue of a frozen report."""
    scope = _reader(request)
    form, period, figures_scope = _read(request)
    today = timezone.localdate()
    here = request.path
    dimension = form.dimension()
    context = {
        "form": form,
        "period": period,
        "figures_scope": figures_scope,
        "dimension": dimension,
        "quick": [
            {
                "name": name,
                "period": quick,
                "url": f"{here}?{_query(quick, figures_scope, by=dimension)}",
                "current": quick == period,
            }
            for name, quick in quick_periods(today)
        ],
        "coordination": scope.sees_all,
        "may_issue": permissions.may_issue_fund_reports(scope),
        "reports_url": reverse("logistics:fund_report_list"),
    }
    if period is None:
        context["summary"] = [
            {"anchor": form[name].id_for_label, "label": form[name].label, "message": error}
            for name in form.fields
            for error in form.errors.get(name, [])
        ] + [{"anchor": "", "message": error} for error in form.non_field_errors()]
        return render(request, "fund_reports/dashboard.html", context, status=400)
    totals = figures.figures_totals(period, figures_scope)
    months = figures.figures_by_month(period, figures_scope)
    breakdown = figures.figures_by(period, figures_scope, dimension)
    workshops = figures.workshop_figures(period, figures_scope)
    query = _query(period, figures_scope)
    context.update(
        {
            "tiles": _tiles(totals),
            "charts": [
                {
                    "chart": chart,
                    "table": table_of(
                        months,
                        {
                            name: figures.METRICS[name]
                            for name in (
                                ("handed_over", "gifts", "loans")
                                if metric == "handed_over"
                                else (metric,)
                            )
                        },
                    ),
                }
                for metric in CHARTS
                if (chart := bar_chart(months, metric)) is not None
            ],
            "dimension_label": figures.DIMENSIONS[dimension],
            "dimensions": [
                {
                    "name": name,
                    "label": label,
                    "url": f"{here}?{_query(period, figures_scope, by=name)}#breakdown",
                    "current": name == dimension,
                }
                for name, label in figures.DIMENSIONS.items()
            ],
            "breakdown": table_of(breakdown, figures.METRICS),
            "workshops": table_of(workshops, figures.WORKSHOP_METRICS),
            "programmes": _programme_rows(period, figures_scope),
            "impact": {
                "co2e": display(totals.get("co2e_kg"), "kg"),
                "materials": display(totals.get("materials_kg"), "kg"),
                "ewaste": display(totals.get("ewaste_kg"), "kg"),
                "not_estimated": totals.get("impact_not_estimated") or 0,
                **_impact_notes(),
            },
            "definitions": figures.DEFINITIONS,
            "downloads": [
                {
                    "kind": kind,
                    "label": label,
                    "url": f"{reverse(f'logistics:fund_export_{kind}')}?{query}",
                }
                for kind, (_type, label) in FILES.items()
            ],
            "issue_token": uuid.uuid4().hex,
        }
    )
    return render(request, "fund_reports/dashboard.html", context)


def _filename(period: figures.Period, figures_scope: figures.Scope, kind: str) -> str:
    scope = f"-{figures_scope.programme.reference}" if figures_scope.programme else ""
    return f"reemploi-fonds-{period.start.isoformat()}-{period.end.isoformat()}{scope}.{kind}"


def _attachment(content: bytes, kind: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=FILES[kind][0])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _export(request, kind: str) -> HttpResponse:
    _reader(request)
    form, period, figures_scope = _read(request)
    if period is None:
        # The dashboard shows the same query's mistakes on their fields.
        return redirect(f"{reverse('logistics:fund_dashboard')}?{request.GET.urlencode()}")
    document = selectors.report_build(period, figures_scope)
    if kind == "pdf":
        from logistics.fund_reports.pdf import report_pdf

        content = report_pdf(document)
    elif kind == "csv":
        from logistics.fund_reports.exports import report_csv

        content = report_csv(document)
    else:
        from logistics.fund_reports.exports import report_xlsx

        content = report_xlsx(document)
    return _attachment(content, kind, _filename(period, figures_scope, kind))


@login_required
@require_GET
def fund_export_pdf(request):
    return _export(request, "pdf")


@login_required
@require_GET
def fund_export_csv(request):
    return _export(request, "csv")


@login_required
@require_GET
def fund_export_xlsx(request):
    return _export(request, "xlsx")


# Frozen reports


def _scope_label(report: FundReport) -> str:
    if report.programme_id is None:
        return _("The whole network")
    return f"{report.programme.name} · {report.programme.funder.name}"


@login_required
@require_POST
def fund_report_issue(request):
    """Freeze the figures of the period and scope shown: the coordination's button on the
    dashboard. A second click of the same button finds the report the first one issued."""
    scope = _reader(request)
    require_screen(
        permissions.may_issue_fund_reports(scope),
        _("Only the coordination issues the fund's reports."),
    )
    form = IssueForm(request.POST)
    back = reverse("logistics:fund_dashboard")
    posted = {k: request.POST.get(k, "")[:40] for k in ("start", "end", "programme")}
    back_with_query = f"{back}?{urlencode({k: v for k, v in posted.items() if v})}"
    if not form.is_valid():
        messages.error(
            request, _("The report was not issued: choose a valid period on the dashboard.")
        )
        return redirect(back_with_query)
    data = form.cleaned_data
    figures_scope = _figures_scope(request, data["programme"])
    period = figures.Period(data["start"], data["end"])
    try:
        report, earlier = record_once(
            user=request.user,
            name="fund-report",
            token=data["token"] or uuid.uuid4().hex,
            create=lambda: services.report_issue(
                actor=request.user, period=period, scope=figures_scope
            ),
        )
    except DomainError as err:
        _refused(err)
        messages.error(request, err.message)
        return redirect(back_with_query)
    if earlier:
        messages.info(request, _("This report was already issued: here it is."))
        return redirect("logistics:fund_report_detail", pk=earlier)
    messages.success(
        request,
        _("%(reference)s issued: its figures and files are frozen.")
        % {"reference": report.reference},
    )
    return redirect("logistics:fund_report_detail", pk=report.pk)


@login_required
def fund_report_list(request):
    """The issued reports the user may read, newest first."""
    scope = _reader(request)
    page = page_of(request, selectors.reports_visible_to(request.user), size=PAGE_SIZE)
    detail = reverse("logistics:fund_report_detail", args=[2**31 - 1])
    for report in page.object_list:
        report.url = detail.replace(str(2**31 - 1), str(report.pk))
        report.code = verification_code_display(report.verification_code)
        report.scope_label = _scope_label(report)
    return render(
        request,
        "fund_reports/report_list.html",
        {
            "page": page,
            "may_issue": permissions.may_issue_fund_reports(scope),
            "dashboard_url": reverse("logistics:fund_dashboard"),
        },
    )


def _visible_report(request, pk: int) -> FundReport:
    # Another funder's programme report is answered exactly like a missing one.
    report = selectors.reports_visible_to(request.user).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


def _changes(report: FundReport, user, scope: Scope) -> list[dict]:
    kinds = {
        name: meta.get("kind", "count")
        for name, meta in (
            report.figures.get("metrics", {}) | report.figures.get("workshop_metrics", {})
        ).items()
    }
    # A network report's programme breakdown names every programme (it is computed for the
    # coordination): a fund's reader is shown the changes of its own programmes only.
    visible = None
    if not scope.sees_all:
        visible = {
            str(pk) for pk in selectors.programmes_visible_to(user).values_list("pk", flat=True)
        }
    rows = []
    for change in services.report_changes(report):
        key = str(change["key"])
        if (
            change["section"] == "programme"
            and visible is not None
            and key.isdigit()
            and key not in visible
        ):
            continue
        kind = kinds.get(change["metric"], "count")
        section = change["section"]
        rows.append(
            {
                "section": SECTIONS.get(section, section),
                "label": change["label"] if section != "totals" else "",
                "metric": change["metric_label"],
                "frozen": display(change["frozen"], kind),
                "now": display(change["now"], kind),
            }
        )
    return rows


@login_required
def fund_report_detail(request, pk: int):
    """One issued report: what it covers, its code and fingerprints, its stored files, and
    what changed in the same period's figures since it was issued."""
    scope = _reader(request)
    report = _visible_report(request, pk)
    files = []
    for kind, (_type, label) in FILES.items():
        name = getattr(report, f"{kind}_file")
        files.append(
            {
                "kind": kind,
                "label": label,
                "sha256": getattr(report, f"{kind}_sha256"),
                "present": bool(name) and default_storage.exists(name),
                "url": reverse(f"logistics:fund_report_{kind}", args=[report.pk]),
            }
        )
    return render(
        request,
        "fund_reports/report_detail.html",
        {
            "report": report,
            "scope_label": _scope_label(report),
            "code": verification_code_display(report.verification_code),
            "files": files,
            "changes": _changes(report, request.user, scope),
            "coordination": scope.sees_all,
            "figures_url": f"{reverse('logistics:fund_dashboard')}?"
            + _query(
                figures.Period(report.period_start, report.period_end),
                figures.Scope(programme=report.programme),
            ),
        },
    )


def _report_file(request, pk: int, kind: str) -> HttpResponse:
    _reader(request)
    report = _visible_report(request, pk)
    content = services.report_file(report, kind)
    if content is None:
        return render(
            request,
            "fund_reports/file_missing.html",
            {"report": report, "label": FILES[kind][1]},
            status=404,
        )
    filename = (
        f"{report.reference}-{report.period_start.isoformat()}-"
        f"{report.period_end.isoformat()}.{kind}"
    )
    return _attachment(content, kind, filename)


@login_required
@require_GET
def fund_report_pdf(request, pk: int):
    return _report_file(request, pk, "pdf")


@login_required
@require_GET
def fund_report_csv(request, pk: int):
    return _report_file(request, pk, "csv")


@login_required
@require_GET
def fund_report_xlsx(request, pk: int):
    return _report_file(request, pk, "xlsx")


# The public check


@require_GET
def fund_report_verify(request):
    """Public: the form; a submitted code goes to its own address."""
    raw = request.GET.get("code", "").strip()
    if raw:
        code = verification_code_normalize(raw)
        if code is not None:
            return redirect("logistics:fund_report_verify_code", code=code)
        return render(
            request,
            "fund_reports/verify.html",
            {"code": raw[:CODE_SHOWN], "not_found": True, "malformed": True},
            status=404,
        )
    return render(request, "fund_reports/verify.html", {})


@require_GET
def fund_report_verify_code(request, code: str):
    """Public: what the report itself shows of its period, scope and fingerprints, and nothing
    more (no person's name)."""
    canonical = verification_code_normalize(code)
    report = None
    if canonical is not None:
        report = (
            FundReport.objects.select_related("programme__funder")
            .filter(verification_code=canonical)
            .first()
        )
    if report is None:
        return render(
            request,
            "fund_reports/verify.html",
            {"code": code[:CODE_SHOWN], "not_found": True, "malformed": canonical is None},
            status=404,
        )
    return render(
        request,
        "fund_reports/verify.html",
        {
            "report": report,
            "scope_label": _scope_label(report),
            "code": verification_code_display(report.verification_code),
            "fingerprints": [
                (FundReport._meta.get_field(name).verbose_name, getattr(report, name))
                for name in ("figures_sha256", "pdf_sha256", "csv_sha256", "xlsx_sha256")
            ],
        },
    )
