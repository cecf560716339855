"""Reads of the fund's reports, scoped: the coordination reads every programme and report; a
fund's readers the network's figures and their own programmes and reports; nobody else any.
`report_build` gathers every figure of a period and scope into one JSON document: the
dashboard's exports, the API and the frozen reports all read that document."""

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.errors import DomainError
from inventory.impact import assumptions, factors
from inventory.models import Category
from inventory.selectors import user_scope
from inventory.states import OrgKind
from logistics import permissions
from logistics.fund_reports import figures
from logistics.models import FundingProgramme, FundReport, HandOverItem

DOCUMENT_VERSION = 1


def programmes_visible_to(user) -> QuerySet[FundingProgramme]:
    scope = user_scope(user)
    programmes = FundingProgramme.objects.select_related("funder")
    if scope.sees_all:
        return programmes
    if scope.kind == OrgKind.FUND and scope.organisation is not None:
        return programmes.filter(funder=scope.organisation)
    return programmes.none()


def reports_visible_to(user) -> QuerySet[FundReport]:
    scope = user_scope(user)
    reports = FundReport.objects.select_related("programme__funder")
    if scope.sees_all:
        return reports
    if scope.kind == OrgKind.FUND and scope.organisation is not None:
        return reports.filter(Q(programme__isnull=True) | Q(programme__funder=scope.organisation))
    return reports.none()


def report_scope_for(user, programme_id=None) -> figures.Scope:
    """The scope a user reads: the network, or one programme they may see (another's → 404)."""
    scope = user_scope(user)
    if not permissions.may_read_fund_reports(scope):
        raise DomainError(
            "action_forbidden",
            _("The fund's reports are for the coordination and the funds."),
            status=403,
        )
    visible = None
    if not scope.sees_all:
        visible = frozenset(programmes_visible_to(user).values_list("pk", flat=True))
    programme = None
    if programme_id not in (None, ""):
        try:
            programme = programmes_visible_to(user).filter(pk=int(programme_id)).first()
        except (TypeError, ValueError, OverflowError):
            programme = None
        if programme is None:
            raise DomainError("not_found", _("No such programme."), status=404)
    return figures.Scope(programme=programme, visible_programmes=visible)


def programme_rows(period: figures.Period, scope: figures.Scope) -> list[dict]:
    """The programmes the scope names (one, or those visible) that overlap the period, with
    their devices handed over in the period and since they started, against their target."""
    programmes = FundingProgramme.objects.select_related("funder").filter(
        starts_on__lte=period.end, ends_on__gte=period.start
    )
    if scope.programme is not None:
        programmes = programmes.filter(pk=scope.programme.pk)
    elif scope.visible_programmes is not None:
        programmes = programmes.filter(pk__in=scope.visible_programmes)
    programmes = list(programmes.order_by("starts_on", "name", "id"))
    start, end = period.bounds()
    counts = {
        row["allocation__programme_id"]: row
        for row in HandOverItem.objects.filter(
            allocation__programme_id__in=[p.pk for p in programmes],
            hand_over__handed_at__lt=end,
        )
        .values("allocation__programme_id")
        .annotate(
            in_period=Count("id", filter=Q(hand_over__handed_at__gte=start)),
            to_date=Count("id"),
        )
        .order_by()
    }
    rows = []
    for programme in programmes:
        count = counts.get(programme.pk, {})
        to_date = count.get("to_date", 0)
        rows.append(
            {
                "id": programme.pk,
                "reference": programme.reference,
                "name": programme.name,
                "funder": programme.funder.name,
                "starts_on": programme.starts_on.isoformat(),
                "ends_on": programme.ends_on.isoformat(),
                "target_devices": programme.target_devices,
                "target_budget": (
                    str(programme.target_budget) if programme.target_budget is not None else None
                ),
                "handed_over_in_period": count.get("in_period", 0),
                "handed_over_to_date": to_date,
                "progress": (
                    round(to_date / programme.target_devices, 4)
                    if programme.target_devices
                    else None
                ),
            }
        )
    return rows


def _impact(period: figures.Period, scope: figures.Scope) -> dict:
    impact = figures.impact_lines(period, scope)
    names = {c.code: c.name for c in Category.objects.all()}
    known = assumptions()
    return {
        "lines": [
            {
                "category": line.category,
                "label": names.get(line.category, line.category),
                "devices": line.devices,
                "estimated": line.estimated,
                "extra_years": float(line.extra_years) if line.extra_years is not None else None,
                **{
                    measure: (float(value) if value is not None else None)
                    for measure, value in line.figures.items()
                },
            }
            for line in impact.lines
        ],
        "totals": {measure: float(value) for measure, value in impact.totals.items()},
        "devices_estimated": impact.devices_estimated,
        "devices_not_estimated": impact.devices_not_estimated,
        "factors": [
            {
                "device_type": factor.device_type,
                **{
                    measure: (float(value) if value is not None else None)
                    for measure, value in factor.per_year.items()
                },
                "status": factor.status,
                "source": factor.source,
                "published_on": factor.published_on,
            }
            for factor in factors().values()
        ],
        "assumptions": [
            {
                "category": assumption.category,
                "label": names.get(assumption.category, assumption.category),
                "device_type": assumption.device_type,
                "extra_years": float(assumption.extra_years),
                "basis": assumption.basis,
            }
            for assumption in known.values()
        ],
    }


def report_build(period: figures.Period, scope: figures.Scope) -> dict:
    """Every figure of the period and scope, as one JSON-ready document (labels in the active
    language). Organisations may be named (structures are counted by territory and type, never
    listed; workshops and funders are named); no person's name, e-mail or phone is read."""
    programme = scope.programme
    return {
        "version": DOCUMENT_VERSION,
        "period": period.as_dict(),
        "scope": {
            "programme": programme.pk if programme else None,
            "programme_name": programme.name if programme else None,
            "funder": programme.funder.name if programme else None,
        },
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "metrics": {
            key: {"label": str(label), "kind": kind}
            for key, (label, kind) in figures.METRICS.items()
        },
        "workshop_metrics": {
            key: {"label": str(label), "kind": kind}
            for key, (label, kind) in figures.WORKSHOP_METRICS.items()
        },
        "dimensions": {key: str(label) for key, label in figures.DIMENSIONS.items()},
        "totals": figures.figures_totals(period, scope),
        "months": figures.figures_by_month(period, scope),
        "breakdowns": {
            dimension: figures.figures_by(period, scope, dimension)
            for dimension in figures.DIMENSIONS
        },
        "workshops": figures.workshop_figures(period, scope),
        "impact": _impact(period, scope),
        "programmes": programme_rows(period, scope),
        "definitions": [str(text) for text in figures.DEFINITIONS],
    }


def period_default(today: dt.date | None = None) -> figures.Period:
    """The current year to date."""
    today = today or timezone.localdate()
    return figures.Period(dt.date(today.year, 1, 1), today)
