"""One rendering entry for the screens, the API and anything else that serves label files."""

from dataclasses import dataclass

from django.conf import settings

from labels import stock
from labels.formats import LabelFormat
from labels.render import render_pdf
from labels.zpl import render_zpl

PDF = "application/pdf"
ZPL = "text/plain"


@dataclass(frozen=True)
class LabelDocument:
    body: bytes | str
    content_type: str
    extension: str


def label_document(items, fmt: LabelFormat, *, start: int = stock.START_MIN, output: str = "pdf"):
    """The labels as PDF, or ZPL text for a Zebra format; `start` is the 1-based first free
    position on the first sheet. Raises render.LayoutError when the stock cannot carry them."""
    options = {"site_url": settings.SITE_URL, "network_name": settings.NETWORK_NAME}
    if output == "zpl":
        return LabelDocument(render_zpl(items, fmt, **options), ZPL, "zpl")
    body = render_pdf(items, fmt, start_position=start - stock.START_MIN, **options)
    return LabelDocument(body, PDF, "pdf")
