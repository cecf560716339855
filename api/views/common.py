"""What every API view shares: the error replies of the schema, the API mixin, and the refusals
that list each device a batch request was refused for."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
)
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.authentication import TokenAuthentication
from api.errors import error_body
from api.parsers import JSONParser
from api.serializers.common import ErrorSerializer, ValidationErrorSerializer
from api.serializers.picking import DeviceProblemSerializer, DevicesRefusedSerializer
from inventory.errors import DomainError
from inventory.selectors import user_scope

_ERROR_DESCRIPTIONS = {
    400: "Input not valid: code `invalid` with `fields`, or `parse_error` for malformed JSON. "
    "Any operation answers it to a query parameter or a header holding control characters.",
    401: "No valid session or token: code `not_authenticated`.",
    403: "Your role does not allow this: code `action_forbidden` or `permission_denied`.",
    404: "No such object in your scope, or a page beyond the last: code `not_found`.",
    409: "Refused by the lifecycle or the data: e.g. `transition_not_allowed`, `duplicate`.",
    413: "The body exceeds the upload limit: `request_too_large`.",
    422: "The Idempotency-Key was already used with another body: `idempotency_key_reused`.",
}

DEVICE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)

JSON = "application/json"


def errors(*statuses: int, media_type: str | None = None) -> dict:
    """The documented error replies of an operation, all in the {"code", "detail"} shape.

    media_type: set it ("application/json") on operations that answer a file, whose errors
    are still JSON.
    """
    return {
        (code, media_type) if media_type else code: OpenApiResponse(
            ValidationErrorSerializer if code == 400 else ErrorSerializer,
            description=_ERROR_DESCRIPTIONS[code],
        )
        # 400 on every operation: the query string and headers are checked everywhere
        # (inventory.web.middleware).
        for code in dict.fromkeys((400, 401, *statuses))
    }


class ApiMixin:
    # Token first, so that a request without credentials gets 401 with WWW-Authenticate
    # (DRF answers 403 when the first authenticator offers no challenge, as sessions don't).
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    parser_classes = [JSONParser]


# The label format goes in the body here; `?format=` chooses nothing (see api.renderers).
NO_FORMAT_OVERRIDE = OpenApiParameter("format", exclude=True)


CSV = "text/csv"

OBJECT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def refusal(description: str) -> OpenApiResponse:
    return OpenApiResponse(DevicesRefusedSerializer, description=description)


def with_problems(create):
    """Run `create`; a refusal that lists problem devices answers them all."""
    try:
        return create()
    except DomainError as err:
        if "problems" not in err.params:
            raise
        set_rollback()
        body = error_body(err.code, err.message, err.params.get("fields"))
        body["problems"] = DeviceProblemSerializer(err.params["problems"], many=True).data
        return Response(body, status=err.status)


def require_reader(user, allowed, message) -> None:
    if not allowed(user_scope(user)):
        raise exceptions.PermissionDenied(message)
