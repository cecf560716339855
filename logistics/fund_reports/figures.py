"""The fund's figures: a period, a scope, SQL aggregates.

Every figure is an aggregate query over the rows that record the event (a device registered,
a reconditioning cycle completed, a device that left as WEEE, a hand-over item, a need line, a
loan item), grouped by one dimension at a time: EPT, commune, structure type, category, public,
purpose, programme or month. Python only merges the grouped rows (a few dozen per dimension),
never a row per device. A figure that does not apply to a dimension (devices received by
public served: a device is nobody's until it is handed over) is None, shown as "—".

Definitions (stated in every output with the figures, see DEFINITIONS):
- received: devices registered at intake in the period;
- reconditioned: reconditioning cycles that ended "ready" in the period;
- handed over, gifts, loans: hand-over items of the period (a device lent twice counts twice);
- recycled: devices that left as WEEE or for parts in the period;
- reuse rate: handed over ÷ (handed over + recycled);
- on loan, overdue: loaned devices still out at the period's end, and those past their due date;
- units asked, accepted, served: lines of the needs submitted in the period;
- structures equipped: structures that received at least one device in the period; structures
  that asked: those that submitted a need in the period;
- wait: days from the need's acceptance to the device's hand-over, median and 90th percentile
  (nearest rank) over the period's hand-overs;
- impact: the devices handed over in the period (each once), times the ADEME factor per year,
  times the assumed years of extra use (inventory.impact).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from inventory.impact import impact_of
from inventory.models import Category, Commune, Device, Reconditioning, Territory
from inventory.models.organisations import StructureType
from inventory.states import Status
from logistics.models import (
    FundingProgramme,
    HandOverItem,
    LoanItem,
    Mode,
    NeedLine,
    Public,
    Purpose,
)

DIMENSIONS = {
    "territory": _("EPT"),
    "commune": _("Commune"),
    "structure_type": _("Structure type"),
    "category": _("Category"),
    "public": _("Public served"),
    "purpose": _("Purpose"),
    "programme": _("Programme"),
}

# metric → (label, kind): kind is "count", "rate" (0..1), "days" or "kg".
METRICS = {
    "received": (_("Devices received"), "count"),
    "reconditioned": (_("Devices reconditioned"), "count"),
    "handed_over": (_("Devices handed over"), "count"),
    "gifts": (_("Gifts"), "count"),
    "loans": (_("Loans"), "count"),
    "recycled": (_("Recycled or dismantled"), "count"),
    "reuse_rate": (_("Reuse rate"), "rate"),
    "on_loan": (_("On loan at the period's end"), "count"),
    "overdue": (_("Overdue at the period's end"), "count"),
    "units_asked": (_("Units asked"), "count"),
    "units_accepted": (_("Units accepted"), "count"),
    "units_served": (_("Units served"), "count"),
    "structures_asked": (_("Structures that asked"), "count"),
    "structures_equipped": (_("Structures equipped"), "count"),
    "wait_median_days": (_("Wait, median (days)"), "days"),
    "wait_p90_days": (_("Wait, 90th percentile (days)"), "days"),
    "co2e_kg": (_("CO₂e avoided (kg)"), "kg"),
    "materials_kg": (_("Raw materials avoided (kg)"), "kg"),
    "ewaste_kg": (_("E-waste avoided (kg)"), "kg"),
    "impact_not_estimated": (_("Devices without an impact estimate"), "count"),
}

WORKSHOP_METRICS = {
    "ready": (_("Made ready"), "count"),
    "recycled": (_("Recycled or dismantled"), "count"),
    "yield": (_("Yield (ready ÷ ready and recycled)"), "rate"),
    "turnaround_median_days": (_("Receipt to ready, median (days)"), "days"),
    "turnaround_p90_days": (_("Receipt to ready, 90th percentile (days)"), "days"),
    "in_progress": (_("In progress at the period's end"), "count"),
}

DEFINITIONS = (
    _("Received: devices registered at intake in the period."),
    _("Reconditioned: reconditioning cycles that ended “ready” in the period."),
    _(
        "Handed over: devices given or lent in the period, as gifts and loans; a device lent "
        "twice counts twice."
    ),
    _("Recycled or dismantled: devices that left as WEEE or for parts in the period."),
    _("Reuse rate: handed over ÷ (handed over + recycled or dismantled)."),
    _(
        "On loan and overdue: lent devices still out at the period's end, and those of them "
        "past their due date."
    ),
    _("Units asked, accepted and served: the lines of the needs submitted in the period."),
    _(
        "Structures equipped: structures that received at least one device in the period, "
        "out of the structures that submitted a need in it."
    ),
    _(
        "Wait: days from the need's acceptance to the device's hand-over, median and 90th "
        "percentile (nearest rank)."
    ),
    _(
        "Turnaround: days from a workshop's receipt of a device to “ready”; yield: ready ÷ "
        "(ready + recycled or dismantled) at the bench."
    ),
    _(
        "Impact: each device handed over in the period counts once, times the ADEME factor per "
        "year of use, times the assumed years of extra use of its category. Categories "
        "without a published absolute figure are not estimated; a figure the source does not "
        "publish for a category (a smartphone's e-waste) is left out of that total."
    ),
)

EXIT_STATUSES = (Status.RECYCLED, Status.DISMANTLED)
BENCH_EXITS = ("recycle", "dismantle")
OTHER_PROGRAMMES = "other"
NO_PROGRAMME = "none"
ALL = "all"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, day after end) as aware datetimes of the site's time zone."""
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end

    def months(self) -> list[dt.date]:
        month, months = self.start.replace(day=1), []
        while month <= self.end:
            months.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return months

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Scope:
    """What the figures cover: the whole network or one programme. `visible_programmes` is
    None for the coordination (every programme named), else the reader's own programmes: the
    others are merged into one row of the programme breakdown."""

    programme: FundingProgramme | None = None
    visible_programmes: frozenset[int] | None = None

    @property
    def programme_id(self) -> int | None:
        return self.programme.pk if self.programme else None


