"""A fund report drawn as an A4 landscape PDF, from the document of `report_build` only.

Same fonts, styles, page template and footer as the donation's documents
(inventory.documents.pdf): key figures, the months as charts (each followed by its figures),
one table per breakdown, the workshops, the impact with its factors and assumptions, and the
definitions. A figure that does not apply is "—", never 0. The document names no person.
"""

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, TableStyle

from inventory.documents.pdf import (
    _STYLES,
    BODY_PT,
    MARGIN_MM,
    _build,
    _day,
    _draw_footer,
    _facts,
    _heading,
    _m,
    _p,
    _when,
)
from inventory.pdf import MUTED, SANS, clean_text, data_table
from logistics.fund_reports.exports import IMPACT_MEASURES, scope_label

PAGE = landscape(A4)
FRAME_PADDING_PT = 6  # platypus' frame pads its content on each side
# 268.8 mm: the page between the margins, less the frame's padding.
WIDTH_MM = (PAGE[0] - 2 * FRAME_PADDING_PT) / mm - 2 * MARGIN_MM
FACT_COLUMNS = (34, 100, 34, 100)
KEY_FIGURE_COLUMNS = (98, 36, 98, 36)
LABEL_MM = 58  # a breakdown table's first column; the figures share the rest
MAX_FIGURE_COLUMNS = 11
SERIES_LABEL_MM = 50  # a chart's figures: the series' names
MONTHS_PER_TABLE = 12
SWATCH_PT = 5  # a series' colour, as a thick rule before its name in the chart's figures
IMPACT_COLUMNS = (78, 30, 40, 40, 40, 40)
FACTOR_COLUMNS = (42, 38, 27, 27, 27, 107)
ASSUMPTION_COLUMNS = (62, 27, 179)
TEXT_GAP_PT = 10
PROGRAMME_COLUMNS = (66, 44, 40, 24, 24, 24, 22, 24)

# Charts (mm): the drawing's size, the plot inside it.
CHART_HEIGHT_MM = 66
PLOT = {"x": 20, "y": 14, "width": WIDTH_MM - 26, "height": 40}
CHART_FONT_PT = 7.5
# Okabe and Ito's palette: told apart by colour-blind readers, dark enough on white.
SERIES_COLOURS = {
    "received": colors.HexColor("#0072B2"),
    "reconditioned": colors.HexColor("#E69F00"),
    "handed_over": colors.HexColor("#009E73"),
    "gifts": colors.HexColor("#0072B2"),
    "loans": colors.HexColor("#D55E00"),
}
GRID = colors.HexColor("#d9dee3")
BULLET = ParagraphStyle("bullet", parent=_STYLES["body"], leftIndent=4 * mm, bulletIndent=0)

# The metrics by theme: a breakdown is two tables (the devices; the needs and the impact).
DEVICE_METRICS = (
    "received",
    "reconditioned",
    "recycled",
    "reuse_rate",
    "handed_over",
    "gifts",
    "loans",
    "on_loan",
    "overdue",
)
NEED_METRICS = (
    "units_asked",
    "units_accepted",
    "units_served",
    "structures_asked",
    "structures_equipped",
    "wait_median_days",
    "wait_p90_days",
)
IMPACT_METRICS = ("co2e_kg", "materials_kg", "ewaste_kg", "impact_not_estimated")


# Values ---------------------------------------------------------------------------------------


def _rounded(value, places: int) -> Decimal:
    # Django's number_format cuts extra decimals off (13.19 would show as 13,1): round first.
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _figure(value, kind: str) -> str:
    """A figure as the report shows it: "—" where it does not apply; rates as percentages;
    days, years and kilograms to one decimal place; a factor with all its decimals."""
    if value is None:
        return "—"
    if kind == "rate":
        percent = formats.number_format(_rounded(value * 100, 1), 1)
        return _("%(percent)s %%") % {"percent": percent}
    if kind in ("days", "years", "kg"):
        return formats.number_format(_rounded(value, 1), 1, force_grouping=True)
    if kind == "factor":
        return formats.number_format(Decimal(repr(value)), force_grouping=True)
    return formats.number_format(value, force_grouping=True)


