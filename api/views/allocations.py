"""Matching runs, the matching policy and allocations on the API.

The coordination runs the matching (`POST /matching-runs/`), reads a run's proposal with its
explanations, trims it line by line (`/matching-runs/{id}/lines/{line_id}/remove/`, `/restore/`,
`/swap/`: nested under their run, as on the run's page) and approves or discards it. Approving
creates the allocations and reserves their devices, all or nothing: a device taken since the
proposal answers 409 `devices_taken` listing them, and nothing is written. Runs and the policy
are the coordination's: other roles get 403. Allocations are read as the web screens read
them: the coordination every one, a structure its own, a workshop the active ones of the
devices it holds; the fund and donors get 403, an allocation outside your scope 404.

Each write validates its body's shape, calls one service of logistics.allocations and answers
what it now is.
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
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from api.errors import error_body
from api.idempotency import idempotent
from api.serializers.allocations import (
    AllocationCancelSerializer,
    AllocationQuerySerializer,
    AllocationSerializer,
    DevicesTakenSerializer,
    MatchingWeightsSerializer,
    RunApproveSerializer,
    RunCreateSerializer,
    RunDetailSerializer,
    RunDiscardSerializer,
    RunLineReplySerializer,
    RunLineSwapSerializer,
    RunSerializer,
)
from api.serializers.common import ErrorSerializer
from api.views.common import OBJECT_ID, ApiMixin, errors, require_reader
from api.views.reconditioning import IDEMPOTENCY_KEY
from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.permissions import may_read_coordination
from inventory.selectors import Scope
from inventory.states import OrgKind
from logistics.allocations import explain, selectors, services

_RUNS_FOR = _("Matching runs are the coordination's work.")
_ALLOCATIONS_FOR = _("Allocations are for the coordination, the structures and the workshops.")
LINE_ID = OpenApiParameter(
    "line_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of a line of the run."
)
RUN_DECIDED = OpenApiResponse(
    ErrorSerializer,
    description="The run was already approved or discarded: `run_decided`.",
)
DEVICES_TAKEN = OpenApiResponse(
    DevicesTakenSerializer,
    description="`devices_taken`: devices of the proposal were taken since (another approval, "
    "a move), each in `devices`; nothing was approved. `need_already_served`: need lines were "
    "served, cancelled or changed since. `run_decided`: the run was already decided. Run the "
    "matching again. `programme_not_eligible`: an allocation could not count in the programme "
    "asked, why in `reasons`; nothing was approved.",
)
LINE_REPLIES = {
    200: RunLineReplySerializer,
    **errors(403, 404),
    409: RUN_DECIDED,
}


def _may_read_allocations(scope: Scope) -> bool:
    return scope.kind in {OrgKind.COORDINATOR, OrgKind.STRUCTURE, OrgKind.WORKSHOP}


def _devices_taken(call):
    """Run `call`; a refusal naming the devices taken since the proposal answers them all, one
    by a funding programme answers why each allocation is not eligible."""
    try:
        return call()
    except DomainError as err:
        if err.code == "programme_not_eligible":
            set_rollback()
            body = error_body(err.code, err.message) | {"reasons": err.params.get("reasons", {})}
            return Response(body, status=err.status)
        if err.code != "devices_taken":
            raise
        set_rollback()
        ids = list(err.params.get("devices") or [])
        codes = selectors.device_codes(ids)
        body = error_body(err.code, err.message)
        body["devices"] = [
            {
                "id": pk,
                "label_code": codes.get(pk, ""),
                "label_code_display": group_label_code(codes[pk]) if codes.get(pk) else "",
            }
            for pk in ids
        ]
        return Response(body, status=err.status)


@extend_schema_view(
    list=extend_schema(
        summary="Matching runs",
        description="The coordination's runs, newest first, without their lines; other roles "
        "get 403.",
        responses={200: RunSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One matching run, with its proposal explained",
        description="Its proposed lines (by structure, then need line), each with the "
        "constraints the device meets and the terms of its cost, in codes and in words; and "
        "the lines in its scope it could not serve wholly, with the reason.",
        parameters=[OBJECT_ID],
        responses={200: RunDetailSerializer, **errors(403, 404)},
    ),
)
class MatchingRunViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = RunSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _reader(self) -> None:
        require_reader(self.request.user, may_read_coordination, _RUNS_FOR)

    def _run(self, pk):
        """The run with its lines explained, or 404."""
        self._reader()
        run = selectors.run_detail(self.request.user, int(pk))
        if run is None:
            raise exceptions.NotFound()
        explain.explain_run(run, selectors.device_grades(line.device_id for line in run.line_rows))
        return run

    def list(self, request):
        self._reader()
        page = self.paginate_queryset(selectors.runs_visible_to(request.user))
        return self.get_paginated_response(RunSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(RunDetailSerializer(self._run(pk)).data)

    @extend_schema(
        summary="Run the matching",
        description="Proposes ready devices for the accepted need lines: as many units as "
        "possible, then fairly shared, then at the least cost (logistics.matching). Scoped, "
        "optionally, to one EPT (`territory`: the needs of its structures) and one category. "
        "`weights` replace the policy's for this run only, field by field. Nothing is "
        "reserved until the run is approved. The coordination only (403 otherwise); an unknown "
        "territory, category or weight answers 400 naming it. Send an `Idempotency-Key` to "
        "make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=RunCreateSerializer,
        responses={201: RunDetailSerializer, **errors(400, 403, 413, 422)},
    )
    def create(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = RunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.matching_run_create(
            actor=request.user,
            territory=data.validated_data["territory"],
            category=data.validated_data["category"],
            weights=data.validated_data.get("weights"),
        )
        return Response(RunDetailSerializer(self._run(run.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a run",
        description="Creates one allocation per line approved (every line not taken out, or "
        "those named in `lines`) and reserves its device, all or nothing; the need lines count "
        "the units served. With a `programme`, every allocation counts in that funding "
        "programme, each checked eligible first, or nothing is approved (409 "
        "`programme_not_eligible`, why in `reasons`). Answers the allocations made. The "
        "coordination only (403 otherwise); a line not in the run, or an unknown programme, "
        "answers 400. Send an `Idempotency-Key` to make retries safe.",
        parameters=[OBJECT_ID, IDEMPOTENCY_KEY],
        request=RunApproveSerializer,
        responses={
            201: AllocationSerializer(many=True),
            **errors(400, 403, 404, 413, 422),
            409: DEVICES_TAKEN,
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk: str):
        return _devices_taken(lambda: idempotent(request, lambda: self._approve(request, pk)))

    def _approve(self, request, pk) -> Response:
        self._reader()
        data = RunApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.matching_run_approve(
            actor=request.user,
            run_id=int(pk),
            line_ids=data.validated_data.get("lines"),
            programme=data.validated_data["programme"],
        )
        allocations = selectors.allocation_list(request.user, run=int(pk))
        return Response(
            AllocationSerializer(allocations, many=True).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Discard a run",
        description="Nothing is reserved; the run stays readable. The coordination only (403 "
        "otherwise).",
        parameters=[OBJECT_ID],
        request=RunDiscardSerializer,
        responses={200: RunSerializer, **errors(403, 404, 413), 409: RUN_DECIDED},
    )
    @action(detail=True, methods=["post"])
    def discard(self, request, pk: str):
        self._reader()
        data = RunDiscardSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.matching_run_discard(
            actor=request.user, run_id=int(pk), reason=data.validated_data["reason"]
        )
        return Response(RunSerializer(selectors.runs_visible_to(request.user).get(pk=run.pk)).data)

    def _line_reply(self, pk, line_id) -> Response:
        run = self._run(pk)
        line = next(line for line in run.line_rows if line.pk == line_id)
        line.run_units_proposed = run.units_proposed
        return Response(RunLineReplySerializer(line).data)

    @extend_schema(
        summary="Take a line out of a run's proposal",
        description="Before approving: the line is kept, marked `removed`, and can be put back. "
        "The coordination only (403 otherwise).",
        parameters=[OBJECT_ID, LINE_ID],
        request=None,
        responses=LINE_REPLIES,
    )
    @action(detail=True, methods=["post"], url_path=r"lines/(?P<line_id>[0-9]+)/remove")
    def line_remove(self, request, pk: str, line_id: str):
        self._reader()
        line = services.run_line_remove(actor=request.user, run_id=int(pk), line_id=int(line_id))
        return self._line_reply(pk, line.pk)

    @extend_schema(
        summary="Put a line back in a run's proposal",
        description="The coordination only (403 otherwise).",
        parameters=[OBJECT_ID, LINE_ID],
        request=None,
        responses=LINE_REPLIES,
    )
    @action(detail=True, methods=["post"], url_path=r"lines/(?P<line_id>[0-9]+)/restore")
    def line_restore(self, request, pk: str, line_id: str):
        self._reader()
        line = services.run_line_restore(actor=request.user, run_id=int(pk), line_id=int(line_id))
        return self._line_reply(pk, line.pk)

    @extend_schema(
        summary="Propose another device for a line",
        description="A ready device (id or label code) that meets the need line and is on no "
        "other line of the run. Not ready: 409 `device_not_ready`; on another line: 409 "
        "`device_in_run`; not suitable: 409 `device_unsuitable`, naming what it misses. The "
        "coordination only (403 otherwise).",
        parameters=[OBJECT_ID, LINE_ID],
        request=RunLineSwapSerializer,
        responses={**LINE_REPLIES, **errors(403, 404, 409, 413)},
    )
    @action(detail=True, methods=["post"], url_path=r"lines/(?P<line_id>[0-9]+)/swap")
    def line_swap(self, request, pk: str, line_id: str):
        self._reader()
        data = RunLineSwapSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = services.run_line_swap(
            actor=request.user,
            run_id=int(pk),
            line_id=int(line_id),
            device=data.validated_data["device"],
        )
        return self._line_reply(pk, line.pk)


class MatchingPolicyView(ApiMixin, APIView):
    @extend_schema(
        operation_id="matching_policy_retrieve",
        summary="The matching's weights and limits",
        description="What the next runs use (each run keeps its own copy). The coordination "
        "only, its readers included (403 otherwise).",
        responses={200: MatchingWeightsSerializer, **errors(403)},
    )
    def get(self, request):
        require_reader(request.user, may_read_coordination, _RUNS_FOR)
        return Response(MatchingWeightsSerializer(services.policy_weights().to_dict()).data)

    @extend_schema(
        operation_id="matching_policy_update",
        summary="Set the matching's weights and limits",
        description="The whole policy, every field given (read it, change it, send it back); a "
        "value out of range answers 400 naming it, and nothing changes. The next runs use it. "
        "The coordination's members only (403 otherwise).",
        request=MatchingWeightsSerializer,
        responses={200: MatchingWeightsSerializer, **errors(400, 403, 413)},
    )
    def put(self, request):
        require_reader(request.user, may_read_coordination, _RUNS_FOR)
        data = MatchingWeightsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        weights = services.policy_update(actor=request.user, weights=data.validated_data)
        return Response(MatchingWeightsSerializer(weights.to_dict()).data)


_ALLOCATION_FILTERS = (
    " Filters (optional; a value that is not valid answers 400): `status`, `structure` (id), "
    "`run` (id)."
)


@extend_schema_view(
    list=extend_schema(
        summary="Allocations",
        description="Newest first. The coordination reads every allocation, a structure its "
        "own, a workshop the active ones of the devices it holds (to prepare them); other roles "
        "get 403." + _ALLOCATION_FILTERS,
        parameters=[AllocationQuerySerializer],
        responses={200: AllocationSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One allocation",
        description="An allocation outside your scope answers 404.",
        parameters=[OBJECT_ID],
        responses={200: AllocationSerializer, **errors(403, 404)},
    ),
)
class AllocationViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = AllocationSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _visible(self, pk):
        require_reader(self.request.user, _may_read_allocations, _ALLOCATIONS_FOR)
        allocation = selectors.allocation_list(self.request.user).filter(pk=int(pk)).first()
        if allocation is None:
            raise exceptions.NotFound()
        return allocation

    def list(self, request):
        require_reader(request.user, _may_read_allocations, _ALLOCATIONS_FOR)
        query = AllocationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        allocations = selectors.allocation_list(request.user, **query.validated_data)
        page = self.paginate_queryset(allocations)
        return self.get_paginated_response(AllocationSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(AllocationSerializer(self._visible(pk)).data)

    @extend_schema(
        summary="Cancel an allocation",
        description="Its device is ready again and its need line one unit short. Say why in "
        "`reason` (400 when empty). The coordination only (403 otherwise); an allocation that "
        "is no longer active answers 409 `allocation_not_active`.",
        parameters=[OBJECT_ID],
        request=AllocationCancelSerializer,
        responses={200: AllocationSerializer, **errors(403, 404, 409, 413)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        allocation = self._visible(pk)
        data = AllocationCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.allocation_cancel(
            actor=request.user, allocation_id=allocation.pk, reason=data.validated_data["reason"]
        )
        return Response(AllocationSerializer(self._visible(pk)).data)