class DaysBetween(Func):
    """(end - start) in days, as a float, on PostgreSQL and on SQLite."""

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler, connection, **extra):  # SQLite, and any other back-end
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"(julianday({end}) - julianday({start}))", (*end_params, *start_params)

    def as_postgresql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)", (*end_params, *start_params)


# --- the sources: each one's rows in the period and the path of each dimension -------------


def _month(path: str, period: "Period"):
    """The row's month as "YYYY-MM", by comparing its date with the period's month
    boundaries (aware, in the site's time zone): a plain range test that an index-only scan
    answers, where truncating each row's date in the time zone costs a function per row."""
    tz = timezone.get_current_timezone()
    whens = []
    for month in period.months()[1:]:
        boundary = dt.datetime.combine(month, dt.time.min, tzinfo=tz)
        previous = (month - dt.timedelta(days=1)).strftime("%Y-%m")
        whens.append(When(**{f"{path}__lt": boundary}, then=Value(previous)))
    last = period.months()[-1].strftime("%Y-%m")
    if not whens:
        return Value(last, output_field=CharField())
    return Case(*whens, default=Value(last), output_field=CharField())


# The category of a device handed over, as the hand-over recorded it (its snapshot): the
# figures read it from the item, without joining a million devices for one column.
HANDED_CATEGORY = KeyTextTransform("category", "snapshot")


def _structure_paths(prefix: str) -> dict:
    return {
        "territory": f"{prefix}commune__territory_id",
        "commune": f"{prefix}commune_id",
        "structure_type": f"{prefix}structure_type",
    }


HANDED_PATHS = {
    **_structure_paths("allocation__structure__"),
    "category": HANDED_CATEGORY,
    "public": "allocation__need_line__need__public",
    "purpose": "allocation__need_line__need__purpose",
    "programme": "allocation__programme_id",
    "month": "hand_over__handed_at",
}
NEED_PATHS = {
    **_structure_paths("need__structure__"),
    "category": "category_id",
    "public": "need__public",
    "purpose": "need__purpose",
    "month": "need__submitted_at",
}
LOAN_PATHS = {**_structure_paths("loan__structure__"), "category": "device__category_id"}
RECEIVED_PATHS = {"category": "category_id", "month": "created_at"}
RECONDITIONED_PATHS = {"category": "device__category_id", "month": "completed_at"}
RECYCLED_PATHS = {"category": "category_id", "month": "status_changed_at"}


