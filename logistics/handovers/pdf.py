"""The hand-over receipt (bon de remise) drawn as an A4 PDF, portrait: the parties, the devices,
the conditions of a gift or a loan, the signature (or a clear "not signed" and boxes to sign a
paper copy), and the verification code in every page's footer.

It draws `receipt.receipt_content` with the erasure certificate's fonts, styles, page frame
and footer (inventory.documents.pdf); the layout below is data in millimetres.
"""

import io
from functools import partial

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image as PILImage
from PIL import ImageOps
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from inventory.documents.pdf import (
    _STYLES,
    HASH_PT,
    _build,
    _day,
    _draw_footer,
    _facts,
    _heading,
    _lines,
    _m,
    _mono,
    _p,
    _when,
)
from inventory.pdf import RULE, data_table
from logistics.handovers.receipt import ReceiptContent, ReceiptDevice, receipt_content
from logistics.models import Mode, SignatureKind

# Layout (mm) ----------------------------------------------------------------------------------

# Portrait A4 between 12 mm margins, less the frame's own padding (6 pt a side): every table's
# widths sum to 181 mm, so that none reaches into the right margin.
FACT_COLUMNS = (30, 60, 30, 61)
DEVICE_COLUMNS = (28, 30, 45, 35, 13, 30)
CEILING_COLUMNS = (70, 35)
SIGNATURE_COLUMNS = (90.5, 90.5)
SIGNATURE_BOX_MM = (80, 32)  # the drawn signature fits this box, its proportions kept
SIGNATURE_INK_MARGIN = 12  # pixels kept around the ink when the blank canvas is cropped
PAPER_BOX_MM = 30  # room to sign a printed copy by hand
HEADING_ROOM_MM = 30

_BULLET = ParagraphStyle(
    "bullet", parent=_STYLES["body"], leftIndent=4 * mm, bulletIndent=0, spaceAfter=1.2 * mm
)
_STATUS = ParagraphStyle(
    "status", parent=_STYLES["body"], fontSize=10, leading=13, alignment=TA_LEFT
)


def _bullets(lines) -> list:
    return [Paragraph(_m(line), _BULLET, bulletText="•") for line in lines]


def _mode_cell(device: ReceiptDevice) -> Paragraph:
    mode = _("Loan") if device.mode == Mode.LOAN else _("Gift")
    if device.mode == Mode.GIFT and device.public_donor:
        return _p(_lines(_m(mode), f"<i>{_m(_('public donor'))}</i>"))
    return _p(_m(mode))


def _device_row(device: ReceiptDevice) -> list:
    return [
        _p(_mono(device.label_code, bold=True)),
        _p(_m(device.category) or "—"),
        _p(_m(device.make_model) or "—"),
        _p(_mono(device.serial) if device.serial else "—"),
        _p(_m(device.grade) or "—"),
        _mode_cell(device),
    ]


def _devices_table(content: ReceiptContent) -> Table:
    header = [
        _("Label code"),
        _("Category"),
        _("Manufacturer and model"),
        _("Serial number"),
        _("Grade"),
        _("Gift or loan"),
    ]
    rows = [[_p(_m(text), "head") for text in header]]
    rows += [_device_row(device) for device in content.devices]
    return data_table(rows, DEVICE_COLUMNS)


def _euros(euros: int | None) -> str:
    if euros is None:
        return _("no ceiling set")
    return _("%(euros)s €") % {"euros": euros}


def _ceilings_table(content: ReceiptContent) -> Table:
    rows = [[_p(_m(_("Category")), "head"), _p(_m(_("Highest resale price")), "num_head")]]
    rows += [[_p(_m(name)), _p(_m(_euros(euros)), "num")] for name, euros in content.ceilings]
    return data_table(rows, CEILING_COLUMNS)


# Signature ------------------------------------------------------------------------------------


