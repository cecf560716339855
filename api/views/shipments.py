"""Logistics on the API: shipments to workshops and their receipt by scanning, a workshop's
queue, WEEE disposals and their register.

Each write validates its body and calls one service of logistics; a batch refused for some of
its devices answers every problem (`problems`), which the exception handler would drop. Reads go
through logistics' selectors: another organisation's shipment or batch answers 404, a role that
reads none of them 403, as on the web screens.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from api.errors import error_body
from api.idempotency import idempotent
from api.renderers import LabelNegotiation
from api.serializers.shipments import (
    DeviceProblemSerializer,
    DevicesRefusedSerializer,
    DisposalCreateSerializer,
    DisposalDetailSerializer,
    DisposalSerializer,
    ReceiptSerializer,
    ReceiveSerializer,
    RegisterQuerySerializer,
    ShipmentCreateSerializer,
    ShipmentDetailSerializer,
    ShipmentSerializer,
    WorkshopQueueSerializer,
)
from api.views.devices import JSON, NO_FORMAT_OVERRIDE, ApiMixin, errors
from api.views.reconditioning import IDEMPOTENCY_KEY
from inventory.errors import DomainError
from inventory.selectors import user_scope
from logistics import permissions
from logistics.disposals import selectors as disposal_selectors
from logistics.disposals import services as disposals
from logistics.disposals.export import weee_register_response
from logistics.shipments import selectors, services

CSV = "text/csv"
OBJECT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)

# The web screens' own refusals, word for word.
_SHIPMENTS_FOR = _("Shipments are for the coordination and the workshops.")
_QUEUE_FOR = _("The queue is for the workshops and the coordination.")
_DISPOSALS_FOR = _("WEEE disposals are for the coordination and the workshops.")


def _refusal(description: str) -> OpenApiResponse:
    return OpenApiResponse(DevicesRefusedSerializer, description=description)


def _with_problems(create):
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


# Shipments


@extend_schema_view(
    list=extend_schema(
        summary="Shipments to workshops",
        description="Newest first, with their device and received counts. The coordination "
        "sees every shipment, a workshop those addressed to it; other roles get 403.",
        responses={200: ShipmentSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One shipment",
        description="With its devices and, for each, when and by whom it was received. "
        "Another workshop's shipment answers 404.",
        parameters=[OBJECT_ID],
        responses={200: ShipmentDetailSerializer, **errors(403, 404)},
    ),
)
class ShipmentViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = ShipmentSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return selectors.shipments_visible_to(self.request.user)

    def list(self, request):
        require_reader(request.user, permissions.may_read_shipments, _SHIPMENTS_FOR)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ShipmentSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        require_reader(request.user, permissions.may_read_shipments, _SHIPMENTS_FOR)
        shipment = selectors.shipment_detail(request.user, int(pk))
        if shipment is None:
            raise exceptions.NotFound()
        return Response(ShipmentDetailSerializer(shipment).data)

    @extend_schema(
        summary="Send devices to a workshop",
        description="One shipment: every device listed (ids and/or label codes) moves to "
        "sent_to_workshop, or none does. A device that cannot go (no such device in your "
        "scope, not registered or returned, already travelling) answers 409 "
        "`devices_refused` with each one in `problems`. Coordination only (403). Send an "
        "`Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=ShipmentCreateSerializer,
        responses={
            201: ShipmentDetailSerializer,
            **errors(400, 403, 413, 422),
            409: _refusal(
                "`devices_refused` with `problems`; `device_in_other_shipment` when another "
                "shipment took a device at the same time."
            ),
        },
    )
    def create(self, request):
        return _with_problems(lambda: idempotent(request, lambda: self._send(request)))

    def _send(self, request) -> Response:
        data = ShipmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shipment = services.shipment_create(actor=request.user, **data.validated_data)
        body = ShipmentDetailSerializer(selectors.shipment_detail(request.user, shipment.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Receive a device of the shipment by scanning it",
        description="The addressed workshop (or the coordination) scans each device as it is "
        "unpacked: the device moves to at_workshop and its item is marked received. The same "
        "scan again answers `changed: false`. A device that is not on this shipment answers "
        "409 `not_in_shipment` (put it aside); text that is no label code 400 with its "
        "`code_…` reason. Another workshop's shipment answers 404.",
        parameters=[OBJECT_ID],
        request=ReceiveSerializer,
        responses={200: ReceiptSerializer, **errors(400, 403, 404, 409, 413)},
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk: str):
        require_reader(request.user, permissions.may_read_shipments, _SHIPMENTS_FOR)
        shipment = self.get_queryset().filter(pk=int(pk)).first()
        if shipment is None:
            raise exceptions.NotFound()
        data = ReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.shipment_receive(
            actor=request.user, shipment=shipment, raw=data.validated_data["raw"]
        )
        return Response(ReceiptSerializer(result).data)


class WorkshopViewSet(ApiMixin, viewsets.ViewSet):
    lookup_value_regex = r"[0-9]+"

    @extend_schema(
        summary="A workshop's queue",
        description="The devices in the workshop's custody by step (sent to it, received, in "
        "reconditioning), each step with its count and its oldest device's age, oldest "
        "first; in reconditioning, what each device still needs before ready (`missing`). "
        "With the workshop's turnaround, receipt to ready, over the last 90 days. A workshop "
        "reads its own queue, the coordination any active workshop's; another workshop's "
        "answers 404, other roles 403.",
        parameters=[OBJECT_ID],
        responses={200: WorkshopQueueSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def queue(self, request, pk: str):
        require_reader(request.user, permissions.may_read_shipments, _QUEUE_FOR)
        workshop = selectors.workshops_for(request.user).filter(pk=int(pk)).first()
        if workshop is None:
            raise exceptions.NotFound()
        queue = selectors.workshop_queue(request.user, workshop)
        return Response(WorkshopQueueSerializer(queue).data)


# WEEE disposals

PERIOD = [RegisterQuerySerializer]
PERIOD_HELP = " A year, dates or both narrow it to the days they share; end before start is 400."


def _period(request) -> tuple:
    query = RegisterQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["start"], query.validated_data["end"]


@extend_schema_view(
    list=extend_schema(
        summary="WEEE disposals",
        description="Batches of recycled devices handed to an éco-organisme, newest first, "
        "each with its device count. The coordination sees every batch, a workshop those it "
        "handed over; other roles get 403." + PERIOD_HELP,
        parameters=PERIOD,
        responses={200: DisposalSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One WEEE disposal",
        description="With its devices. Another workshop's batch answers 404.",
        parameters=[OBJECT_ID],
        responses={200: DisposalDetailSerializer, **errors(403, 404)},
    ),
)
class DisposalViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = DisposalSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def list(self, request):
        require_reader(request.user, permissions.may_read_disposals, _DISPOSALS_FOR)
        start, end = _period(request)
        batches = disposal_selectors.disposal_register(request.user, start=start, end=end).order_by(
            "-left_on", "-id"
        )
        page = self.paginate_queryset(batches)
        return self.get_paginated_response(DisposalSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        require_reader(request.user, permissions.may_read_disposals, _DISPOSALS_FOR)
        batch = disposal_selectors.disposal_detail(request.user, int(pk))
        if batch is None:
            raise exceptions.NotFound()
        return Response(DisposalDetailSerializer(batch).data)

    @extend_schema(
        summary="Record recycled devices leaving as WEEE",
        description="One line of the WEEE register: every device listed (ids and/or label "
        "codes) leaves in the batch, or none does. A device that cannot (not in your scope, "
        "not recycled, already gone in another batch) answers 409 with each one in "
        "`problems`; the code is the problems' own when they share one (e.g. "
        "`not_recycled`), else `devices_refused`. The coordination and the workshops (403 "
        "otherwise). Send an `Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=DisposalCreateSerializer,
        responses={
            201: DisposalDetailSerializer,
            **errors(400, 403, 413, 422),
            409: _refusal(
                "Devices refused, each in `problems`; `already_disposed` without problems "
                "when another batch took a device at the same time."
            ),
        },
    )
    def create(self, request):
        return _with_problems(lambda: idempotent(request, lambda: self._dispose(request)))

    def _dispose(self, request) -> Response:
        data = DisposalCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = disposals.disposal_create(actor=request.user, **data.validated_data)
        body = DisposalDetailSerializer(
            disposal_selectors.disposal_detail(request.user, batch.pk)
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class CSVRenderer(BaseRenderer):
    # For content negotiation only: the register itself is built by logistics.
    media_type = CSV
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class DisposalRegisterView(ApiMixin, APIView):
    renderer_classes = [CSVRenderer, JSONRenderer]
    # On the Accept header alone: `?format=` means nothing here.
    content_negotiation_class = LabelNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON whatever the client accepted.
        if getattr(response, "exception", False):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="disposals_register_csv",
        summary="The WEEE register as CSV",
        description="One line per batch, oldest first: date of removal, reference, "
        "éco-organisme, collector, number of devices, weight, document reference, who handed "
        "it over. The file the web screen exports: UTF-8 with BOM, `;` between cells, "
        "decimal commas, no cell that a spreadsheet would run as a formula." + PERIOD_HELP,
        parameters=[*PERIOD, NO_FORMAT_OVERRIDE],
        responses={
            (200, CSV): OpenApiResponse(OpenApiTypes.STR, description="The register."),
            **errors(400, 403, media_type=JSON),
        },
    )
    def get(self, request):
        require_reader(request.user, permissions.may_read_disposals, _DISPOSALS_FOR)
        start, end = _period(request)
        batches = disposal_selectors.disposal_register(request.user, start=start, end=end)
        return weee_register_response(batches, start=start, end=end)
