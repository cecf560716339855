"""Shipments on the API: batches sent to a workshop, their receipt by scanning, and a workshop's
queue."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import idempotent
from api.serializers.shipments import (
    ReceiptSerializer,
    ReceiveSerializer,
    ShipmentCreateSerializer,
    ShipmentDetailSerializer,
    ShipmentSerializer,
    WorkshopQueueSerializer,
    workshop_queue_data,
)
from api.views.common import OBJECT_ID, ApiMixin, errors, refusal, require_reader, with_problems
from api.views.reconditioning import IDEMPOTENCY_KEY
from logistics import permissions
from logistics.shipments import selectors, services

# The web screens' own refusals, word for word.
_SHIPMENTS_FOR = _("Shipments are for the coordination and the workshops.")
_QUEUE_FOR = _("The queue is for the workshops and the coordination.")


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
            409: refusal(
                "`devices_refused` with `problems`; `device_in_other_shipment` when another "
                "shipment took a device at the same time."
            ),
        },
    )
    def create(self, request):
        return with_problems(lambda: idempotent(request, lambda: self._send(request)))

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
        workshop = selectors.queue_workshop_for(request.user, int(pk))
        if workshop is None:
            raise exceptions.NotFound()
        queue = selectors.workshop_queue(request.user, workshop)
        return Response(workshop_queue_data(queue))


# WEEE disposals