def _key_expression(paths: dict, dimension: str | None, scope: Scope, period: Period):
    """The GROUP BY expression of a source for a dimension; None if it does not apply."""
    if dimension is None:
        return Value(ALL)
    if dimension not in paths:
        return None
    path = paths[dimension]
    if not isinstance(path, str):
        return path
    if dimension == "month":
        return _month(path, period)
    if dimension == "programme":
        # "none" for allocations without a programme; a fund's reader sees its own
        # programmes by name and the others' as one row.
        named = Cast(path, output_field=CharField())
        if scope.visible_programmes is None:
            return Coalesce(named, Value(NO_PROGRAMME), output_field=CharField())
        return Case(
            When(**{f"{path}__isnull": True}, then=Value(NO_PROGRAMME)),
            When(**{f"{path}__in": sorted(scope.visible_programmes)}, then=named),
            default=Value(OTHER_PROGRAMMES),
            output_field=CharField(),
        )
    return F(path)


def _key(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return str(value)


def _grouped(queryset, key, **aggregates) -> dict[str, dict]:
    """{key: {aggregate: value}} for a queryset grouped by one expression."""
    if key is None:
        return {}
    if isinstance(key, Value) and key.value == ALL:
        return {ALL: queryset.aggregate(**aggregates)}
    rows = queryset.annotate(_k=key).values("_k").annotate(**aggregates).order_by()
    merged: dict[str, dict] = {}
    for row in rows:
        k = _key(row.pop("_k"))
        if k in merged:  # two raw keys mapped to one (a NULL and an empty value)
            for name, value in row.items():
                merged[k][name] = (merged[k][name] or 0) + (value or 0)
        else:
            merged[k] = row
    return merged


def _percentiles(
    queryset, key, value, percents: Iterable[int], *, month: bool = False
) -> dict[str, dict[int, float]]:
    """{key: {percent: value}}: nearest-rank percentiles per group, in SQL (window functions,
    on PostgreSQL and SQLite alike), without reading the rows into Python."""
    if key is None:
        return {}
    inner = (
        queryset.annotate(_k=key, _v=value)
        .filter(_v__isnull=False)
        .values("_k", "_v")
        .order_by()  # the model's default order would sort every row for nothing
    )
    sql, params = inner.query.sql_with_params()
    percents = list(percents)
    if connection.vendor == "postgresql":
        # The same nearest rank as below, by PostgreSQL's ordered-set aggregate (a third of
        # the time at a million rows); the epsilon keeps p·n from rounding up one rank.
        fractions = ", ".join(f"{int(p) / 100} - 1e-12" for p in percents)
        query = (
            f"SELECT s._k, percentile_disc(ARRAY[{fractions}]::float8[]) "  # noqa: S608
            f"WITHIN GROUP (ORDER BY s._v) FROM ({sql}) s GROUP BY s._k"
        )
        # The sort of a year's cycles (about 230,000 rows at a million devices) spills to
        # disk with the server's default 4 MB: this query alone may use more memory.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(query, params)
            rows = [(row[0], *row[1]) for row in cursor.fetchall()]
        return _percentile_rows(rows, percents, month=month)
    picks = ", ".join(f"MIN(CASE WHEN rn * 100 >= {int(p)} * n THEN v END)" for p in percents)
    # Built from the ORM's own compiled SQL (its values stay parameters) and integer percents.
    query = (
        f"SELECT k, {picks} FROM (SELECT s._k AS k, s._v AS v, "  # noqa: S608
        "ROW_NUMBER() OVER (PARTITION BY s._k ORDER BY s._v) AS rn, "
        "COUNT(*) OVER (PARTITION BY s._k) AS n "
        f"FROM ({sql}) s) t GROUP BY k"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return _percentile_rows(rows, percents, month=month)


def _percentile_rows(rows, percents: list[int], *, month: bool) -> dict[str, dict[int, float]]:
    result = {}
    for row in rows:
        raw = row[0]
        if (
            isinstance(raw, str)
            and connection.vendor == "sqlite"
            and len(raw) >= 10
            and raw[4] == "-"
        ):
            raw = raw[:7]  # a truncated month comes back as text from SQLite
        result[_key(raw) if not isinstance(raw, str) else raw] = {
            p: (round(float(v), 1) if v is not None else None)
            for p, v in zip(percents, row[1:], strict=True)
        }
    return result


# --- each source's figures -----------------------------------------------------------------


def _handed_items(period: Period, scope: Scope):
    start, end = period.bounds()
    items = HandOverItem.objects.filter(
        hand_over__handed_at__gte=start, hand_over__handed_at__lt=end
    )
    if scope.programme_id is not None:
        items = items.filter(allocation__programme_id=scope.programme_id)
    return items


def _need_lines(period: Period, scope: Scope):
    start, end = period.bounds()
    lines = NeedLine.objects.filter(need__submitted_at__gte=start, need__submitted_at__lt=end)
    if scope.programme is not None:
        # The needs the programme's criteria cover, submitted while it ran.
        lines = lines.filter(
            programme_needs_q(scope.programme, prefix="need__"),
            need__submitted_at__date__gte=scope.programme.starts_on,
            need__submitted_at__date__lte=scope.programme.ends_on,
        )
    return lines


def programme_needs_q(programme: FundingProgramme, *, prefix: str = "") -> Q:
    """The needs a programme's criteria cover (any criterion left empty covers all)."""
    q = Q()
    if programme.territories:
        q &= Q(**{f"{prefix}structure__commune__territory_id__in": programme.territories})
    if programme.structure_types:
        q &= Q(**{f"{prefix}structure__structure_type__in": programme.structure_types})
    if programme.publics:
        q &= Q(**{f"{prefix}public__in": programme.publics})
    if programme.purposes:
        q &= Q(**{f"{prefix}purpose__in": programme.purposes})
    return q


def _loan_items(period: Period, scope: Scope):
    _start, end = period.bounds()
    items = LoanItem.objects.filter(loan__started_on__lte=period.end).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=end)
    )
    if scope.programme_id is not None:
        items = items.filter(
            Exists(
                HandOverItem.objects.filter(
                    hand_over_id=OuterRef("loan__hand_over_id"),
                    device_id=OuterRef("device_id"),
                    allocation__programme_id=scope.programme_id,
                )
            )
        )
    return items


