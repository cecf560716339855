"""Funding programmes on the API: the coordination records them and changes them under
If-Match (a programme is edited with thought: 428 without the header, 412 on a stale read); an
allocation is attributed to one when its matching run is approved (`programme` of
/matching-runs/{id}/approve/).

The coordination reads every programme; a fund's readers their own funder's (another's answers
404); every other organisation gets 403. Only the coordination's members write (403 for
readers), refused before the body is read.
"""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response

from api.idempotency import idempotent
from api.serializers.programmes import ProgrammeSerializer, ProgrammeWriteSerializer
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
from logistics import permissions
from logistics.fund_reports.selectors import programmes_visible_to
from logistics.funding import services
from logistics.models import FundingProgramme, HandOverItem

_PROGRAMMES_FOR = _("Funding programmes are for the coordination and the funds.")
_MANAGED_BY = _("Only the coordination records funding programmes.")
_IF_MATCH_REQUIRED = _(
    "Send the programme's ETag, as you last read it, in an If-Match header: without it a "
    "change could overwrite someone else's."
)

CONDITIONAL = conditional("the programme", '"3"')


def _reader(user) -> None:
    require_reader(user, permissions.may_read_fund_reports, _PROGRAMMES_FOR)


def _writer(user) -> None:
    require_reader(user, permissions.may_manage_programmes, _MANAGED_BY)


def _programmes(user):
    """The programmes the user reads, each with its devices handed over so far: one subquery,
    the same number of queries for any page."""
    handed = (
        HandOverItem.objects.filter(allocation__programme=OuterRef("pk"))
        .order_by()
        .values("allocation__programme")
        .annotate(count=Count("id"))
        .values("count")
    )
    return programmes_visible_to(user).annotate(
        handed_over=Coalesce(Subquery(handed, output_field=IntegerField()), 0)
    )


def _with_etag(response: Response, programme: FundingProgramme) -> Response:
    response["ETag"] = f'"{programme.version}"'
    return response


@extend_schema_view(
    list=extend_schema(
        summary="Funding programmes",
        description="The latest first (by start), each with its targets, its eligibility and "
        "the devices handed over under it so far. The coordination reads every programme, a "
        "fund's readers their own funder's; other roles get 403.",
        responses={200: ProgrammeSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One funding programme",
        description="The ETag header (also the body's `version`) is what a change must send "
        "in If-Match. Another funder's programme answers 404.",
        parameters=[OBJECT_ID, CONDITIONAL.etag],
        responses={200: ProgrammeSerializer, **errors(403, 404)},
    ),
)
class ProgrammeViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = ProgrammeSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _visible(self, pk) -> FundingProgramme:
        _reader(self.request.user)
        programme = _programmes(self.request.user).filter(pk=int(pk)).first()
        if programme is None:
            raise exceptions.NotFound()
        return programme

    def _answer(self, programme_id: int, *, status_code: int = 200) -> Response:
        """The programme as it is now, with its ETag."""
        programme = _programmes(self.request.user).get(pk=programme_id)
        response = Response(ProgrammeSerializer(programme).data, status=status_code)
        return _with_etag(response, programme)

    def list(self, request):
        _reader(request.user)
        page = self.paginate_queryset(_programmes(request.user))
        return self.get_paginated_response(ProgrammeSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        programme = self._visible(pk)
        return _with_etag(Response(ProgrammeSerializer(programme).data), programme)

    @extend_schema(
        summary="Record a funding programme",
        description="Its funder (an organisation of kind fund), name and period; its targets "
        "(devices, budget, or both) and eligibility (EPT, structure types, publics, purposes; "
        "each empty for any). A value that is not valid answers 400 naming the field. The "
        "coordination's members only (403 otherwise). Answers 201 with the programme, its "
        "ETag and its address in Location. Send an `Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=ProgrammeWriteSerializer,
        responses={201: ProgrammeSerializer, **errors(400, 403, 413, 422)},
    )
    def create(self, request):
        _writer(request.user)
        response = idempotent(request, lambda: self._create(request), database_only=True)
        if response.status_code == status.HTTP_201_CREATED:  # a replay too
            response["Location"] = reverse(
                "api:programme-detail", kwargs={"pk": response.data["id"]}
            )
            response["ETag"] = f'"{response.data["version"]}"'
        return response

    def _create(self, request) -> Response:
        data = ProgrammeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        programme = services.programme_create(actor=request.user, **data.validated_data)
        return self._answer(programme.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a funding programme",
        description="Sets the fields given; the others keep their value. Its period must keep "
        "the allocations already counted in it (400 otherwise). The coordination's members "
        "only (403 otherwise). Requires If-Match with the ETag of your last read: 412 `stale` "
        "if someone changed the programme since, 428 without the header. Answers the "
        "programme as saved, with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match, CONDITIONAL.etag],
        request=ProgrammeWriteSerializer,
        responses={
            200: ProgrammeSerializer,
            **errors(400, 403, 404, 413),
            **CONDITIONAL.precondition_replies,
        },
    )
    def partial_update(self, request, pk=None):
        _writer(request.user)
        programme = self._visible(pk)
        tags = if_match_tags(request, required=True, message=_IF_MATCH_REQUIRED)
        data = ProgrammeWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.programme_update(
            actor=request.user,
            programme_id=programme.pk,
            version=edited_version(tags, str(programme.version)),
            **data.validated_data,
        )
        return self._answer(programme.pk)
