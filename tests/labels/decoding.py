"""Rasterise label PDFs like a printer driver would and read their QR codes with zxing-cpp.

Shared by the tests and bench/labels.py (R16), with the production-like site the test labels
are rendered for. pypdfium2 ships its own PDFium binary.
"""

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import zxingcpp

from labels.formats import MM_PER_INCH, Box
from labels.render import PageLayout

# A long-ish real host: its payload needs QR version 4 with Q, the tightest of the usual cases.
SITE_URL = "https://reemploi.inclusion-numerique92.fr"
NETWORK = "Réseau inclusion numérique 92"
RENDER = {"site_url": SITE_URL, "network_name": NETWORK}


def rasterise(pdf: bytes, dpi: float, *, binary: bool = True) -> list:
    """Every page as a greyscale PIL image at `dpi`.

    binary: no anti-aliasing and a 50 % threshold, as a thermal head or a laser prints: each
    dot is black or white, so modules that are not whole dots come out unevenly wide.
    The bitmap is the page size rounded to whole pixels; PdfPage.render would round up a page
    of 342.0000076 dots (PDFium keeps sizes as 32-bit floats) to 343 and stretch the page.
    """
    flags = pdfium_c.FPDF_GRAYSCALE
    if binary:
        flags |= pdfium_c.FPDF_RENDER_NO_SMOOTHPATH | pdfium_c.FPDF_RENDER_NO_SMOOTHTEXT
    images = []
    document = pdfium.PdfDocument(pdf)
    try:
        for page in document:
            width = round(page.get_width() * dpi / 72)
            height = round(page.get_height() * dpi / 72)
            bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_Gray)
            bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
            pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, flags)
            images.append(bitmap.to_pil().copy())
    finally:
        document.close()
    if binary:
        images = [image.point(lambda value: 255 if value >= 128 else 0) for image in images]
    return images


def crop_mm(image, box: Box, dpi: float):
    k = dpi / MM_PER_INCH
    return image.crop(
        (round(box.x * k), round(box.y * k), round(box.right * k), round(box.bottom * k))
    )


def decode(image) -> list[str]:
    return [
        result.text
        for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    ]


def decode_labels(pdf: bytes, pages: list[PageLayout], dpi: float) -> list[tuple[str, list[str]]]:
    """(expected payload, texts decoded from that label's own area) for every label."""
    results = []
    for image, page in zip(rasterise(pdf, dpi), pages, strict=True):
        for layout in page.labels:
            results.append((layout.qr.matrix.payload, decode(crop_mm(image, layout.label, dpi))))
    return results


def page_texts(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()