def _overdue_on(period: Period) -> dt.date:
    """Overdue at the period's end, or today for a period still running."""
    return min(period.end, timezone.localdate())


def _figures(period: Period, scope: Scope, dimension: str | None) -> dict[str, dict]:
    """{key: {metric: value}} for one dimension (None: the totals)."""
    rows: dict[str, dict] = defaultdict(dict)
    network = scope.programme_id is None

    def put(grouped: dict[str, dict]) -> None:
        for k, values in grouped.items():
            rows[k].update(values)

    start, end = period.bounds()
    if network:
        put(
            _grouped(
                Device.objects.filter(created_at__gte=start, created_at__lt=end),
                _key_expression(RECEIVED_PATHS, dimension, scope, period),
                received=Count("*"),
            )
        )
        put(
            _grouped(
                Reconditioning.objects.filter(
                    completed_at__gte=start, completed_at__lt=end, outcome="mark_ready"
                ),
                _key_expression(RECONDITIONED_PATHS, dimension, scope, period),
                reconditioned=Count("*"),
            )
        )
        put(
            _grouped(
                Device.objects.filter(
                    status__in=EXIT_STATUSES,
                    status_changed_at__gte=start,
                    status_changed_at__lt=end,
                ),
                _key_expression(RECYCLED_PATHS, dimension, scope, period),
                recycled=Count("*"),
            )
        )
    items = _handed_items(period, scope)
    handed_key = _key_expression(HANDED_PATHS, dimension, scope, period)
    put(
        _grouped(
            items,
            handed_key,
            handed_over=Count("id"),
            gifts=Count("id", filter=Q(mode=Mode.GIFT)),
            loans=Count("id", filter=Q(mode=Mode.LOAN)),
            structures_equipped=Count("allocation__structure_id", distinct=True),
        )
    )
    waits = _percentiles(
        items,
        handed_key,
        DaysBetween(F("hand_over__handed_at"), F("allocation__need_line__need__decided_at")),
        (50, 90),
        month=dimension == "month",
    )
    for k, values in waits.items():
        rows[k]["wait_median_days"] = values[50]
        rows[k]["wait_p90_days"] = values[90]
    # Impact: the devices handed over, each once, per category within each key.
    if handed_key is not None:
        per_category: dict[str, dict[str, int]] = defaultdict(dict)
        by_key = items.annotate(_c=HANDED_CATEGORY)
        if not isinstance(handed_key, Value):
            by_key = by_key.annotate(_k=handed_key)
        fields = ["_c"] if isinstance(handed_key, Value) else ["_k", "_c"]
        grouped = (
            by_key.values(*fields).annotate(devices=Count("device_id", distinct=True)).order_by()
        )
        for row in grouped:
            k = _key(row.get("_k")) if "_k" in row else ALL
            per_category[k][row["_c"]] = row["devices"]
        for k, counts in per_category.items():
            impact = impact_of(counts)
            for measure, total in impact.totals.items():
                rows[k][measure] = float(total)
            rows[k]["impact_not_estimated"] = impact.devices_not_estimated
    if dimension != "month":
        put(
            _grouped(
                _loan_items(period, scope),
                _key_expression(LOAN_PATHS, dimension, scope, period),
                on_loan=Count("id"),
                overdue=Count("id", filter=Q(loan__due_on__lt=_overdue_on(period))),
            )
        )
    if dimension != "programme":
        put(
            _grouped(
                _need_lines(period, scope),
                _key_expression(NEED_PATHS, dimension, scope, period),
                units_asked=Coalesce(Sum("quantity"), 0),
                units_accepted=Coalesce(Sum("quantity_accepted"), 0),
                units_served=Coalesce(Sum("quantity_served"), 0),
                structures_asked=Count("need__structure_id", distinct=True),
            )
        )
    # Fill: zeros where a source applies and found nothing, None where it does not apply.
    applies = _applicable(dimension, network)
    for values in rows.values():
        for metric in METRICS:
            if metric not in applies:
                values[metric] = None
            elif metric not in values or values[metric] is None:
                values[metric] = None if metric.startswith("wait_") else 0
        handed, recycled = values["handed_over"], values["recycled"]
        values["reuse_rate"] = (
            round(handed / (handed + recycled), 4)
            if handed is not None and recycled is not None and handed + recycled
            else None
        )
    return rows


