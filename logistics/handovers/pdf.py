"""The receipt's PDF (placeholder until the layout lands)."""

import io

from reportlab.pdfgen.canvas import Canvas


def render_receipt(hand_over) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, hand_over.reference)
    canvas.save()
    return buffer.getvalue()
