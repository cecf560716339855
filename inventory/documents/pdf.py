"""A donation's documents drawn as A4 PDFs: the erasure certificate and the donor summary.

No ORM: it draws the plain dataclasses of `content`, with reportlab's platypus (tables
split across pages with their header row repeated). The layout is data in millimetres below;
fonts, text cleaning, colours and the tables' style are shared with the labels (inventory.pdf).
"""

import io
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from xml.sax.saxutils import escape

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from inventory.codes import group_label_code
from inventory.documents.content import (
    PENDING_DESTRUCTION,
    PENDING_NO_MEDIUM,
    PENDING_NOT_ERASED,
    PENDING_REMOVED,
    CertificateContent,
    DonorSummary,
    ErasedRow,
    PendingRow,
    impact_figures,
    impact_note,
    outcome_lines,
    privacy_note,
)
from inventory.models import (
    ErasureLevel,
    ErasureMethod,
    ErasureResult,
    MediumInterface,
    MediumKind,
    Verification,
)
from inventory.pdf import (
    MONO,
    MONO_BOLD,
    MUTED,
    RULE,
    SANS,
    SANS_BOLD,
    SANS_ITALIC,
    clean_text,
    data_table,
)
from inventory.states import Status

# Layout (mm, points for type) -----------------------------------------------------------------

MARGIN_MM = 12
FOOTER_MM = 14  # below the frame: two lines of footer
HEADER_MM = 8  # above the frame on pages after the first: a running title

TITLE_PT = 16
HEADING_PT = 11
BODY_PT = 8.5
SMALL_PT = 7.5
FOOTER_PT = 7
HASH_PT = 7  # a full SHA-256 (64 characters of Courier) fits its 101 mm column on one line
REPORT_PT = 7.5  # 16 characters of Courier fit the report column on one line

# The certificate is landscape: eight columns of facts per erasure. Widths sum to 273 mm.
ERASED_COLUMNS = (44, 50, 38, 28, 27, 23, 32, 31)
PENDING_COLUMNS = (34, 76, 50, 45, 68)
FACT_COLUMNS = (34, 102, 36, 101)
# The summary is portrait: widths sum to 186 mm.
SUMMARY_FACT_COLUMNS = (40, 146)
OUTCOME_COLUMNS = (150, 36)
CATEGORY_COLUMNS = (70, 29, 29, 29, 29)
TERRITORY_COLUMNS = (150, 36)

REPORT_HASH_CHARS = 16
HEADING_ROOM_MM = 40  # a heading needs this much room below it, or it starts the next page

_STYLES = {
    "title": ParagraphStyle("title", fontName=SANS_BOLD, fontSize=TITLE_PT, leading=TITLE_PT * 1.2),
    "subtitle": ParagraphStyle(
        "subtitle", fontName=SANS, fontSize=HEADING_PT, leading=HEADING_PT * 1.3, textColor=MUTED
    ),
    "heading": ParagraphStyle(
        "heading",
        fontName=SANS_BOLD,
        fontSize=HEADING_PT,
        leading=HEADING_PT * 1.25,
        spaceBefore=4 * mm,
        spaceAfter=2 * mm,
    ),
    "intro": ParagraphStyle(
        "intro",
        fontName=SANS,
        fontSize=BODY_PT,
        leading=BODY_PT * 1.3,
        spaceAfter=2 * mm,
    ),
    "body": ParagraphStyle("body", fontName=SANS, fontSize=BODY_PT, leading=BODY_PT * 1.3),
    "cell": ParagraphStyle("cell", fontName=SANS, fontSize=BODY_PT, leading=BODY_PT * 1.22),
    "head": ParagraphStyle("head", fontName=SANS_BOLD, fontSize=BODY_PT, leading=BODY_PT * 1.22),
    "num": ParagraphStyle(
        "num", fontName=SANS, fontSize=BODY_PT, leading=BODY_PT * 1.22, alignment=2
    ),
    "num_head": ParagraphStyle(
        "num_head", fontName=SANS_BOLD, fontSize=BODY_PT, leading=BODY_PT * 1.22, alignment=2
    ),
    "note": ParagraphStyle(
        "note", fontName=SANS, fontSize=SMALL_PT, leading=SMALL_PT * 1.3, textColor=MUTED
    ),
}


# Text -----------------------------------------------------------------------------------------


def _m(text) -> str:
    """Cleaned and escaped for Paragraph markup."""
    return escape(clean_text(text))


def _mono(text, *, bold: bool = False) -> str:
    return f'<font name="{MONO_BOLD if bold else MONO}">{_m(text)}</font>'


def _p(markup: str, style: str = "cell") -> Paragraph:
    return Paragraph(markup, _STYLES[style])


