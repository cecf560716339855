"""WEEE disposals on the API: batches handed to an éco-organisme and the register as CSV."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.renderers import LabelNegotiation
from api.serializers.disposals import (
    DisposalCreateSerializer,
    DisposalDetailSerializer,
    DisposalSerializer,
    RegisterQuerySerializer,
)
from api.views.common import (
    CSV,
    JSON,
    NO_FORMAT_OVERRIDE,
    OBJECT_ID,
    ApiMixin,
    errors,
    refusal,
    require_reader,
    with_problems,
)
from api.views.reconditioning import IDEMPOTENCY_KEY
from logistics import permissions
from logistics.disposals import selectors as disposal_selectors
from logistics.disposals import services as disposals
from logistics.disposals.export import weee_register_response

_DISPOSALS_FOR = _("WEEE disposals are for the coordination and the workshops.")

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
            409: refusal(
                "Devices refused, each in `problems`; `already_disposed` without problems "
                "when another batch took a device at the same time."
            ),
        },
    )
    def create(self, request):
        return with_problems(lambda: idempotent(request, lambda: self._dispose(request)))

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