def _applicable(dimension: str | None, network: bool) -> set[str]:
    metrics = set(METRICS)
    device_flow = {"received", "reconditioned", "recycled", "reuse_rate"}
    if not network or dimension not in (None, "category", "month"):
        metrics -= device_flow
    if dimension == "month":
        metrics -= {"on_loan", "overdue"}
    if dimension == "programme":
        metrics -= {"units_asked", "units_accepted", "units_served", "structures_asked"}
    if dimension in ("public", "purpose", "programme"):
        metrics -= {"on_loan", "overdue"}
    return metrics


# --- labels --------------------------------------------------------------------------------


def _labels(dimension: str, keys: Iterable[str], scope: Scope | None = None) -> dict[str, str]:
    keys = [k for k in keys if k]
    if dimension == "territory":
        return dict(Territory.objects.filter(code__in=keys).values_list("code", "name"))
    if dimension == "commune":
        return dict(Commune.objects.filter(insee_code__in=keys).values_list("insee_code", "name"))
    if dimension == "structure_type":
        return {k: str(StructureType(k).label) for k in keys if k in StructureType.values}
    if dimension == "category":
        return {c.code: c.name for c in Category.objects.filter(code__in=keys)}
    if dimension == "public":
        return {k: str(Public(k).label) for k in keys if k in Public.values}
    if dimension == "purpose":
        return {k: str(Purpose(k).label) for k in keys if k in Purpose.values}
    if dimension == "programme":
        ids = [int(k) for k in keys if k.isdigit()]
        labels = {str(p.pk): p.name for p in FundingProgramme.objects.filter(pk__in=ids)}
        labels[OTHER_PROGRAMMES] = (
            str(_("Under a funding programme"))
            if scope is not None and scope.visible_programmes == frozenset()
            else str(_("Other funders' programmes"))
        )
        labels[NO_PROGRAMME] = str(_("No programme"))
        return labels
    return {}


