"""Request bodies refused by their size before anything reads them: small for strangers and for
ordinary forms, larger only where a signed-in user sends a file (a donor's spreadsheet, an
erasure tool's report). The reverse proxy caps every body first (deploy/nginx/reemploi.conf);
this is the cap that knows who asks and where.
"""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed

from api.authentication import TokenAuthentication
from inventory.intake.services import import_max_bytes
from inventory.reconditioning.services import REPORT_MAX_BYTES
from logistics.handovers.services import MAX_PAPER_BYTES

# Room for the form fields and multipart boundaries around an uploaded file.
FORM_MARGIN_BYTES = 64 * 1024


def upload_caps() -> dict[str, int]:
    """The views that take a file, by URL name, and the body they accept from a signed-in user."""
    spreadsheet = import_max_bytes() + FORM_MARGIN_BYTES
    report = REPORT_MAX_BYTES + FORM_MARGIN_BYTES
    receipt = MAX_PAPER_BYTES + FORM_MARGIN_BYTES
    return {
        "inventory:donation_import": spreadsheet,
        "api:donation-import-import-file": spreadsheet,
        "inventory:bench_erasure": report,
        "api:medium-erasures": report,
        # The scan of a signed hand-over receipt (the drawn signature is an ordinary form).
        "logistics:hand_over_sign": receipt,
        "api:hand-over-signature": receipt,
    }


def largest_body() -> int:
    """What the reverse proxy must let through (its client_max_body_size sits a bit above)."""
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, *upload_caps().values())


def _declared_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # what Django itself reads of such a body: nothing


def _signed_in(request) -> bool:
    if request.user.is_authenticated:
        return True
    if not request.META.get("HTTP_AUTHORIZATION"):
        return False
    # The API's token, checked the way DRF will check it; a bad token counts as a stranger.
    try:
        return TokenAuthentication().authenticate(request) is not None
    except AuthenticationFailed:
        return False


def _read_at_most(stream, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(min(64 * 1024, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_large(request, limit: int):
    message = _("The request body is too large.")
    if request.path_info.startswith("/api/"):
        body = {"code": "request_too_large", "detail": message, "max_bytes": limit}
        return JsonResponse(body, status=413)
    return render(request, "413.html", {"limit": limit}, status=413)


class BodyLimitMiddleware:
    """Runs in process_view, once the URL is resolved and the session read, and before the CSRF
    check (which reads a form) or any view: place it above CsrfViewMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        length = _declared_length(request)
        limit = settings.REEMPLOI_ANONYMOUS_BODY_MAX_BYTES
        if not chunked and length <= limit:
            return None
        # Only a body above the strangers' cap costs a look at who sends it.
        if _signed_in(request):
            name = request.resolver_match.view_name if request.resolver_match else ""
            limit = max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, upload_caps().get(name, 0))
        if not chunked:
            return _too_large(request, limit) if length > limit else None
        # No length announced: read one byte past the cap at most, then hand Django the body
        # with its length (Django reads nothing of a body whose length it does not know).
        body = _read_at_most(request.META["wsgi.input"], limit + 1)
        if len(body) > limit:
            return _too_large(request, limit)
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None