def _heading(text: str, room_mm: float = HEADING_ROOM_MM) -> list:
    # A new page rather than a heading alone at the foot of one (keepWithNext would move a
    # whole long table along with it); room_mm is what the heading and its start need.
    return [CondPageBreak(room_mm * mm), _p(_m(text), "heading")]


def _lines(*parts: str) -> str:
    return "<br/>".join(part for part in parts if part)


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _day(day: date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _gb(capacity: int | None) -> str:
    if capacity is None:
        return ""
    return _("%(n)s GB") % {"n": formats.number_format(capacity, force_grouping=True)}


def _serial(serial: str) -> str:
    # Paragraph breaks a word wider than its cell where it overflows, so long serials wrap.
    return _("S/N %(serial)s") % {"serial": _mono(serial)} if serial else ""


def _make_model(make: str, model: str) -> str:
    return _m(" ".join(part for part in (make, model) if part))


# Pages: footer with "page n / N" on every page ------------------------------------------------


class _FooterCanvas(Canvas):
    """Holds every page until the end so the footer can say how many pages there are."""

    def __init__(self, *args, footer: Callable, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._held: list[dict] = []

    def showPage(self):  # noqa: N802 (reportlab's name)
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._held)
        for state in self._held:
            self.__dict__.update(state)
            self._footer(self, self._pageNumber, total)
            Canvas.showPage(self)
        Canvas.save(self)


def _draw_footer(
    canvas: Canvas, page: int, total: int, *, left: tuple[str, str], right: str, running: str
):
    width, _height = canvas._pagesize
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    top = (MARGIN_MM + FOOTER_MM - 3) * mm
    canvas.line(MARGIN_MM * mm, top, width - MARGIN_MM * mm, top)
    canvas.setFillColor(colors.black)
    canvas.setFont(SANS_BOLD, FOOTER_PT + 1)
    canvas.drawString(MARGIN_MM * mm, top - 4.5 * mm, clean_text(left[0]))
    canvas.setFont(SANS, FOOTER_PT)
    canvas.drawString(MARGIN_MM * mm, top - 8.5 * mm, clean_text(left[1]))
    canvas.setFont(SANS_BOLD, FOOTER_PT + 1)
    page_text = _("Page %(page)s / %(total)s") % {"page": page, "total": total}
    canvas.drawRightString(width - MARGIN_MM * mm, top - 4.5 * mm, clean_text(page_text))
    canvas.setFont(SANS, FOOTER_PT)
    canvas.drawRightString(width - MARGIN_MM * mm, top - 8.5 * mm, clean_text(right))
    if page > 1:
        canvas.setFont(SANS_ITALIC, FOOTER_PT)
        canvas.setFillColor(MUTED)
        baseline = canvas._pagesize[1] - (MARGIN_MM + HEADER_MM / 2) * mm
        canvas.drawString(MARGIN_MM * mm, baseline, clean_text(running))
    canvas.restoreState()


def _build(story: list, *, pagesize, title: str, footer: Callable) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN_MM * mm,
        rightMargin=MARGIN_MM * mm,
        topMargin=(MARGIN_MM + HEADER_MM) * mm,
        bottomMargin=(MARGIN_MM + FOOTER_MM) * mm,
        title=clean_text(title),
        author="Réemploi",
        creator="Réemploi",
        # invariant: no creation date or random id, so the same content gives the same bytes.
        invariant=1,
    )
    document.build(story, canvasmaker=partial(_FooterCanvas, footer=footer))
    return buffer.getvalue()


