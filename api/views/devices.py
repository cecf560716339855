"""API views: validate the input, call one service or selector, serialise the result.

Every device read goes through inventory.selectors, so another organisation's device answers
404 exactly like a device that does not exist.
"""

import uuid

from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from api.errors import InvalidLabelCodes, ItemsNotFound
from api.filters import DeviceFilter, OrganisationFilter
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.parsers import JSONParser
from api.renderers import LABEL_RENDERERS, PDF, ZPL, BinaryRepliesMixin, LabelNegotiation
from api.serializers.devices import (
    BatchScanReplySerializer,
    BatchScanSerializer,
    DeviceCreateSerializer,
    DeviceSerializer,
    ErrorSerializer,
    HistoryEntrySerializer,
    InvalidLabelCodeSerializer,
    LabelErrorSerializer,
    LabelQuerySerializer,
    LabelsSerializer,
    OrganisationSerializer,
    PreprintSerializer,
    ScanReplySerializer,
    ScanSerializer,
    TransitionResultSerializer,
    TransitionSerializer,
    ValidationErrorSerializer,
)
from inventory import selectors, services
from inventory.codes import InvalidCode, group_label_code, normalize_label_code
from inventory.models import ScanResult
from inventory.scanning import services as scan_services
from labels import stock
from labels.documents import label_document
from labels.formats import LabelFormat
from labels.render import LabelItem, LayoutError, item_from_device
from labels.services import preprint_issue

_ERROR_DESCRIPTIONS = {
    400: "Input not valid: code `invalid` with `fields`, or `parse_error` for malformed JSON.",
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
        for code in (401, *statuses)
    }


class ApiMixin:
    # Token first, so that a request without credentials gets 401 with WWW-Authenticate
    # (DRF answers 403 when the first authenticator offers no challenge, as sessions don't).
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    parser_classes = [JSONParser]


# Labels

LABEL_REPLIES = {
    (200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="The labels as a PDF."),
    (200, ZPL): OpenApiResponse(
        OpenApiTypes.STR, description="ZPL II text, with `output=zpl` on a Zebra format."
    ),
}
# The label format goes in the body here; `?format=` chooses nothing (see api.renderers).
NO_FORMAT_OVERRIDE = OpenApiParameter("format", exclude=True)
LABEL_DOWNLOAD = {
    "renderer_classes": LABEL_RENDERERS,
    "content_negotiation_class": LabelNegotiation,
}


