"""Binary replies (label PDFs, ZPL text) next to the API's JSON errors.

The renderers below exist for content negotiation only, so that `Accept: application/pdf` is
honoured rather than answered 406; a successful download is a plain HttpResponse built by the
view. An error on such an endpoint is still JSON in the {"code", "detail"} shape, whatever the
client accepted. On label endpoints `?format=` names the label stock, so it must not be read as
DRF's renderer override (which would answer 404 for `format=avery-l7160`).
"""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer

PDF = "application/pdf"
ZPL = "text/plain"


class PDFRenderer(BaseRenderer):
    media_type = PDF
    format = "pdf"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ZPLRenderer(BaseRenderer):
    media_type = ZPL
    format = "zpl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


LABEL_RENDERERS = [PDFRenderer, ZPLRenderer, JSONRenderer]


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class LabelNegotiation(DefaultContentNegotiation):
    """Negotiates on the Accept header alone: `?format=` is the label format here."""

    settings = _NoFormatOverride()


class BinaryRepliesMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        # An error negotiated as PDF or text would be served as JSON bytes labelled application/
        # pdf; errors are always rendered as JSON.
        if getattr(response, "exception", False) and isinstance(
            getattr(request, "accepted_renderer", None), PDFRenderer | ZPLRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