def _facts(pairs: list[tuple[str, str]], widths: tuple[float, ...]) -> Table:
    """Label/value pairs, two pairs a row when four columns are given."""
    per_row = len(widths) // 2
    rows = []
    for start in range(0, len(pairs), per_row):
        row = []
        for label, value in pairs[start : start + per_row]:
            row += [_p(_m(label), "head"), _p(value)]
        row += [""] * (len(widths) - len(row))
        rows.append(row)
    table = Table(rows, colWidths=[w * mm for w in widths], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


# Erasure certificate --------------------------------------------------------------------------


def _verification(row: ErasedRow) -> str:
    if row.verification == Verification.SAMPLE and row.verification_percent:
        how = _("Sample (%(percent)s %%)") % {"percent": row.verification_percent}
    else:
        how = _label(Verification, row.verification)
    return _lines(_m(how), f"<b>{_m(_label(ErasureResult, row.result))}</b>")


def _erased_row(row: ErasedRow) -> list:
    medium = " · ".join(
        part
        for part in (
            _label(MediumKind, row.medium_kind),
            _label(MediumInterface, row.medium_interface),
            _gb(row.capacity_gb),
        )
        if part
    )
    tool = " ".join(part for part in (row.tool, row.tool_version) if part)
    report = (
        f'<font size="{REPORT_PT}">{_mono(row.report_sha256[:REPORT_HASH_CHARS])}</font>'
        if row.report_sha256
        else "—"
    )
    return [
        _p(
            _lines(
                _mono(group_label_code(row.device_code), bold=True),
                _make_model(row.device_make, row.device_model),
                _serial(row.device_serial),
            )
        ),
        _p(
            _lines(
                _m(medium),
                _make_model(row.medium_make, row.medium_model),
                _serial(row.medium_serial),
            )
        ),
        _p(
            _lines(
                _m(_label(ErasureMethod, row.method)),
                _m(_("Level: %(level)s") % {"level": _label(ErasureLevel, row.level)}),
            )
        ),
        _p(_m(tool) or "—"),
        _p(_verification(row)),
        _p(_m(_when(row.ended_at))),
        _p(_lines(_m(row.operator), f"<i>{_m(row.organisation)}</i>" if row.organisation else "")),
        _p(report),
    ]


def _pending_reason(row: PendingRow) -> str:
    if row.reason == PENDING_NO_MEDIUM:
        return _("No storage medium recorded yet")
    if row.reason == PENDING_DESTRUCTION:
        return _("An erasure failed or could not be verified: destruction pending")
    if row.reason == PENDING_REMOVED:
        return _("Medium removed from the device without a recorded erasure")
    if row.reason == PENDING_NOT_ERASED and row.media_total > 1:
        return ngettext(
            "%(pending)s of %(total)s media not erased yet",
            "%(pending)s of %(total)s media not erased yet",
            row.media_pending,
        ) % {"pending": row.media_pending, "total": row.media_total}
    return _("Not erased yet")


def _pending_row(row: PendingRow) -> list:
    return [
        _p(_mono(group_label_code(row.device_code), bold=True)),
        _p(_make_model(row.device_make, row.device_model) or "—"),
        _p(_mono(row.device_serial) if row.device_serial else "—"),
        _p(_m(_label(Status, row.status))),
        _p(_m(_pending_reason(row))),
    ]


def render_certificate(
    content: CertificateContent,
    *,
    code: str,
    content_sha256: str,
    issued_at: datetime,
    network_name: str,
    verify_url: str,
) -> bytes:
    title = _("Data erasure certificate")
    devices_erased = content.devices_erased
    story: list = [
        _p(_m(title), "title"),
        _p(_m(network_name), "subtitle"),
        Spacer(1, 4 * mm),
        _facts(
            [
                (_("Donor"), _m(content.donor_name)),
                (_("Issued on"), _m(_when(issued_at))),
                (
                    _("Donation"),
                    _m(
                        _("%(reference)s, received on %(date)s")
                        % {"reference": content.reference, "date": _day(content.received_on)}
                    ),
                ),
                (_("Verification code"), _mono(code, bold=True)),
                (
                    _("Media certified"),
                    _m(
                        ngettext(
                            "%(media)s storage medium erased or destroyed",
                            "%(media)s storage media erased or destroyed",
                            content.media_count,
                        )
                        % {"media": content.media_count}
                    ),
                ),
                (_("Content SHA-256"), f'<font size="{HASH_PT}">{_mono(content_sha256)}</font>'),
                (
                    _("Devices"),
                    _m(
                        ngettext(
                            "%(count)s device fully erased",
                            "%(count)s devices fully erased",
                            devices_erased,
                        )
                        % {"count": devices_erased}
                        + " · "
                        + ngettext(
                            "%(count)s device pending",
                            "%(count)s devices pending",
                            len(content.pending),
                        )
                        % {"count": len(content.pending)}
                    ),
                ),
                (_("Check online"), _m(verify_url)),
            ],
            FACT_COLUMNS,
        ),
        Spacer(1, 3 * mm),
        _p(
            _m(
                _(
                    "Levels follow NIST SP 800-88 Rev. 2 and IEEE 2883-2022: Clear (logical "
                    "overwrite of user-addressable storage), Purge (sanitize commands or "
                    "cryptographic erase: recovery infeasible even in a laboratory), Destruct "
                    "(the medium is physically destroyed). Only erasures whose verified result "
                    "is passed, and completed destructions, are listed. Devices that hold no "
                    "data (screens, accessories…) are not listed."
                )
            ),
            "note",
        ),
        *_heading(_("Erased and destroyed storage media")),
    ]
    header = [
        _("Device"),
        _("Storage medium"),
        _("Method and level"),
        _("Tool and version"),
        _("Verification and result"),
        _("Completed"),
        _("Operator"),
        _("Tool report (SHA-256)"),
    ]
    rows = [[_p(_m(text), "head") for text in header]]
    rows += [_erased_row(row) for row in content.erased]
    story.append(data_table(rows, ERASED_COLUMNS))

    story.extend(_heading(_("Devices pending"), HEADING_ROOM_MM if content.pending else 16))
    if content.pending:
        story.append(
            _p(
                _m(
                    _(
                        "These devices of the donation hold data and have a storage medium "
                        "that is not erased yet (or none recorded yet): this certificate "
                        "certifies nothing for them."
                    )
                ),
                "intro",
            )
        )
        header = [_("Label code"), _("Device"), _("Serial number"), _("Status"), _("Missing")]
        rows = [[_p(_m(text), "head") for text in header]]
        rows += [_pending_row(row) for row in content.pending]
        story.append(data_table(rows, PENDING_COLUMNS))
    else:
        story.append(
            _p(_m(_("None: every device of the donation that holds data is erased.")), "body")
        )

    left = (
        _("Verification code: %(code)s") % {"code": code},
        _("Check this certificate at %(url)s") % {"url": verify_url},
    )
    right = f"{network_name} · {title} {content.reference}"
    running = f"{title} · {content.reference} · {content.donor_name}"
    footer = partial(_draw_footer, left=left, right=right, running=running)
    return _build(
        story, pagesize=landscape(A4), title=f"{title} {content.reference}", footer=footer
    )


# Donor summary --------------------------------------------------------------------------------


def _count_table(rows: list[tuple[str, int]], widths, head: tuple[str, str]) -> Table:
    cells = [[_p(_m(head[0]), "head"), _p(_m(head[1]), "num_head")]]
    cells += [[_p(_m(label)), _p(_m(formats.number_format(n)), "num")] for label, n in rows]
    return data_table(cells, widths)


def _value_table(rows: list[tuple[str, str]], widths, head: tuple[str, str]) -> Table:
    cells = [[_p(_m(head[0]), "head"), _p(_m(head[1]), "num_head")]]
    cells += [[_p(_m(label)), _p(_m(value), "num")] for label, value in rows]
    return data_table(cells, widths)


def render_summary(summary: DonorSummary, *, issued_at: datetime, network_name: str) -> bytes:
    title = _("What became of your donation")
    story: list = [
        _p(_m(title), "title"),
        _p(_m(network_name), "subtitle"),
        Spacer(1, 4 * mm),
        _facts(
            [
                (_("Donor"), _m(summary.donor_name)),
                (
                    _("Donation"),
                    _m(
                        _("%(reference)s, received on %(date)s")
                        % {"reference": summary.reference, "date": _day(summary.received_on)}
                    ),
                ),
                (_("Figures as of"), _m(_when(issued_at))),
            ],
            SUMMARY_FACT_COLUMNS,
        ),
        *_heading(_("Outcome")),
        _count_table(outcome_lines(summary), OUTCOME_COLUMNS, (_("Devices"), _("Number"))),
        Spacer(1, 1.5 * mm),
        _p(
            _m(
                _(
                    "“Reconditioned” counts the devices that were declared ready for reuse at "
                    "least once (erased, tested, graded); the other lines share out the "
                    "devices received by where they are now."
                )
            ),
            "note",
        ),
        *_heading(_("By category")),
    ]
    head = [_("Category"), _("Received"), _("Reconditioned"), _("Given or lent"), _("Recycled")]
    cells = [[_p(_m(head[0]), "head")] + [_p(_m(text), "num_head") for text in head[1:]]]
    for line in summary.categories:
        cells.append(
            [_p(_m(line.name))]
            + [
                _p(_m(formats.number_format(n)), "num")
                for n in (line.received, line.reconditioned, line.distributed, line.recycled)
            ]
        )
    story.append(data_table(cells, CATEGORY_COLUMNS))
    story.extend(_heading(_("Where the devices went, by territory")))
    if summary.territories:
        story.append(
            _count_table(
                [(line.name, line.devices) for line in summary.territories],
                TERRITORY_COLUMNS,
                (_("Territory (EPT)"), _("Devices given or lent")),
            )
        )
    else:
        story.append(_p(_m(_("No device has been given or lent to a structure yet.")), "body"))
    story.append(Spacer(1, 1.5 * mm))
    story.append(_p(_m(privacy_note()), "note"))
    story.extend(_heading(_("Environmental impact")))
    impact = impact_figures(summary)
    if impact:
        story.append(_value_table(impact, OUTCOME_COLUMNS, (_("Figure"), _("Value"))))
    else:
        story.append(_p(_m(_("No device of this donation has been given or lent yet.")), "body"))
    story.append(Spacer(1, 1.5 * mm))
    story.append(_p(_m(impact_note()), "note"))

    left = (f"{network_name} · {title}", f"{summary.reference} · {summary.donor_name}")
    right = _("Figures as of %(date)s") % {"date": _when(issued_at)}
    running = f"{title} · {summary.reference} · {summary.donor_name}"
    footer = partial(_draw_footer, left=left, right=right, running=running)
    return _build(story, pagesize=A4, title=f"{title} {summary.reference}", footer=footer)
