"""Hand-overs on the API: allocated devices given or lent to their structure in one step,
against a receipt (bon de remise) whose PDF is kept as evidence, signed on a screen or on a
paper copy uploaded later.

The coordination reads every hand-over, a workshop those it made, a structure its own; the fund
and donors get 403, a hand-over outside your scope 404. Each write validates its body's shape,
calls one service of logistics.handovers and answers the hand-over as it now is.
"""

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.parsers import JSONParser
from api.renderers import PDF, LabelNegotiation, PDFRenderer
from api.serializers.common import ErrorSerializer
from api.serializers.handovers import (
    HandOverCreateSerializer,
    HandOverDetailSerializer,
    HandOverPaperSerializer,
    HandOverQuerySerializer,
    HandOverSerializer,
    HandOverSignSerializer,
)
from api.views.common import (
    JSON,
    NO_FORMAT_OVERRIDE,
    OBJECT_ID,
    ApiMixin,
    errors,
    require_reader,
)
from api.views.reconditioning import IDEMPOTENCY_KEY, MULTIPART
from inventory.errors import DomainError
from inventory.web.uploads import CappedUpload
from logistics import permissions
from logistics.handovers import selectors, services
from logistics.handovers.receipt import receipt_pdf
from logistics.models import Loan, Mode

# The web screens' own refusal, word for word.
_HAND_OVERS_FOR = _(
    "Hand-overs are for the coordination, the workshops and the structures. The fund reads "
    "the network's figures on the home page."
)

NOT_HANDED = OpenApiResponse(
    ErrorSerializer,
    description="`allocation_not_active`: an allocation was handed over or cancelled (by a "
    "hand-over at the same time, say), its devices named in `detail`; "
    "`already_handed_over`: the same, decided by the database; `not_delivered`: a structure "
    "confirms only devices it received from a delivery. Nothing was handed over.",
)
ALREADY_SIGNED = OpenApiResponse(
    ErrorSerializer, description="The receipt is already signed: `already_signed`."
)


def _reader(user) -> None:
    require_reader(user, permissions.may_read_hand_overs, _HAND_OVERS_FOR)


def _file_too_large() -> DomainError:
    # The service's own refusal, for a file the upload handler stopped before it was whole.
    return DomainError(
        "file_too_large",
        _("The file is larger than 10 MB."),
        status=413,
    )


