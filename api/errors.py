"""Every API error as {"code": …, "detail": …}, plus "fields" when input was not valid.

`code` is stable English for programs; `detail` is the translated message for people. Domain
errors keep their own code and HTTP status; an IntegrityError that escapes a service means the
database refused a write that raced past the service's checks: a conflict, never a 500.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from inventory.codes import InvalidCode
from inventory.errors import DomainError
from inventory.scanning.messages import SCAN_MESSAGES

INVALID_DETAIL = _("Some fields are not valid.")

# DRF exception → our code; anything else keeps DRF's own code (e.g. "not_acceptable").
_CODES: list[tuple[type[Exception], str]] = [
    (Http404, "not_found"),
    (exceptions.NotFound, "not_found"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (DjangoPermissionDenied, "permission_denied"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.ValidationError, "invalid"),
    (exceptions.ParseError, "parse_error"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.Throttled, "throttled"),
]


class InvalidLabelCodes(Exception):
    """Codes in a list that cannot be label codes, by their position in the list."""

    def __init__(self, field: str, errors: dict[int, InvalidCode]):
        super().__init__(field)
        self.field = field
        self.errors = errors


class ItemsNotFound(exceptions.NotFound):
    """A 404 that names positions in the request's own list: no device in the user's scope
    answers to them. An unknown code and another organisation's device read the same."""

    def __init__(self, detail, fields: dict):
        super().__init__(detail)
        self.fields = fields


def _code_message(exc: InvalidCode):
    return SCAN_MESSAGES.get(f"code_{exc.reason}", _("This label code is not valid."))


def error_body(code: str, detail, fields=None) -> dict:
    body = {"code": code, "detail": str(detail)}
    if fields:
        body["fields"] = fields
    return body


def _code_for(exc: Exception) -> str:
    for exc_class, code in _CODES:
        if isinstance(exc, exc_class):
            return code
    if isinstance(exc, exceptions.APIException):
        return str(exc.default_code)
    return "error"


def _validation_fields(detail) -> dict:
    # A serializer reports a dict per field; a bare list is an error about the whole body.
    if isinstance(detail, dict):
        return detail
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        fields = exc.params.get("fields")
        return Response(error_body(exc.code, exc.message, fields), status=exc.status)
    if isinstance(exc, InvalidCode):
        body = error_body("invalid_label_code", _code_message(exc)) | {"reason": exc.reason}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, InvalidLabelCodes):
        first = exc.errors[min(exc.errors)]
        fields = {exc.field: {str(i): [_code_message(e)] for i, e in sorted(exc.errors.items())}}
        body = error_body("invalid_label_code", _code_message(first), fields)
        return Response(body | {"reason": first.reason}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        message = _("The request body is too large.")
        return Response(
            error_body("request_too_large", message),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, IntegrityError):
        set_rollback()
        message = _("This change conflicts with data recorded meanwhile. Reload and try again.")
        return Response(error_body("conflict", message), status=status.HTTP_409_CONFLICT)

    # DRF's handler sets the headers (WWW-Authenticate, Retry-After) and maps Django's
    # Http404 and PermissionDenied; we only reshape its body.
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django report it as a 500
    code = _code_for(exc)
    if code == "invalid":
        response.data = error_body(code, INVALID_DETAIL, _validation_fields(exc.detail))
    elif code == "not_found":
        # Not Django's "No Device matches the given query.": say nothing about the model.
        if isinstance(exc, ItemsNotFound):
            response.data = error_body(code, exc.detail, exc.fields)
        else:
            response.data = error_body(code, exceptions.NotFound.default_detail)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = error_body(code, detail or exc)
    return response


@csrf_exempt  # it changes nothing; a CSRF failure page would hide the real answer
def endpoint_not_found(request, *args, **kwargs):
    """Unknown /api/ paths answer in the API's shape rather than with an HTML page."""
    return JsonResponse(
        error_body("not_found", _("No API endpoint at this address; see /api/docs/.")),
        status=status.HTTP_404_NOT_FOUND,
    )