def label_response(
    items: list[LabelItem],
    *,
    fmt: LabelFormat,
    start: int = stock.START_MIN,
    output: str = "pdf",
    name: str,
) -> HttpResponse:
    """The labels as a PDF (or ZPL text), `start` being the 1-based first free position."""
    try:
        document = label_document(items, fmt, start=start, output=output)
    except LayoutError as exc:
        raise ValidationError({"format": [str(exc)]}) from exc
    content_type = f"{ZPL}; charset=utf-8" if output == "zpl" else PDF
    response = HttpResponse(document.body, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{name}.{document.extension}"'
    return response


@extend_schema_view(
    list=extend_schema(
        summary="Devices in your scope",
        description="Workshop and structure staff see the devices in their organisation's "
        "custody, coordinators all devices, funds none (they read aggregates).",
        parameters=[
            OpenApiParameter(
                "custodian",
                OpenApiTypes.INT,
                description="Id of the organisation that has custody.",
            )
        ],
        responses={200: DeviceSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        summary="One device",
        parameters=[DEVICE_ID],
        responses={200: DeviceSerializer, **errors(404)},
    ),
)
class DeviceViewSet(ApiMixin, BinaryRepliesMixin, viewsets.GenericViewSet):
    serializer_class = DeviceSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeviceFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        # Every relation the serializer reads, joined: the list costs the same at 10 or 200 rows.
        return selectors.devices_visible_to(self.request.user).select_related(
            "category", "custodian", "donor"
        )

    def get_object(self):
        # The list's query-string filters do not apply to one device.
        device = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, device)
        return device

    def list(self, request):
        devices = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(devices)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Register a device",
        description="Issues a label code (or binds the pre-printed `label_code` given) and "
        "records the registration in the device's history. Send an `Idempotency-Key` header "
        "to make retries safe: the same key with the same body replays the first successful "
        "reply (with the header `Idempotent-Replayed: true`); the same key with another body "
        "answers 422. A refused create stores nothing, so its retry runs again.",
        request=DeviceCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Any unique string up to 255 characters, e.g. a UUID.",
            )
        ],
        responses={201: DeviceSerializer, **errors(400, 403, 409, 413, 422)},
    )
    def create(self, request):
        return idempotent(request, lambda: self._register(request))

    def _register(self, request) -> Response:
        data = DeviceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device = services.device_register(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(device).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Find a device by its label code",
        description="Accepts any case and separators (`abc-def-ghj`, `ABC DEF GHJ`). A code "
        "that cannot be valid answers 400 `invalid_label_code`; a valid code of no device "
        "in your scope answers 404.",
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH),
        ],
        responses={
            200: DeviceSerializer,
            400: OpenApiResponse(InvalidLabelCodeSerializer, description="Not a label code."),
            **errors(404),
        },
    )
    @action(detail=False, methods=["get"], url_path=r"by-code/(?P<code>[^/]+)")
    def by_code(self, request, code: str):
        device = selectors.device_by_code(request.user, code)  # InvalidCode → 400
        if device is None:
            raise Http404
        return Response(self.get_serializer(device).data)

    @extend_schema(
        summary="Apply a lifecycle move",
        description="The same move repeated is harmless: it answers 200 with `changed: false`.",
        parameters=[DEVICE_ID],
        request=TransitionSerializer,
        responses={200: TransitionResultSerializer, **errors(400, 403, 404, 409, 413)},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk: str):
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.device_transition(
            actor=request.user, device_id=int(pk), **data.validated_data
        )
        context = self.get_serializer_context()
        body = {"changed": result.changed, "device": result.device}
        return Response(TransitionResultSerializer(body, context=context).data)

    @extend_schema(
        summary="The device's label",
        description="One label as a PDF on the chosen stock (`start` places it on a "
        "half-used sheet), or as ZPL text for a Zebra printer with `output=zpl`. Errors "
        "are JSON whatever the Accept header.",
        parameters=[DEVICE_ID, LabelQuerySerializer],
        responses={**LABEL_REPLIES, **errors(400, 404, media_type=JSON)},
    )
    @action(detail=True, methods=["get"], **LABEL_DOWNLOAD)
    def label(self, request, pk: str):
        query = LabelQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        device = self.get_object()
        name = f"label-{group_label_code(device.label_code_id)}"
        return label_response([item_from_device(device)], **query.validated_data, name=name)

    @extend_schema(
        summary="The device's history, newest first",
        parameters=[DEVICE_ID],
        responses={200: HistoryEntrySerializer(many=True), **errors(404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, pk: str):
        device = self.get_object()
        rows = selectors.device_history(device)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary="Organisations you may name",
        description="Coordinators see every organisation. Everyone else sees their own "
        "organisation and the active workshops and structures (the possible targets of a "
        "move). Contacts are never exposed.",
        responses={200: OrganisationSerializer(many=True), **errors(400, 404)},
    )
)
class OrganisationViewSet(ApiMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = OrganisationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrganisationFilter

    def get_queryset(self):
        return selectors.organisations_visible_to(self.request.user)


# Scanning


def _scan_detail(outcome) -> str:
    return outcome.message or str(ScanResult(outcome.result).label)


@extend_schema_view(
    create=extend_schema(
        summary="Scan a label",
        description="Resolves scanned or typed text (a label URL of this site or a bare code, "
        "any case, with or without separators) to a device in your scope, and records the "
        "scan. Text that gives no device is a result, not an HTTP error: it answers 200 with "
        "`result` invalid (not one of our codes: `code` says why, e.g. code_check for a "
        "misread check character), unknown (no device of yours has this code; another "
        "organisation's device reads the same) or unassigned (a pre-printed label not yet on "
        "a device). Send a `client_id` to make retries safe: the same id replays the first "
        "record (`replayed: true`) instead of recording a second scan.",
        request=ScanSerializer,
        responses={200: ScanReplySerializer, **errors(400, 413)},
    ),
    batch=extend_schema(
        summary="Upload a batch of scans with one move",
        description="Applies `action` to the device of each scan, in order, and reports each "
        "item's result: applied, already_done, refused (with the lifecycle's `code`, e.g. "
        "transition_not_allowed), invalid, unknown or unassigned. Every scan is recorded. "
        "Each `client_id` is yours for good: an item whose id was recorded before is not "
        "applied again but reports its first result with `replayed: true`, so uploading the "
        "same batch again (after a timeout, twice at once) applies nothing twice. Each item "
        "is applied in its own transaction: an upload cut off half-way keeps what it applied, "
        "and uploading it again completes it. A body that is not valid (a missing or repeated "
        "`client_id`, more than 500 scans, an unknown action, no such target) answers 400 and "
        "records nothing; so does a move refused for the whole batch: 400 `target_required`, "
        "`target_wrong_kind`, 409 `target_inactive`, 403 `action_forbidden` when your role "
        "does not make this move.",
        request=BatchScanSerializer,
        responses={200: BatchScanReplySerializer, **errors(400, 403, 409, 413)},
    ),
)
class ScanViewSet(ApiMixin, viewsets.ViewSet):
    def create(self, request):
        data = ScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan = data.validated_data
        outcome = scan_services.device_scan(
            actor=request.user,
            raw=scan["raw"],
            client_id=scan.get("client_id", ""),
            client_time=scan.get("scanned_at"),
        )
        device = outcome.device
        if outcome.replayed and device is not None:
            # A replayed record names the device scanned then: show it only as it is now, and
            # only if it is still in the user's scope.
            device = (
                selectors.devices_visible_to(request.user)
                .select_related("category", "custodian", "donor")
                .filter(pk=device.pk)
                .first()
            )
        body = {
            "result": outcome.result,
            "code": outcome.error_code or None,
            "detail": _scan_detail(outcome),
            "replayed": outcome.replayed,
            "device": device,
        }
        return Response(ScanReplySerializer(body, context={"request": request}).data)

    @action(detail=False, methods=["post"])
    def batch(self, request):
        data = BatchScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data
        batch = upload.get("batch") or str(uuid.uuid4())
        services.scan_move_check(
            actor=request.user, action=upload["action"], target=upload.get("target")
        )
        results = []
        for scan in upload["scans"]:
            outcome = scan_services.scan_apply(
                actor=request.user,
                raw=scan["raw"],
                action=upload["action"],
                target=upload.get("target"),
                note=upload.get("note", ""),
                client_id=scan["client_id"],
                client_time=scan.get("scanned_at"),
                batch=batch,
            )
            results.append(
                {
                    "client_id": scan["client_id"],
                    "result": outcome.result,
                    "code": outcome.error_code or None,
                    "detail": _scan_detail(outcome),
                    "device_id": outcome.event.device_id,
                    "replayed": outcome.replayed,
                }
            )
        summary = dict.fromkeys(ScanResult.values, 0)
        for result in results:
            summary[result["result"]] += 1
        body = {"batch": batch, "results": results, "summary": summary}
        return Response(BatchScanReplySerializer(body).data)


# Label printing


@extend_schema_view(
    create=extend_schema(
        summary="Labels of devices, by code",
        description="The labels of devices in your scope as one PDF (or ZPL text for a Zebra "
        "format with `output=zpl`), in the order of `codes`. A code that cannot be a label "
        "code answers 400 `invalid_label_code`, naming its position in `fields.codes`. A "
        "valid code of no device in your scope answers 404 `not_found`, naming its position "
        "the same way: a code nobody uses, a label not yet on a device and another "
        "organisation's device all read alike, so the reply tells nothing beyond your own "
        "request. Errors are JSON whatever the Accept header.",
        request=LabelsSerializer,
        parameters=[NO_FORMAT_OVERRIDE],
        responses={
            **LABEL_REPLIES,
            **errors(413, media_type=JSON),
            (400, JSON): OpenApiResponse(
                LabelErrorSerializer,
                description="Input not valid (`invalid`), or a code that cannot be a label "
                "code (`invalid_label_code` with `reason` and the positions in `fields`).",
            ),
            (404, JSON): OpenApiResponse(
                ValidationErrorSerializer,
                description="No device in your scope for the codes at the positions in "
                "`fields.codes`.",
            ),
        },
    ),
    preprint=extend_schema(
        summary="Print sheets of fresh label codes",
        description="Issues new codes that belong to no device yet and answers their labels "
        f"as a PDF: whole `sheets` (1 to {stock.MAX_PREPRINT_SHEETS}, filled from `start`) or "
        f"`count` labels (1 to {stock.MAX_PREPRINT_COUNT}). Registering a device with one of "
        "them binds it for good. Coordinators and workshop staff only. A retry issues other "
        "codes: unprinted codes are harmless, never reused. Errors are JSON whatever the "
        "Accept header.",
        request=PreprintSerializer,
        parameters=[NO_FORMAT_OVERRIDE],
        responses={
            (200, PDF): LABEL_REPLIES[(200, PDF)],
            **errors(400, 403, 413, media_type=JSON),
        },
    ),
)
class LabelViewSet(ApiMixin, BinaryRepliesMixin, viewsets.ViewSet):
    renderer_classes = LABEL_RENDERERS
    content_negotiation_class = LabelNegotiation

    def create(self, request):
        data = LabelsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        codes = _label_codes(options.pop("codes"))
        devices = {
            device.label_code_id: device
            for device in selectors.devices_visible_to(request.user)
            .select_related("category")
            .filter(label_code_id__in=set(codes))
        }
        missing = {str(i): [_NOT_IN_SCOPE] for i, code in enumerate(codes) if code not in devices}
        if missing:
            raise ItemsNotFound(_NO_DEVICES, {"codes": missing})
        items = [item_from_device(devices[code]) for code in codes]
        return label_response(items, **options, name=f"labels-{options['fmt'].name}")

    @action(detail=False, methods=["post"])
    def preprint(self, request):
        data = PreprintSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        options = data.validated_data
        codes = preprint_issue(actor=request.user, count=options["count"])
        items = [LabelItem(code=label.code) for label in codes]
        name = f"preprinted-{codes[0].preprint_run}-{options['fmt'].name}"
        return label_response(items, fmt=options["fmt"], start=options["start"], name=name)


_NOT_IN_SCOPE = _("No device in your scope has this code.")
_NO_DEVICES = _("Some codes are of no device in your scope.")


def _label_codes(raw_codes: list[str]) -> list[str]:
    codes, invalid = [], {}
    for index, raw in enumerate(raw_codes):
        try:
            codes.append(normalize_label_code(raw))
        except InvalidCode as exc:
            invalid[index] = exc
    if invalid:
        raise InvalidLabelCodes("codes", invalid)
    return codes