def _signature_image(png: bytes | None) -> Image | None:
    """The drawn signature on white, cropped to its ink, scaled into its box; None when the
    bytes cannot be read as an image (the receipt then says so in words)."""
    if not png:
        return None
    try:
        with PILImage.open(io.BytesIO(png)) as source:
            source.load()
            rgba = source.convert("RGBA")
    except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError):
        return None
    flat = PILImage.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    ink = ImageOps.invert(flat.convert("L")).getbbox()
    if ink is not None:
        left, top, right, bottom = ink
        margin = SIGNATURE_INK_MARGIN
        flat = flat.crop(
            (
                max(left - margin, 0),
                max(top - margin, 0),
                min(right + margin, flat.width),
                min(bottom + margin, flat.height),
            )
        )
    buffer = io.BytesIO()
    flat.save(buffer, "PNG")
    buffer.seek(0)
    box_w, box_h = (side * mm for side in SIGNATURE_BOX_MM)
    scale = min(box_w / flat.width, box_h / flat.height)
    return Image(buffer, width=flat.width * scale, height=flat.height * scale, hAlign="LEFT")


def _boxed(cells: list, heights=None) -> Table:
    table = Table(
        [cells], colWidths=[w * mm for w in SIGNATURE_COLUMNS], rowHeights=heights, hAlign="LEFT"
    )
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (0, 0), 0.6, RULE),
                ("BOX", (1, 0), (1, 0), 0.6, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _signature_story(content: ReceiptContent) -> list:
    signature = content.signature
    hash_markup = (
        f'<font size="{HASH_PT}">{_mono(signature.sha256)}</font>' if signature.sha256 else ""
    )
    if signature.kind == SignatureKind.DRAWN:
        said = _m(
            _("Signed on screen by %(name)s on %(when)s.")
            % {"name": signature.signer_name, "when": _when(signature.signed_at)}
        )
        image = _signature_image(signature.image)
        text = [
            _p(f"<b>{said}</b>", "body"),
            Spacer(1, 1.5 * mm),
            _p(_m(_("SHA-256 of the signature image:")), "note"),
            _p(hash_markup, "note"),
        ]
        if image is None:
            text.append(_p(_m(_("The signature image could not be drawn here.")), "note"))
        drawn = image or _p(_m("—"))
        return [KeepTogether([_boxed([text, drawn])])]
    if signature.kind == SignatureKind.PAPER:
        # The sentence is escaped before the fingerprint's markup goes in (Courier, which
        # breaks anywhere: 64 characters do not fit a line of the body's type otherwise).
        said = _m(
            _("Signed paper copy uploaded on %(when)s, signed by %(name)s (SHA-256 %(hash)s).")
        ) % {
            "when": _m(_when(signature.signed_at)),
            "name": _m(signature.signer_name),
            "hash": hash_markup,
        }
        return [_p(said, "body")]
    box = PAPER_BOX_MM * mm
    hint = _m(_("Name, date and signature"))
    return [
        KeepTogether(
            [
                Paragraph(f"<b>{_m(_('Not signed.'))}</b>", _STATUS),
                _p(
                    _m(
                        _(
                            "The person receiving has not signed this receipt yet. To sign it "
                            "on paper: print it, sign below, and upload the scan of the signed "
                            "copy on the hand-over's page."
                        )
                    ),
                    "intro",
                ),
                _boxed(
                    [
                        [
                            _p(
                                _lines(
                                    f"<b>{_m(_('Received by'))}</b>",
                                    _m(content.received_by_name),
                                    f"<i>{hint}</i>",
                                )
                            )
                        ],
                        [
                            _p(
                                _lines(
                                    f"<b>{_m(_('Handed over by'))}</b>",
                                    _m(content.handed_by_person),
                                    f"<i>{hint}</i>",
                                )
                            )
                        ],
                    ],
                    heights=[box],
                ),
            ]
        )
    ]


# The receipt ----------------------------------------------------------------------------------


def _status(content: ReceiptContent) -> str:
    if content.signature.kind == SignatureKind.DRAWN:
        return _("Signed on screen")
    if content.signature.kind == SignatureKind.PAPER:
        return _("Signed paper copy")
    return _("Not signed")


def _device_count(content: ReceiptContent) -> str:
    total = ngettext("%(count)s device", "%(count)s devices", len(content.devices)) % {
        "count": len(content.devices)
    }
    parts = [total]
    if content.gift_count:
        parts.append(
            ngettext("%(count)s given", "%(count)s given", content.gift_count)
            % {"count": content.gift_count}
        )
    if content.loan_count:
        parts.append(
            ngettext("%(count)s lent", "%(count)s lent", content.loan_count)
            % {"count": content.loan_count}
        )
    return " · ".join(parts)


def _facts_story(content: ReceiptContent) -> list:
    structure = _lines(
        f"<b>{_m(content.structure_name)}</b>",
        _m(content.structure_identifier),
        _m(content.structure_address),
    )
    handed_by = _lines(
        _m(content.handed_by_person),
        f"<i>{_m(content.handed_by_organisation)}</i>" if content.handed_by_organisation else "",
    )
    received_by = _lines(
        f"<b>{_m(content.received_by_name)}</b>",
        f"<i>{_m(content.received_by_role)}</i>" if content.received_by_role else "",
    )
    pairs = [
        (_("Reference"), _mono(content.reference, bold=True)),
        (_("Handed over on"), _m(_when(content.handed_at))),
        (_("Structure"), structure),
        (_("Verification code"), _mono(content.verification_code, bold=True)),
        (_("Handed over by"), handed_by),
        (_("Received by"), received_by),
        (_("Devices"), _m(_device_count(content))),
        (_("Signature"), f"<b>{_m(_status(content))}</b>"),
    ]
    if content.loan_count:
        pairs.append(
            (
                _("Loan"),
                _m(
                    _("%(reference)s, due on %(date)s")
                    % {
                        "reference": content.loan_reference,
                        "date": _day(content.due_on) if content.due_on else "—",
                    }
                ),
            )
        )
    pairs.append((_("Check online"), _m(content.verify_url)))
    return [_facts(pairs, FACT_COLUMNS)]


def render_content(content: ReceiptContent) -> bytes:
    title = _("Hand-over receipt")
    story: list = [
        _p(_m(title), "title"),
        _p(_m(content.network_name), "subtitle"),
        Spacer(1, 4 * mm),
        *_facts_story(content),
        *_heading(_("Devices"), HEADING_ROOM_MM),
        _devices_table(content),
        Spacer(1, 1.5 * mm),
        _p(
            _m(
                _(
                    "Grades describe the cosmetic condition only: A very good, B light signs of "
                    "use, C visible signs of use. Each device was reconditioned before the "
                    "hand-over: its functions tested and, where it stores data, its previous "
                    "users' data erased."
                )
            ),
            "note",
        ),
    ]
    if content.gift_conditions:
        story += _heading(_("Conditions of the gift"), HEADING_ROOM_MM)
        story += _bullets(content.gift_conditions)
        if content.ceilings:
            story += [Spacer(1, 1 * mm), _ceilings_table(content)]
    if content.loan_conditions:
        story += _heading(_("Conditions of the loan"), HEADING_ROOM_MM)
        due = _("Due date: %(date)s") % {"date": _day(content.due_on) if content.due_on else "—"}
        story.append(Paragraph(f"<b>{_m(due)}</b>", _STATUS))
        story += _bullets(content.loan_conditions)
    if content.note:
        story += _heading(_("Note"), 16)
        story.append(_p(_lines(*(_m(line) for line in content.note.splitlines())), "body"))
    story += _heading(_("Signature of the person receiving"), HEADING_ROOM_MM + PAPER_BOX_MM)
    story += _signature_story(content)

    left = (
        _("Verification code: %(code)s") % {"code": content.verification_code},
        _("Check this receipt at %(url)s") % {"url": content.verify_form_url},
    )
    right = f"{content.network_name} · {title} {content.reference}"
    running = f"{title} · {content.reference} · {content.structure_name}"
    footer = partial(_draw_footer, left=left, right=right, running=running)
    return _build(story, pagesize=A4, title=f"{title} {content.reference}", footer=footer)


def render_receipt(hand_over) -> bytes:
    return render_content(receipt_content(hand_over))