def month_label(month: dt.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


# --- the public selectors ------------------------------------------------------------------


def figures_totals(period: Period, scope: Scope) -> dict:
    rows = _figures(period, scope, None)
    return rows.get(ALL) or _figures_empty(None, scope)


def _figures_empty(dimension, scope) -> dict:
    applies = _applicable(dimension, scope.programme_id is None)
    return {
        metric: (0 if metric in applies and not metric.startswith("wait_") else None)
        for metric in METRICS
        if metric != "reuse_rate"
    } | {"reuse_rate": None}


def figures_by_month(period: Period, scope: Scope) -> list[dict]:
    rows = _figures(period, scope, "month")
    result = []
    for month in period.months():
        k = month.strftime("%Y-%m")
        values = rows.get(k) or _figures_empty("month", scope)
        result.append({"key": k, "label": month_label(month), **values})
    return result


def figures_by(period: Period, scope: Scope, dimension: str) -> list[dict]:
    """One row per value of the dimension met in the period, in label order; a value that no
    row names (a structure without a commune) is the row "not recorded"."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    rows = _figures(period, scope, dimension)
    labels = _labels(dimension, rows, scope)
    result = [
        {"key": k, "label": labels.get(k) or str(_("Not recorded")), **values}
        for k, values in rows.items()
    ]
    return sorted(
        result, key=lambda row: (row["key"] in ("", OTHER_PROGRAMMES, NO_PROGRAMME), row["label"])
    )


def workshop_figures(period: Period, scope: Scope) -> list[dict]:
    """Per workshop: cycles ended ready or recycled in the period, yield, turnaround from
    receipt to ready, cycles open at the period's end. Network scope only (a workshop's
    work is not attributed to a programme)."""
    if scope.programme_id is not None:
        return []
    start, end = period.bounds()
    ended = Reconditioning.objects.filter(completed_at__gte=start, completed_at__lt=end)
    key = F("workshop_id")
    rows: dict[str, dict] = defaultdict(dict)
    for k, values in _grouped(
        ended,
        key,
        ready=Count("id", filter=Q(outcome="mark_ready")),
        recycled=Count("id", filter=Q(outcome__in=BENCH_EXITS)),
    ).items():
        rows[k].update(values)
    turnaround = _percentiles(
        ended.filter(outcome="mark_ready"),
        key,
        DaysBetween(F("completed_at"), Coalesce(F("received_at"), F("started_at"))),
        (50, 90),
    )
    for k, values in turnaround.items():
        rows[k]["turnaround_median_days"] = values[50]
        rows[k]["turnaround_p90_days"] = values[90]
    open_at_end = Reconditioning.objects.filter(started_at__lt=end).filter(
        Q(completed_at__isnull=True) | Q(completed_at__gte=end)
    )
    for k, values in _grouped(open_at_end, key, in_progress=Count("id")).items():
        rows[k].update(values)
    names = dict(
        Reconditioning.workshop.field.related_model.objects.filter(
            pk__in=[int(k) for k in rows if k.isdigit()]
        ).values_list("pk", "name")
    )
    result = []
    for k, values in rows.items():
        ready, recycled = values.get("ready", 0), values.get("recycled", 0)
        result.append(
            {
                "key": k,
                "label": names.get(int(k)) if k.isdigit() else str(_("Workshop not recorded")),
                "ready": ready,
                "recycled": recycled,
                "yield": round(ready / (ready + recycled), 4) if ready + recycled else None,
                "turnaround_median_days": values.get("turnaround_median_days"),
                "turnaround_p90_days": values.get("turnaround_p90_days"),
                "in_progress": values.get("in_progress", 0),
            }
        )
    return sorted(result, key=lambda row: row["label"] or "")


@dataclass
class Dashboard:
    period: Period
    scope: Scope
    totals: dict
    months: list[dict]
    dimension: str
    breakdown: list[dict]
    workshops: list[dict] = field(default_factory=list)


def impact_lines(period: Period, scope: Scope):
    """The impact of the devices handed over in the period, each once, by category."""
    counts = dict(
        _handed_items(period, scope)
        .annotate(_c=HANDED_CATEGORY)
        .values_list("_c")
        .annotate(devices=Count("device_id", distinct=True))
        .order_by()
    )
    return impact_of(counts)