def _period_text(document: dict) -> str:
    period = document["period"]
    return _("From %(start)s to %(end)s") % {
        "start": _day(dt.date.fromisoformat(period["start"])),
        "end": _day(dt.date.fromisoformat(period["end"])),
    }


def _generated_at(document: dict) -> str:
    try:
        return _when(dt.datetime.fromisoformat(document["generated_at"]))
    except (KeyError, TypeError, ValueError):
        return str(document.get("generated_at") or "")


def _groups(document: dict) -> list[tuple[str, ...]]:
    """The document's metrics in two themed groups; a metric this module does not know yet
    joins the second, so that no figure is left out."""
    known = set(DEVICE_METRICS) | set(NEED_METRICS) | set(IMPACT_METRICS)
    metrics = document["metrics"]
    devices = tuple(m for m in DEVICE_METRICS if m in metrics)
    others = tuple(m for m in NEED_METRICS + IMPACT_METRICS if m in metrics)
    others += tuple(m for m in metrics if m not in known)
    return [devices, others]


# Tables ---------------------------------------------------------------------------------------


def _head(text: str, numeric: bool = True):
    return _p(_m(text), "num_head" if numeric else "head")


def _cell(text: str, numeric: bool = True, bold: bool = False):
    markup = f"<b>{_m(text)}</b>" if bold else _m(text)
    return _p(markup, "num" if numeric else "cell")


def _figure_table(first: str, rows: list[dict], specs: dict, metrics: tuple[str, ...]):
    share = (WIDTH_MM - LABEL_MM) / max(len(metrics), 1)
    cells = [[_head(first, False)] + [_head(specs[m]["label"]) for m in metrics]]
    for row in rows:
        cells.append(
            [_cell(row.get("label") or "", False)]
            + [_cell(_figure(row.get(m), specs[m]["kind"])) for m in metrics]
        )
    return data_table(cells, (LABEL_MM, *([share] * len(metrics))))


def _breakdown(title: str, first: str, rows: list[dict], document: dict) -> list:
    """A heading, then a table per group of the metrics that apply to this breakdown (a
    metric that is None on every row does not apply: it is named in a note, not drawn). A
    table that fits on a page is not split; the heading stays with the first one."""
    heading = list(_heading(title))
    if not rows:
        return heading + [_p(_m(_("Nothing recorded in the period.")), "body")]
    specs = document["metrics"]
    blocks, left_out = [], []
    for group in _groups(document):
        applies = tuple(m for m in group if any(row.get(m) is not None for row in rows))
        left_out += [specs[m]["label"] for m in group if m not in applies]
        for start in range(0, len(applies), MAX_FIGURE_COLUMNS):
            columns = applies[start : start + MAX_FIGURE_COLUMNS]
            blocks.append([_figure_table(first, rows, specs, columns), Spacer(1, 2 * mm)])
    if left_out:
        note = _("Not applicable to this breakdown: %(figures)s.") % {
            "figures": ", ".join(left_out)
        }
        blocks[-1].append(_p(_m(note), "note"))
    blocks[0][:0] = heading[1:]
    return [heading[0]] + [KeepTogether(block) for block in blocks]


def _key_figures(document: dict) -> list:
    specs, totals = document["metrics"], document["totals"]
    devices, others = _groups(document)
    cells = [
        [
            _head(_("Devices"), False),
            "",
            _head(_("Needs, hand-overs and impact"), False),
            "",
        ]
    ]
    for index in range(max(len(devices), len(others))):
        row = []
        for group in (devices, others):
            if index < len(group):
                metric = group[index]
                row += [
                    _cell(specs[metric]["label"], False),
                    _cell(_figure(totals.get(metric), specs[metric]["kind"]), bold=True),
                ]
            else:
                row += ["", ""]
        cells.append(row)
    table = data_table(cells, KEY_FIGURE_COLUMNS)
    table.setStyle(TableStyle([("SPAN", (0, 0), (1, 0)), ("SPAN", (2, 0), (3, 0))]))
    return [table]


