"""Labels on the API: PDF or ZPL sheets for devices in the user's scope and pre-printed codes.

Label-sheet rules and limits are labels.stock's; this module only reads the request and answers."""

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from api.errors import InvalidLabelCodes, ItemsNotFound
from api.renderers import LABEL_RENDERERS, PDF, ZPL, BinaryRepliesMixin, LabelNegotiation
from api.serializers.common import ValidationErrorSerializer
from api.serializers.labels import LabelErrorSerializer, LabelsSerializer, PreprintSerializer
from api.views.common import JSON, NO_FORMAT_OVERRIDE, ApiMixin, errors
from inventory import selectors
from inventory.codes import InvalidCode, normalize_label_code
from labels import stock
from labels.documents import label_document
from labels.formats import LabelFormat
from labels.render import LabelItem, LayoutError, item_from_device
from labels.services import preprint_issue

LABEL_REPLIES = {
    (200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="The labels as a PDF."),
    (200, ZPL): OpenApiResponse(
        OpenApiTypes.STR, description="ZPL II text, with `output=zpl` on a Zebra format."
    ),
}

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
