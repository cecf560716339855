"""The needs register on the API: a structure declares its needs and follows them, the
coordination reads the whole register and accepts or declines.

Each write validates its body's shape, calls one service of logistics.needs and answers the
need as it now is, with its ETag (the need's `version`). The coordination reads every need, a
structure its own; workshops, the fund and donors read none (403), and a need outside your
scope answers 404, as on the web screens.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import idempotent
from api.serializers.common import ErrorSerializer
from api.serializers.needs import (
    NeedAcceptSerializer,
    NeedCancelSerializer,
    NeedCreateSerializer,
    NeedDeclineSerializer,
    NeedRegisterQuerySerializer,
    NeedSerializer,
    NeedUnitsSerializer,
    NeedWriteSerializer,
)
from api.views.common import (
    OBJECT_ID,
    ApiMixin,
    conditional,
    edited_version,
    errors,
    if_match_tags,
    require_reader,
)
from api.views.reconditioning import IDEMPOTENCY_KEY
from inventory.errors import DomainError
from logistics import permissions
from logistics.models import Need
from logistics.needs import selectors, services
from logistics.needs.selectors import RegisterFilters

_NEEDS_FOR = _("The needs register is for the structures and the coordination.")
_IF_MATCH_REQUIRED = _(
    "Send the need's ETag, as you last read it, in an If-Match header: without it a change "
    "could overwrite someone else's."
)

CONDITIONAL = conditional("the need", '"3"')
REFUSED_MOVE = OpenApiResponse(
    ErrorSerializer,
    description="The need's status does not allow this move: `need_transition_not_allowed`.",
)
FILTERS_HELP = (
    " Filters (all optional; a value that is not valid answers 400 `invalid`): `status`, "
    "`territory` (EPT code), `commune` (INSEE code), `structure_type`, `structure` (id), "
    "`category` (a line of it), `public`, `purpose`, `older_than_days`."
)


# Reading the request


def _filters(request) -> RegisterFilters:
    query = NeedRegisterQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return RegisterFilters(**query.validated_data)


def _if_match_tags(request, *, required: bool) -> list[str] | None:
    return if_match_tags(request, required=required, message=_IF_MATCH_REQUIRED)


def _version(tags: list[str] | None, need: Need) -> str | None:
    return edited_version(tags, str(need.version))


def nested_fields(fields: dict) -> dict:
    """The services name a line's field `lines.0.quantity` (as the web forms show them); the
    API nests them as DRF does its own: {"lines": {"0": {"quantity": [...]}}}, a field's own
    messages beside its parts' under `non_field_errors`."""
    nested: dict = {}
    for key, messages in fields.items():
        *parents, last = str(key).split(".")
        node = nested
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {} if child is None else {"non_field_errors": child}
            node = child
        if isinstance(node.get(last), dict):
            node[last]["non_field_errors"] = messages
        else:
            node[last] = messages
    return nested


def _service(call):
    """Run a service call; its field errors answer in the API's nested shape."""
    try:
        return call()
    except DomainError as err:
        if err.code == "invalid" and err.params.get("fields"):
            err.params["fields"] = nested_fields(err.params["fields"])
        raise


def _with_etag(response: Response, need: Need) -> Response:
    response["ETag"] = f'"{need.version}"'
    return response


