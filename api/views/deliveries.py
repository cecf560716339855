"""Deliveries on the API: allocated devices leave a workshop for their structure, directly or
through the coordination's depot, and arrive device by device, scanned or ticked.

The coordination reads every delivery, a workshop those it sends, a structure those addressed
to it; the fund and donors get 403, a delivery outside your scope 404, as on the web screens.
Each write validates its body's shape, calls one service of logistics.deliveries and answers
the delivery as it now is.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import idempotent
from api.serializers.common import ErrorSerializer
from api.serializers.deliveries import (
    DeliveriesBuildSerializer,
    DeliveryCancelSerializer,
    DeliveryCreateSerializer,
    DeliveryDetailSerializer,
    DeliveryQuerySerializer,
    DeliveryReceiptSerializer,
    DeliveryReceiveSerializer,
    DeliverySerializer,
)
from api.views.common import OBJECT_ID, ApiMixin, errors, require_reader
from api.views.reconditioning import IDEMPOTENCY_KEY
from inventory.models import Organisation
from logistics import permissions
from logistics.deliveries import selectors, services

_DELIVERIES_FOR = _("Deliveries are for the coordination, the workshops and the structures.")
_NO_STRUCTURE = _("Deliveries go to an active structure.")

STAGE_REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="The delivery's stage does not allow this step: `delivery_stage`.",
)
NOT_MADE = OpenApiResponse(
    ErrorSerializer,
    description="`devices_refused`: an allocation is no longer active, its device is not "
    "reserved or already in a delivery (each named in `detail`); `device_in_other_shipment`: "
    "another delivery took a device at the same time. Nothing was prepared.",
)
WHO_PREPARES = (
    " The coordination, and the workshops for the devices at their bench (403 otherwise)."
)


@extend_schema_view(
    list=extend_schema(
        summary="Deliveries to structures",
        description="Newest first, with their device and received counts. The coordination "
        "reads every delivery, a workshop those it sends, a structure those addressed to it; "
        "other roles get 403. Filters (optional; a value that is not valid answers 400): "
        "`stage` (or `open`), `structure` (id).",
        parameters=[DeliveryQuerySerializer],
        responses={200: DeliverySerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One delivery, with its devices",
        description="Each device with its allocation and, once it arrived, when and by whom "
        "it was received. A delivery outside your scope answers 404.",
        parameters=[OBJECT_ID],
        responses={200: DeliveryDetailSerializer, **errors(403, 404)},
    ),
)
class DeliveryViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = DeliverySerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _reader(self) -> None:
        require_reader(self.request.user, permissions.may_read_deliveries, _DELIVERIES_FOR)

    def _visible(self, pk) -> int:
        """The delivery's id, or 404 outside the user's scope (403 for a role without any)."""
        self._reader()
        found = (
            selectors.deliveries_visible_to(self.request.user)
            .filter(pk=int(pk))
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise exceptions.NotFound()
        return found

    def _detail(self, delivery_id: int) -> dict:
        delivery = selectors.delivery_detail(self.request.user, delivery_id)
        delivery.item_rows = list(selectors.delivery_items(delivery))
        delivery.device_count = len(delivery.item_rows)
        delivery.received_count = sum(1 for i in delivery.item_rows if i.received_at is not None)
        return DeliveryDetailSerializer(delivery).data

    def list(self, request):
        self._reader()
        query = DeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deliveries = selectors.delivery_list(
            request.user,
            stage=query.validated_data.get("stage", ""),
            structure_id=query.validated_data.get("structure"),
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self._detail(self._visible(pk)))

    @extend_schema(
        summary="Prepare a delivery",
        description="A delivery being prepared of the `allocations` named, or of every "
        "allocation of the `structure` not yet on its way that you may send; all of them go, "
        "or none. An allocation that does not exist or whose device is not at your workshop "
        "answers 404; a body that is not valid 400 naming the field." + WHO_PREPARES + " Send "
        "an `Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=DeliveryCreateSerializer,
        responses={
            201: DeliveryDetailSerializer,
            **errors(400, 403, 404, 413, 422),
            409: NOT_MADE,
        },
    )
    def create(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = DeliveryCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        structure = None
        if values.get("structure") is not None:
            structure = Organisation.objects.filter(pk=values["structure"]).first()
            if structure is None:
                raise serializers.ValidationError({"structure": [_NO_STRUCTURE]})
        delivery = services.delivery_create(
            actor=request.user,
            structure=structure,
            allocation_ids=values.get("allocations"),
            via_depot=values["via_depot"],
            expected_on=values["expected_on"],
            carrier=values["carrier"],
            notes=values["notes"],
        )
        return Response(self._detail(delivery.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Prepare a delivery per structure",
        description="Every allocation not yet on its way that you may send (the coordination: "
        "all; a workshop: those at its bench), one delivery per structure (several when a "
        "structure has more than a van's load); all or none. Nothing waiting answers 400."
        + WHO_PREPARES
        + " Send an `Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=DeliveriesBuildSerializer,
        responses={
            201: DeliverySerializer(many=True),
            **errors(400, 403, 413, 422),
            409: NOT_MADE,
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def build(self, request):
        return idempotent(request, lambda: self._build(request))

    def _build(self, request) -> Response:
        data = DeliveriesBuildSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        made = services.deliveries_build(
            actor=request.user, via_depot=data.validated_data["via_depot"]
        )
        rows = selectors.delivery_list(request.user).filter(pk__in=[d.pk for d in made])
        return Response(DeliverySerializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The delivery leaves",
        description="From the bench: on its way to the depot (`via_depot`) or to the "
        "structure; from the depot (the coordination only): to the structure. Once it left, "
        "the same call again changes nothing. An empty delivery, or one delivered or "
        "cancelled, answers 409 `delivery_stage`." + WHO_PREPARES,
        parameters=[OBJECT_ID],
        request=None,
        responses={200: DeliveryDetailSerializer, **errors(403, 404), 409: STAGE_REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_delivery(self, request, pk: str):
        delivery_id = self._visible(pk)
        services.delivery_dispatch(actor=request.user, delivery_id=delivery_id)
        return Response(self._detail(delivery_id))

    @extend_schema(
        summary="The delivery arrives at the depot",
        description="The coordination only (403 otherwise); twice changes nothing. A delivery "
        "that is not on its way to the depot answers 409 `delivery_stage`.",
        parameters=[OBJECT_ID],
        request=None,
        responses={200: DeliveryDetailSerializer, **errors(403, 404), 409: STAGE_REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="receive-at-depot")
    def receive_at_depot(self, request, pk: str):
        delivery_id = self._visible(pk)
        services.delivery_receive_at_depot(actor=request.user, delivery_id=delivery_id)
        return Response(self._detail(delivery_id))

    @extend_schema(
        summary="A device of the delivery arrived",
        description="Scanned (`code`: the label's URL or code) or ticked (`item`: the item's "
        "id), one of the two, by the structure or the coordination (403 otherwise). The same "
        "device again answers `changed: false`; with its last device the delivery is "
        "delivered. A device that is not on this delivery answers 409 `not_in_shipment`; a "
        "delivery that has not left 409 `delivery_stage`; text that is no label code 400 "
        "with its `code_…` reason.",
        parameters=[OBJECT_ID],
        request=DeliveryReceiveSerializer,
        responses={
            200: DeliveryReceiptSerializer,
            **errors(403, 404, 413),
            409: OpenApiResponse(
                ErrorSerializer, description="`not_in_shipment` or `delivery_stage`."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk: str):
        delivery_id = self._visible(pk)
        data = DeliveryReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.delivery_receive(
            actor=request.user,
            delivery_id=delivery_id,
            raw=data.validated_data.get("code"),
            item_id=data.validated_data.get("item"),
        )
        delivery = selectors.delivery_detail(request.user, delivery_id)
        body = {
            "changed": receipt.changed,
            "item": selectors.delivery_items(delivery).get(pk=receipt.item.pk),
            "delivery": selectors.delivery_list(request.user).get(pk=delivery_id),
        }
        return Response(DeliveryReceiptSerializer(body).data)

    @extend_schema(
        summary="Cancel a delivery being prepared",
        description="Its devices wait to leave again; an optional `reason`. Twice changes "
        "nothing; a delivery that left answers 409 `delivery_stage`." + WHO_PREPARES,
        parameters=[OBJECT_ID],
        request=DeliveryCancelSerializer,
        responses={
            200: DeliveryDetailSerializer,
            **errors(403, 404, 413),
            409: STAGE_REFUSED,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        delivery_id = self._visible(pk)
        data = DeliveryCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.delivery_cancel(
            actor=request.user, delivery_id=delivery_id, reason=data.validated_data["reason"]
        )
        return Response(self._detail(delivery_id))