# Charts ---------------------------------------------------------------------------------------


def _month_short(key: str, first: bool) -> str:
    month = dt.date.fromisoformat(f"{key}-01")
    label = formats.date_format(month, "N")  # "juin", "juil.": "M" gives "Jui" for both
    if first or month.month == 1:
        return f"{label}\n{month.year}"
    return label


def _nice_step(top: float) -> float:
    """A step of 1, 2 or 5 × 10^n giving about five gridlines up to `top`."""
    if top <= 5:
        return 1
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _chart(document: dict, series: list[str], *, stacked: bool, axis_title: str) -> Drawing:
    specs, months = document["metrics"], document["months"]
    data = [[row.get(metric) or 0 for row in months] for metric in series]
    drawing = Drawing(WIDTH_MM * mm, CHART_HEIGHT_MM * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = PLOT["x"] * mm, PLOT["y"] * mm
    chart.width, chart.height = PLOT["width"] * mm, PLOT["height"] * mm
    chart.data = data
    chart.categoryAxis.categoryNames = [
        "\n".join(clean_text(part) for part in _month_short(row["key"], index == 0).split("\n"))
        for index, row in enumerate(months)
    ]
    chart.categoryAxis.labels.fontName = SANS
    chart.categoryAxis.labels.fontSize = CHART_FONT_PT
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.labels.dy = -2
    chart.categoryAxis.strokeColor = colors.black
    if stacked:
        chart.categoryAxis.style = "stacked"
        top = max((sum(values) for values in zip(*data, strict=True)), default=0)
    else:
        top = max((max(values, default=0) for values in data), default=0)
    step = _nice_step(top)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(step * math.ceil(top / step), step)
    chart.valueAxis.valueStep = step
    chart.valueAxis.labels.fontName = SANS
    chart.valueAxis.labels.fontSize = CHART_FONT_PT
    chart.valueAxis.labelTextFormat = lambda value: clean_text(
        formats.number_format(value, force_grouping=True)
    )
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.5
    chart.valueAxis.strokeColor = colors.black
    chart.barSpacing = 0.5
    chart.groupSpacing = 4 if len(months) <= 24 else 2
    for index, metric in enumerate(series):
        chart.bars[index].fillColor = SERIES_COLOURS.get(metric, MUTED)
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    title = String(
        0,
        0,
        clean_text(axis_title),
        fontName=SANS,
        fontSize=CHART_FONT_PT,
        fillColor=MUTED,
        textAnchor="middle",
    )
    # The value axis' title, turned to read upwards along it, left of its labels.
    turned = Group(title)
    turned.transform = (0, 1, -1, 0, 4 * mm, (PLOT["y"] + PLOT["height"] / 2) * mm)
    drawing.add(turned)
    legend = Legend()
    legend.x = PLOT["x"] * mm
    legend.y = CHART_HEIGHT_MM * mm - 2 * mm
    legend.boxAnchor = "nw"
    legend.columnMaximum = 1
    legend.alignment = "right"
    legend.fontName = SANS
    legend.fontSize = BODY_PT
    legend.dx = legend.dy = 8
    legend.dxTextSpace = 4
    legend.deltax = 10
    legend.autoXPadding = 14
    legend.strokeColor = None
    legend.colorNamePairs = [
        (SERIES_COLOURS.get(metric, MUTED), clean_text(specs[metric]["label"])) for metric in series
    ]
    drawing.add(legend)
    return drawing


def _chart_figures(document: dict, series: list[str]) -> list:
    """The chart's figures as a table: a row per series, a column per month (twelve to a
    table), the period's total last."""
    specs, months, totals = document["metrics"], document["months"], document["totals"]
    story = []
    chunks = [months[i : i + MONTHS_PER_TABLE] for i in range(0, len(months), MONTHS_PER_TABLE)]
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        columns = len(chunk) + (1 if last else 0)
        share = (WIDTH_MM - SERIES_LABEL_MM) / max(columns, MONTHS_PER_TABLE + 1)
        cells = [
            [_head(_("Month"), False)]
            + [
                _head(_month_short(row["key"], i == 0).replace("\n", " "))
                for i, row in enumerate(chunk)
            ]
            + ([_head(_("Total"))] if last else [])
        ]
        for metric in series:
            kind = specs[metric]["kind"]
            cells.append(
                [_cell(specs[metric]["label"], False)]
                + [_cell(_figure(row.get(metric), kind)) for row in chunk]
                + ([_cell(_figure(totals.get(metric), kind), bold=True)] if last else [])
            )
        table = data_table(cells, (SERIES_LABEL_MM, *([share] * columns)))
        table.setStyle(
            TableStyle(
                [
                    (
                        "LINEBEFORE",
                        (0, row),
                        (0, row),
                        SWATCH_PT,
                        SERIES_COLOURS.get(metric, MUTED),
                        0,  # butt ends: a block as tall as the row
                    )
                    for row, metric in enumerate(series, start=1)
                ]
            )
        )
        story += [table, Spacer(1, 2 * mm)]
    return story


def _charts(document: dict) -> list:
    story = list(_heading(_("Month by month")))
    specs, months = document["metrics"], document["months"]
    if not months:
        return story + [_p(_m(_("Nothing recorded in the period.")), "body")]

    def drawn(metrics: tuple[str, ...]) -> list[str]:
        # A series that does not apply to the scope (None every month) is left out.
        return [m for m in metrics if m in specs and any(row.get(m) is not None for row in months)]

    charts = [
        (
            drawn(("received", "reconditioned", "handed_over")),
            False,
            _("Devices per month"),
        ),
        (drawn(("gifts", "loans")), True, _("Hand-overs per month: gifts and loans")),
    ]
    for series, stacked, caption in charts:
        if not series:
            continue
        story.append(
            KeepTogether(
                [
                    _p(f"<b>{_m(caption)}</b>", "body"),
                    Spacer(1, 1 * mm),
                    _chart(document, series, stacked=stacked, axis_title=_("Devices")),
                    *_chart_figures(document, series),
                ]
            )
        )
        story.append(Spacer(1, 3 * mm))
    return story


# Sections -------------------------------------------------------------------------------------


def _programmes(document: dict) -> list:
    story = list(_heading(_("Programme targets"), 30))
    programmes = document["programmes"]
    if not programmes:
        return story + [_p(_m(_("No funding programme runs in the period.")), "body")]
    head = [
        _("Programme"),
        _("Funder"),
        _("Dates"),
        _("Target (devices)"),
        _("Handed over in the period"),
        _("Handed over since the start"),
        _("Progress towards the target"),
        _("Target budget (€)"),
    ]
    cells = [[_head(head[0], False), _head(head[1], False), _head(head[2], False)]]
    cells[0] += [_head(text) for text in head[3:]]
    for p in programmes:
        budget = p["target_budget"]
        cells.append(
            [
                _p(f"<b>{_m(p['name'])}</b><br/>{_m(p['reference'])}"),
                _cell(p["funder"], False),
                _cell(
                    _("%(start)s to %(end)s")
                    % {
                        "start": _day(dt.date.fromisoformat(p["starts_on"])),
                        "end": _day(dt.date.fromisoformat(p["ends_on"])),
                    },
                    False,
                ),
                _cell(_figure(p["target_devices"], "count")),
                _cell(_figure(p["handed_over_in_period"], "count")),
                _cell(_figure(p["handed_over_to_date"], "count")),
                _cell(_figure(p["progress"], "rate"), bold=True),
                _cell(formats.number_format(budget, 2, force_grouping=True) if budget else "—"),
            ]
        )
    return story + [data_table(cells, PROGRAMME_COLUMNS)]


def _workshops(document: dict) -> list:
    story = list(_heading(_("Workshops")))
    rows = document["workshops"]
    if not rows:
        story.append(
            _p(
                _m(
                    _(
                        "The workshops' figures cover the whole network only: a workshop's "
                        "work is not attributed to a programme."
                    )
                    if (document.get("scope") or {}).get("programme")
                    else _("Nothing recorded in the period.")
                ),
                "body",
            )
        )
        return story
    specs = document["workshop_metrics"]
    story.append(_figure_table(_("Workshop"), rows, specs, tuple(specs)))
    return story


def _text_after_figures(table, column: int):
    # Left-aligned text right after right-aligned figures: room between them.
    table.setStyle(TableStyle([("LEFTPADDING", (column, 0), (column, -1), TEXT_GAP_PT)]))
    return table


def _device_type_names(impact: dict) -> dict[str, str]:
    """A factor's device type named like the category it is the type of, when there is one."""
    names = {}
    for assumption in impact["assumptions"]:
        if assumption["category"] == assumption["device_type"]:
            names[assumption["device_type"]] = assumption["label"]
    return names


def _impact(document: dict) -> list:
    impact, specs = document["impact"], document["metrics"]
    measures = [m for m in IMPACT_MEASURES if m in specs]
    not_estimated = _("not estimated")
    story = list(_heading(_("Environmental impact")))
    story.append(
        _p(
            _m(
                _(
                    "Each device handed over in the period counts once, times the ADEME "
                    "factor per year of use of its type, times the years of extra use the "
                    "network assumes for its category."
                )
            ),
            "intro",
        )
    )
    story.append(
        _facts(
            [
                (
                    _("Devices counted"),
                    _m(
                        _figure(
                            impact["devices_estimated"] + impact["devices_not_estimated"], "count"
                        )
                    ),
                ),
                (_("With an estimate"), _m(_figure(impact["devices_estimated"], "count"))),
                (_("Not estimated"), _m(_figure(impact["devices_not_estimated"], "count"))),
            ],
            FACT_COLUMNS,
        )
    )
    story.append(Spacer(1, 2 * mm))
    cells = [
        [_head(_("Category"), False), _head(_("Devices")), _head(_("Years of extra use"))]
        + [_head(specs[m]["label"]) for m in measures]
    ]
    for line in impact["lines"]:
        cells.append(
            [
                _cell(line["label"], False),
                _cell(_figure(line["devices"], "count")),
                _cell(_figure(line["extra_years"], "years")),
            ]
            + [
                _p(f'<font color="#{MUTED.hexval()[2:]}"><i>{_m(not_estimated)}</i></font>', "num")
                if line.get(m) is None
                else _cell(_figure(line.get(m), "kg"))
                for m in measures
            ]
        )
    cells.append(
        [
            _cell(_("Total"), False, bold=True),
            _cell(
                _figure(impact["devices_estimated"] + impact["devices_not_estimated"], "count"),
                bold=True,
            ),
            "",
        ]
        + [_cell(_figure(impact["totals"].get(m), "kg"), bold=True) for m in measures]
    )
    if not impact["lines"]:
        cells.insert(
            1,
            [_cell(_("No device handed over in the period."), False)] + [""] * (len(cells[0]) - 1),
        )
    story.append(data_table(cells, IMPACT_COLUMNS[: 3 + len(measures)]))
    story.append(Spacer(1, 1.5 * mm))
    story.append(
        _p(
            _m(
                _(
                    "Not estimated: no absolute figure is published for the device type (see "
                    "the factors below), or not for that measure; those devices are counted, "
                    "never converted into kilograms by guess."
                )
            ),
            "note",
        )
    )

    story.extend(_heading(_("Impact factors"), 30))
    names = _device_type_names(impact)
    cells = [
        [_head(_("Device type"), False), _head(_("Status"), False)]
        + [_head(_("%(figure)s per year of use") % {"figure": specs[m]["label"]}) for m in measures]
        + [_head(_("Source and date"), False)]
    ]
    for factor in impact["factors"]:
        published = factor["status"] == "published"
        cells.append(
            [
                _cell(names.get(factor["device_type"], factor["device_type"]), False),
                _cell(_("Published") if published else _("To be confirmed: not estimated"), False),
            ]
            + [_cell(_figure(factor.get(m), "factor")) for m in measures]
            + [_p(_m(factor["source"]) + "<br/>" + _m(factor["published_on"]))]
        )
    widths = FACTOR_COLUMNS[:2] + FACTOR_COLUMNS[2 : 2 + len(measures)] + FACTOR_COLUMNS[-1:]
    story.append(_text_after_figures(data_table(cells, widths), -1))

    story.extend(_heading(_("Years of extra use assumed"), 30))
    cells = [[_head(_("Category"), False), _head(_("Years")), _head(_("Basis"), False)]]
    for assumption in impact["assumptions"]:
        cells.append(
            [
                _cell(assumption["label"], False),
                _cell(_figure(assumption["extra_years"], "years")),
                _cell(assumption["basis"], False),
            ]
        )
    story.append(_text_after_figures(data_table(cells, ASSUMPTION_COLUMNS), 2))
    return story


def _definitions(document: dict) -> list:
    story = list(_heading(_("Definitions"), 30))
    for text in document["definitions"]:
        story.append(Paragraph(_m(text), BULLET, bulletText="•"))
        story.append(Spacer(1, 1 * mm))
    story.append(_p(_m(_("“—”: the figure does not apply to that breakdown.")), "body"))
    return story


# The report -----------------------------------------------------------------------------------


def report_pdf(document: dict, *, verification: tuple[str, str] | None = None) -> bytes:
    """The report; an issued one carries its `verification` (code as displayed, check
    address) in its facts and on every page's footer."""
    title = _("Activity report for the fund")
    network = settings.NETWORK_NAME
    scope = document.get("scope") or {}
    period = _period_text(document)
    facts = [
        (_("Period"), _m(period)),
        (_("Scope"), _m(scope_label(document))),
        (_("Figures as of"), _m(_generated_at(document))),
    ]
    if scope.get("funder"):
        facts.append((_("Funder"), _m(scope["funder"])))
    if verification:
        facts.append((_("Verification code"), _m(verification[0])))
        facts.append((_("Check online"), _m(verification[1])))
    story: list = [
        _p(_m(title), "title"),
        _p(_m(network), "subtitle"),
        Spacer(1, 4 * mm),
        _facts(facts, FACT_COLUMNS),
        *_heading(_("Key figures")),
        *_key_figures(document),
        Spacer(1, 1.5 * mm),
        _p(
            _m(
                _(
                    "The definitions of the figures are at the end of the report. “—”: the "
                    "figure does not apply."
                )
            ),
            "note",
        ),
        *_programmes(document),
        *_charts(document),
    ]
    story += _breakdown(_("By month"), _("Month"), document["months"], document)
    for dimension, label in document["dimensions"].items():
        story += _breakdown(
            label,
            label,
            document["breakdowns"].get(dimension, []),
            document,
        )
    story += _workshops(document)
    story += _impact(document)
    story += _definitions(document)

    left = (f"{network} · {title}", f"{scope_label(document)} · {period}")
    right = _("Figures as of %(date)s") % {"date": _generated_at(document)}
    if verification:
        right = _("Verification code %(code)s") % {"code": verification[0]}
    running = f"{title} · {scope_label(document)} · {period}"
    footer = partial(_draw_footer, left=left, right=right, running=running)
    return _build(story, pagesize=PAGE, title=f"{title} · {period}", footer=footer)
