"""Devices and organisations on the API: validate the input, call one service or selector,
serialise the result.

Every device read goes through inventory.selectors, so another organisation's device answers
404 exactly like a missing one."""

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from api.filters import DeviceFilter, KeptFilterBackend, OrganisationFilter
from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.renderers import BinaryRepliesMixin
from api.serializers.devices import (
    DeviceCreateSerializer,
    DeviceSerializer,
    HistoryEntrySerializer,
    OrganisationSerializer,
    TransitionResultSerializer,
    TransitionSerializer,
)
from api.serializers.labels import InvalidLabelCodeSerializer, LabelQuerySerializer
from api.views.common import DEVICE_ID, JSON, ApiMixin, errors
from api.views.labels import LABEL_DOWNLOAD, LABEL_REPLIES, label_response
from inventory import pagination, selectors, services
from inventory.codes import group_label_code
from labels.render import item_from_device

# Labels


# Query parameters a list counted by the device counters may carry: status and custody, and
# the paging's own.
_COUNTED_PARAMS = frozenset(
    {"status", "custodian", pagination.PAGE_QUERY, pagination.CURSOR_QUERY, "page_size"}
)


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
    filter_backends = [KeptFilterBackend]
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

    def page_cap(self) -> int | None:
        """A search is counted to SEARCH_CAP only (inventory.pagination)."""
        return pagination.SEARCH_CAP if self.request.query_params.get("q", "").strip() else None

    def page_total(self) -> int | None:
        """The list's total from the device counters when only status and custody filter it
        (selectors.device_list_total); None: the paginator counts the rows."""
        params = self.request.query_params
        if self.action != "list" or not set(params) <= _COUNTED_PARAMS:
            return None  # a device's history, a search, a filter the counters do not keep
        filters = getattr(self, "filterset", None)  # as KeptFilterBackend validated them
        if filters is None or not filters.is_valid():
            return None  # an invalid filter was refused before the page: never reached
        data = filters.form.cleaned_data
        return selectors.device_list_total(
            self.request.user, status=data.get("status") or "", custodian=data.get("custodian")
        )

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
        # The register writes rows only: its record is written last (api.idempotency).
        return idempotent(request, lambda: self._register(request), database_only=True)

    def _register(self, request) -> Response:
        data = DeviceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Inside idempotent()'s transaction, which any refusal rolls back whole.
        device = services.device_register(
            actor=request.user, savepoint=False, **data.validated_data
        )
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
        description="The same move repeated is harmless: it answers 200 with `changed: false`. "
        "Reserving, releasing a reservation, giving and lending belong to the allocations' "
        "workflow: here they answer 409 `move_owned_by_workflow`.",
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


# Label printing