@extend_schema_view(
    list=extend_schema(
        summary="Hand-overs",
        description="Newest first, with their device and loan counts. The coordination reads "
        "every hand-over, a workshop those it made, a structure its own; other roles get "
        "403. Filters (optional; a value that is not valid answers 400): `unsigned`, "
        "`structure` (id).",
        parameters=[HandOverQuerySerializer],
        responses={200: HandOverSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One hand-over, with its devices",
        description="Each device as the receipt lists it, gift or loan, and the loan of the "
        "devices lent. The receipt itself is `receipt.pdf` beside it. A hand-over outside "
        "your scope answers 404.",
        parameters=[OBJECT_ID],
        responses={200: HandOverDetailSerializer, **errors(403, 404)},
    ),
)
class HandOverViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = HandOverSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (a session's CSRF check reads the form): a paper copy
        # above the limit is never received whole (only the signature takes a file).
        if request.method == "POST":
            request.upload_handlers.insert(0, CappedUpload(request, services.MAX_PAPER_BYTES))
        return super().initialize_request(request, *args, **kwargs)

    def _visible(self, pk) -> int:
        _reader(self.request.user)
        found = (
            selectors.hand_overs_visible_to(self.request.user)
            .filter(pk=int(pk))
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise exceptions.NotFound()
        return found

    def _detail(self, hand_over_id: int) -> dict:
        hand_over = selectors.hand_over_detail(self.request.user, hand_over_id)
        rows = selectors.hand_over_items(hand_over)
        hand_over.item_rows = list(rows)
        hand_over.device_count = len(hand_over.item_rows)
        hand_over.loan_count = sum(1 for item in hand_over.item_rows if item.mode == Mode.LOAN)
        hand_over.loan_id = (
            Loan.objects.filter(hand_over=hand_over).values_list("pk", flat=True).first()
        )
        return HandOverDetailSerializer(hand_over).data

    def list(self, request):
        _reader(request.user)
        query = HandOverQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hand_overs = selectors.hand_over_list(
            request.user,
            unsigned=query.validated_data.get("unsigned", False),
            structure_id=query.validated_data.get("structure"),
        )
        page = self.paginate_queryset(hand_overs)
        return self.get_paginated_response(HandOverSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self._detail(self._visible(pk)))

    @extend_schema(
        summary="Hand devices over",
        description="The allocated devices named in `allocations` become the structure's "
        "(gifts) or start one loan with one due date (the devices lent, an itinerant kit "
        "for instance), all or nothing; the receipt is drawn and stored with its verification "
        "code. The coordination, a workshop for the devices at its bench, or the structure "
        "for devices it received from a delivery (403 for other roles and readers). An "
        "allocation outside your scope answers 404. Answers the hand-over with its devices "
        "and its loan. Send an `Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=HandOverCreateSerializer,
        responses={
            201: HandOverDetailSerializer,
            **errors(400, 403, 404, 413, 422),
            409: NOT_HANDED,
        },
    )
    def create(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = HandOverCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        hand_over = services.hand_over_create(
            actor=request.user,
            allocation_ids=values["allocations"],
            received_by_name=values["received_by_name"],
            received_by_role=values["received_by_role"],
            due_on=values["due_on"],
            note=values["note"],
        )
        return Response(self._detail(hand_over.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Sign the receipt",
        description="As JSON, the signature drawn on the screen by the person receiving "
        "(`signer_name`, and `image` as a PNG data URL); or as multipart/form-data, a signed "
        "paper copy (`signer_name`, and `file`: a PDF, PNG or JPEG up to 10 MB, refused "
        "before it is read beyond: 413 `file_too_large`). The receipt is drawn again with the "
        "signature and stored. The coordination, the workshop that handed over, or the "
        "structure (403 for other roles and readers). A receipt signed already answers 409 "
        "`already_signed`.",
        parameters=[OBJECT_ID],
        request={JSON: HandOverSignSerializer, MULTIPART: HandOverPaperSerializer},
        responses={
            200: HandOverDetailSerializer,
            **errors(403, 404),
            409: ALREADY_SIGNED,
            413: OpenApiResponse(
                ErrorSerializer,
                description="`file_too_large`: a paper copy above 10 MB, refused before it "
                "was read; `request_too_large`: a body above the upload limit.",
            ),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def signature(self, request, pk: str):
        hand_over_id = self._visible(pk)
        request.data  # noqa: B018 — parsed here, through the capped upload handler
        if getattr(request._request, "upload_too_large", False):
            raise _file_too_large()
        if request.content_type.startswith(MULTIPART):
            paper = HandOverPaperSerializer(data=request.data)
            paper.is_valid(raise_exception=True)
            services.hand_over_attach_paper(
                actor=request.user,
                hand_over_id=hand_over_id,
                signer_name=paper.validated_data["signer_name"],
                content=paper.validated_data["file"].read(),
            )
        else:
            drawn = HandOverSignSerializer(data=request.data)
            drawn.is_valid(raise_exception=True)
            _drawn_sign(request.user, hand_over_id, drawn.validated_data)
        return Response(self._detail(hand_over_id))


def _drawn_sign(user, hand_over_id: int, values: dict) -> None:
    """The services name the drawing `signature`, as the web form does; the body's field is
    `image`."""
    try:
        image = services.signature_from_data_url(values["image"])
        services.hand_over_sign(
            actor=user,
            hand_over_id=hand_over_id,
            signer_name=values["signer_name"],
            image=image,
        )
    except DomainError as err:
        fields = err.params.get("fields")
        if err.code == "invalid" and fields and "signature" in fields:
            fields["image"] = fields.pop("signature")
        raise


class HandOverReceiptView(ApiMixin, APIView):
    renderer_classes = [PDFRenderer, JSONRenderer]
    # On the Accept header alone: `?format=` means nothing here.
    content_negotiation_class = LabelNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON whatever the client accepted.
        if getattr(response, "exception", False):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="hand_overs_receipt_pdf",
        summary="The hand-over's receipt (PDF)",
        description="The receipt as last issued and stored: at the hand-over, then again once "
        "signed (its SHA-256 is the hand-over's `receipt_sha256`). A hand-over outside your "
        "scope answers 404, as does a receipt whose file is missing (`receipt_missing`). "
        "Errors are JSON whatever the Accept header.",
        parameters=[OBJECT_ID, NO_FORMAT_OVERRIDE],
        responses={
            (200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="The receipt."),
            **errors(403, 404, media_type=JSON),
        },
    )
    def get(self, request, pk):
        _reader(request.user)
        hand_over = selectors.hand_over_detail(request.user, pk)
        if hand_over is None:
            raise exceptions.NotFound()
        pdf = receipt_pdf(hand_over)
        if pdf is None:
            raise DomainError(
                "receipt_missing", _("The stored receipt of this hand-over is missing."), status=404
            )
        response = HttpResponse(pdf, content_type=PDF)
        response["Content-Disposition"] = f'inline; filename="{hand_over.reference}.pdf"'
        return response
