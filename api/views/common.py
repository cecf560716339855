"""What every API view shares: the error replies of the schema, the API mixin, and the refusals
that list each device a batch request was refused for."""

from dataclasses import dataclass

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


# Conditional edits: ETag out, If-Match in (reliability R7)


@dataclass(frozen=True)
class Conditional:
    """The schema's pieces of an object edited under If-Match, named after its noun."""

    if_match: OpenApiParameter
    if_match_optional: OpenApiParameter
    etag: OpenApiParameter
    stale: dict
    precondition_replies: dict


def conditional(noun: str, example: str) -> Conditional:
    """`noun`: "the donation"; `example`: an ETag as the object gives it, quotes included."""
    help_text = (
        f"The ETag of {noun} as you last read it (from GET, or the `version` of the body, "
        f"quoted or not): `{example}`."
    )
    stale = {
        412: OpenApiResponse(
            ErrorSerializer,
            description=f"Someone changed {noun} since your read: code `stale`. Read it again.",
        )
    }
    return Conditional(
        if_match=OpenApiParameter(
            "If-Match",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=True,
            description=help_text + " `*` is not accepted.",
        ),
        if_match_optional=OpenApiParameter(
            "If-Match",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description=help_text + " Optional here: given, the change is refused (412 `stale`) "
            f"if {noun} changed since; `*` or none, it applies to {noun} as it is.",
        ),
        etag=OpenApiParameter(
            "ETag",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[200],
            description=f"This state of {noun}; send it back in If-Match to change it.",
        ),
        stale=stale,
        precondition_replies={
            **stale,
            428: OpenApiResponse(
                ErrorSerializer, description="No If-Match header: code `precondition_required`."
            ),
        },
    )


def if_match_tags(request, *, required: bool, message) -> list[str] | None:
    """The versions the client says it edits (If-Match, quoted or not), or None when it names
    none (`*` included); required, their absence answers 428 with `message`."""
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        if required:
            raise DomainError("precondition_required", message, status=428)
        return None
    tags = []
    for tag in header.split(","):
        tag = tag.strip()
        tags.append(tag[1:-1] if len(tag) > 1 and tag[0] == tag[-1] == '"' else tag)
    return tags


def edited_version(tags: list[str] | None, current: str) -> str | None:
    """Of several tags, the one that matches now; else the first, which the service refuses
    (it compares under the row lock)."""
    if tags is None:
        return None
    return current if current in tags else tags[0]