@extend_schema_view(
    list=extend_schema(
        summary="The needs register",
        description="Newest first, each need with its lines and the moves you may make. The "
        "coordination sees every need, a structure its own; other roles get 403." + FILTERS_HELP,
        parameters=[NeedRegisterQuerySerializer],
        responses={200: NeedSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One need",
        description="With its lines and the moves you may make. The ETag header (also the "
        "body's `version`) is what a change must send in If-Match. A need outside your scope "
        "answers 404.",
        parameters=[OBJECT_ID, CONDITIONAL.etag],
        responses={200: NeedSerializer, **errors(403, 404)},
    ),
)
class NeedViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = NeedSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def get_serializer_context(self):
        return super().get_serializer_context() | {"user": self.request.user}

    def _visible(self, pk) -> Need:
        require_reader(self.request.user, permissions.may_read_needs, _NEEDS_FOR)
        need = selectors.needs_visible_to(self.request.user).filter(pk=int(pk)).first()
        if need is None:
            raise exceptions.NotFound()
        return need

    def _answer(self, need_id: int) -> Response:
        """The need as it is now, with its ETag."""
        need = selectors.need_detail(self.request.user, need_id)
        return _with_etag(Response(self.get_serializer(need).data), need)

    def list(self, request):
        require_reader(request.user, permissions.may_read_needs, _NEEDS_FOR)
        needs = selectors.need_register(request.user, _filters(request))
        page = self.paginate_queryset(needs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Units asked, accepted and served in the register",
        description="Over the needs the register lists with the same filters (with `category`, "
        "that category's lines only): what the structures asked (a draft asks nothing yet), "
        "what the coordination accepted and what was allocated so far. The coordination and "
        "the structures (a structure counts its own needs); other roles get 403." + FILTERS_HELP,
        parameters=[NeedRegisterQuerySerializer],
        responses={200: NeedUnitsSerializer, **errors(400, 403)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def units(self, request):
        require_reader(request.user, permissions.may_read_needs, _NEEDS_FOR)
        filters = _filters(request)
        needs = selectors.need_register(request.user, filters)
        units = selectors.register_units(needs, category=filters.category)
        return Response(NeedUnitsSerializer(units).data)

    def retrieve(self, request, pk=None):
        need = self._visible(pk)
        return self._answer(need.pk)

    @extend_schema(
        summary="Declare a need",
        description="A structure's staff declare for their own structure, the coordination "
        "for the structure it names in `structure`; 403 for other roles and readers. The need "
        "is a draft, or submitted to the coordination at once with `submit: true`. A field or "
        "a line that is not valid answers 400 naming it (a line by its position); a structure "
        "that already has its quota of open needs 409 `too_many_open_needs`. Send an "
        "`Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=NeedCreateSerializer,
        responses={
            201: NeedSerializer,
            **errors(400, 403, 409, 413, 422),
        },
    )
    def create(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = NeedCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        need = _service(lambda: services.need_create(actor=request.user, **data.validated_data))
        need = selectors.need_detail(request.user, need.pk)
        return Response(self.get_serializer(need).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a need",
        description="While the coordination has not decided (draft or submitted): sets the "
        "fields given, the others keep their value; `lines`, given, replace every line. The "
        "structure's staff or the coordination (403 otherwise); a decided need answers 409 "
        "`need_not_editable`. Requires If-Match with the ETag of your last read: 412 `stale` "
        "if someone changed the need since, 428 without the header. Answers the need as "
        "saved, with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match, CONDITIONAL.etag],
        request=NeedWriteSerializer,
        responses={
            200: NeedSerializer,
            **errors(400, 403, 404, 409, 413),
            **CONDITIONAL.precondition_replies,
        },
    )
    def partial_update(self, request, pk=None):
        need = self._visible(pk)
        version = _version(_if_match_tags(request, required=True), need)
        data = NeedWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        _service(
            lambda: services.need_update(
                actor=request.user, need_id=need.pk, version=version, **data.validated_data
            )
        )
        return self._answer(need.pk)

    @extend_schema(
        summary="Submit a draft need to the coordination",
        description="The structure's staff or the coordination (403 otherwise); a need that "
        "is no draft answers 409. Answers the need with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match_optional, CONDITIONAL.etag],
        request=None,
        responses={200: NeedSerializer, **errors(403, 404), 409: REFUSED_MOVE, **CONDITIONAL.stale},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk: str):
        need = self._visible(pk)
        version = _version(_if_match_tags(request, required=False), need)
        _service(lambda: services.need_submit(actor=request.user, need_id=need.pk, version=version))
        return self._answer(need.pk)

    @extend_schema(
        summary="Accept a submitted need",
        description="The coordination only (403 otherwise). It may give fewer units than "
        "asked, line by line, in `quantities`; a line left out is accepted as asked, and at "
        "least one unit must remain (else decline the need). A quantity out of range or a line "
        "of another need answers 400 naming it under `quantities`; a need that is not "
        "submitted 409. Answers the need with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match_optional, CONDITIONAL.etag],
        request=NeedAcceptSerializer,
        responses={
            200: NeedSerializer,
            **errors(403, 404, 413),
            409: REFUSED_MOVE,
            **CONDITIONAL.stale,
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk: str):
        need = self._visible(pk)
        version = _version(_if_match_tags(request, required=False), need)
        data = NeedAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _service(
            lambda: services.need_accept(
                actor=request.user,
                need_id=need.pk,
                quantities=data.validated_data.get("quantities"),
                version=version,
            )
        )
        return self._answer(need.pk)

    @extend_schema(
        summary="Decline a submitted need",
        description="The coordination only (403 otherwise), telling the structure why in "
        "`reason` (400 when empty); a need that is not submitted answers 409. Answers the "
        "need with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match_optional, CONDITIONAL.etag],
        request=NeedDeclineSerializer,
        responses={
            200: NeedSerializer,
            **errors(403, 404, 413),
            409: REFUSED_MOVE,
            **CONDITIONAL.stale,
        },
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk: str):
        need = self._visible(pk)
        version = _version(_if_match_tags(request, required=False), need)
        data = NeedDeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _service(
            lambda: services.need_decline(
                actor=request.user,
                need_id=need.pk,
                reason=data.validated_data["reason"],
                version=version,
            )
        )
        return self._answer(need.pk)

    @extend_schema(
        summary="Cancel a need",
        description="The structure withdraws its need, with an optional `reason` (the "
        "coordination may do it for the structure); 403 for other roles and readers. A need "
        "already closed (declined, served, cancelled, expired) answers 409. Answers the need "
        "with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match_optional, CONDITIONAL.etag],
        request=NeedCancelSerializer,
        responses={
            200: NeedSerializer,
            **errors(403, 404, 413),
            409: REFUSED_MOVE,
            **CONDITIONAL.stale,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk: str):
        need = self._visible(pk)
        version = _version(_if_match_tags(request, required=False), need)
        data = NeedCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _service(
            lambda: services.need_cancel(
                actor=request.user,
                need_id=need.pk,
                reason=data.validated_data["reason"],
                version=version,
            )
        )
        return self._answer(need.pk)
