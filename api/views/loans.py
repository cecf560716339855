"""Loans on the API, and what structures report of the devices they hold.

A loan is read with its ETag (its `version`): extending it requires If-Match, as a change made
after some thought (428 without, 412 on a stale read). Recording a return takes If-Match when
given but does not require it: a return is what came back to the bench, and the loan's version
moves with every device scanned back through any door, so a required header would refuse
returns for no reason; the service locks the loan and refuses a device no longer out.

The coordination reads every loan, a structure its own, a workshop those it handed over or
delivered; the fund and donors get 403, a loan outside your scope 404. Reports: a structure
reads and makes its own, the coordination reads them all and closes them.
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

from api.idempotency import idempotent
from api.serializers.common import ErrorSerializer
from api.serializers.loans import (
    DeviceReportCloseSerializer,
    DeviceReportCreateSerializer,
    DeviceReportQuerySerializer,
    DeviceReportSerializer,
    LoanDetailSerializer,
    LoanExtendSerializer,
    LoanQuerySerializer,
    LoanReturnSerializer,
    LoanSerializer,
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
from inventory.selectors import Scope
from inventory.states import OrgKind
from logistics import permissions
from logistics.loans import selectors, services
from logistics.models import Loan

_LOANS_FOR = _("Loans are for the coordination, the workshops and the structures.")
_REPORTS_FOR = _("Device reports are for the structures and the coordination.")
_IF_MATCH_REQUIRED = _(
    "Send the loan's ETag, as you last read it, in an If-Match header: without it a change "
    "could overwrite someone else's."
)

CONDITIONAL = conditional("the loan", '"3"')
STALE = {
    412: OpenApiResponse(
        ErrorSerializer,
        description="Someone changed the loan since your read (an extension, a device "
        "returned): code `stale`. Read it again.",
    )
}
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of the loan as you last read it (from GET, or the `version` of the "
    'body, quoted or not): `"3"`. Optional here: given, the return is refused (412 '
    "`stale`) if the loan changed since; `*` or none, it applies to the loan as it is.",
)
PRECONDITION = {
    **STALE,
    428: OpenApiResponse(
        ErrorSerializer, description="No If-Match header: code `precondition_required`."
    ),
}


def _version(tags: list[str] | None, loan: Loan) -> int | None:
    """The version the client edits, as the service compares it; a tag that is no version
    (`"abc"`) is one that never matches (412)."""
    tag = edited_version(tags, str(loan.version))
    if tag is None:
        return None
    return int(tag) if tag.isascii() and tag.isdigit() and len(tag) <= 9 else 0


def _with_etag(response: Response, version: int) -> Response:
    response["ETag"] = f'"{version}"'
    return response


@extend_schema_view(
    list=extend_schema(
        summary="Loans",
        description="By due date, the soonest first. The coordination reads every loan, a "
        "structure its own, a workshop those it handed over or delivered; other roles get "
        "403. Filters (optional; a value that is not valid answers 400): `status`, "
        "`overdue=true`, `structure` (id).",
        parameters=[LoanQuerySerializer],
        responses={200: LoanSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One loan, with its devices and extensions",
        description="The ETag header (also the body's `version`) is what an extension must "
        "send in If-Match. A loan outside your scope answers 404.",
        parameters=[OBJECT_ID, CONDITIONAL.etag],
        responses={200: LoanDetailSerializer, **errors(403, 404)},
    ),
)
class LoanViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = LoanSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _visible(self, pk) -> Loan:
        require_reader(self.request.user, permissions.may_read_loans, _LOANS_FOR)
        loan = selectors.loans_visible_to(self.request.user).filter(pk=int(pk)).first()
        if loan is None:
            raise exceptions.NotFound()
        return loan

    def _answer(self, loan_id: int) -> Response:
        loan = selectors.loan_detail(self.request.user, loan_id)
        loan.item_rows = list(selectors.loan_items(loan))
        loan.extension_rows = list(selectors.loan_extensions(loan))
        return _with_etag(Response(LoanDetailSerializer(loan).data), loan.version)

    def list(self, request):
        require_reader(request.user, permissions.may_read_loans, _LOANS_FOR)
        query = LoanQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        loans = selectors.loan_list(
            request.user,
            status=query.validated_data.get("status", ""),
            overdue=query.validated_data.get("overdue", False),
            structure_id=query.validated_data.get("structure"),
        )
        page = self.paginate_queryset(loans)
        return self.get_paginated_response(LoanSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._answer(self._visible(pk).pk)

    @extend_schema(
        summary="Extend a loan",
        description="A later due date (within two years from today) and why, recorded with "
        "who and when. The coordination only (403 otherwise); a loan that ended answers 409 "
        "`loan_ended`. Requires If-Match with the ETag of your last read: 412 "
        "`stale` if the loan changed since, 428 without the header. Answers the loan "
        "with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match, CONDITIONAL.etag],
        request=LoanExtendSerializer,
        responses={
            200: LoanDetailSerializer,
            **errors(403, 404, 409, 413),
            **PRECONDITION,
        },
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk: str):
        loan = self._visible(pk)
        version = _version(if_match_tags(request, required=True, message=_IF_MATCH_REQUIRED), loan)
        data = LoanExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.loan_extend(
            actor=request.user,
            loan_id=loan.pk,
            due_on=data.validated_data["due_on"],
            reason=data.validated_data["reason"],
            version=version,
        )
        return self._answer(loan.pk)

    @extend_schema(
        summary="Record a loan's return",
        description="At the bench or the depot, all or nothing: the devices back (`returned`, "
        "each through the lifecycle's `return_loan`, into your custody, then to "
        "reconditioning) and those missing (`lost`, declared lost); the loan stays under way "
        "for the rest of a kit and ends with its last device. The coordination and the "
        "workshops (403 otherwise); a device that is not out on this loan answers 409 "
        "`not_on_loan`. If-Match is optional here: given, the return is refused (412 "
        "`stale`) if the loan changed since; absent, it applies to the loan as it is "
        "(a device already back is refused all the same). Answers the loan with its new ETag.",
        parameters=[OBJECT_ID, IF_MATCH_OPTIONAL, CONDITIONAL.etag],
        request=LoanReturnSerializer,
        responses={
            200: LoanDetailSerializer,
            **errors(403, 404, 409, 413),
            **STALE,
        },
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def record_return(self, request, pk: str):
        loan = self._visible(pk)
        version = _version(if_match_tags(request, required=False, message=_IF_MATCH_REQUIRED), loan)
        data = LoanReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.loan_return(
            actor=request.user,
            loan_id=loan.pk,
            returned=data.validated_data["returned"],
            lost=data.validated_data["lost"],
            note=data.validated_data["note"],
            version=version,
        )
        return self._answer(loan.pk)


def _may_read_reports(scope: Scope) -> bool:
    return scope.kind in {OrgKind.COORDINATOR, OrgKind.STRUCTURE}


@extend_schema_view(
    list=extend_schema(
        summary="Device reports",
        description="What structures reported of the devices they hold, newest first: a "
        "structure reads its own, the coordination every one; the open ones unless "
        "`all=true`. Other roles get 403.",
        parameters=[DeviceReportQuerySerializer],
        responses={200: DeviceReportSerializer(many=True), **errors(400, 403, 404)},
    ),
)
class DeviceReportViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = DeviceReportSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _reader(self) -> None:
        require_reader(self.request.user, _may_read_reports, _REPORTS_FOR)

    def _report(self, report_id: int):
        return selectors.report_list(self.request.user, open_only=False).get(pk=report_id)

    def list(self, request):
        self._reader()
        query = DeviceReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reports = selectors.report_list(
            request.user, open_only=not query.validated_data.get("all", False)
        )
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(DeviceReportSerializer(page, many=True).data)

    @extend_schema(
        summary="Report a device",
        description="A structure's staff, of a device their structure holds (404 otherwise; "
        "403 for other roles and readers): a loan's return announced, a gift's end of life "
        "(for WEEE collection), a breakage, or a loss (the device is declared lost at once, "
        "the rest of a kit stays on loan). 201 with the new report; the same report again "
        "answers 200 with the open one. Another open report of the device answers 409 "
        "`report_open`; a report its status does not allow 409 `report_not_applicable`. An "
        "`Idempotency-Key` replays the first reply.",
        parameters=[IDEMPOTENCY_KEY],
        request=DeviceReportCreateSerializer,
        responses={
            201: DeviceReportSerializer,
            200: DeviceReportSerializer,
            **errors(400, 403, 404, 409, 413, 422),
        },
    )
    def create(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = DeviceReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report, created = services.device_report_create(
            actor=request.user,
            device_id=data.validated_data["device"],
            kind=data.validated_data["kind"],
            note=data.validated_data["note"],
        )
        return Response(
            DeviceReportSerializer(self._report(report.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Close a report",
        description="The coordination, once it dealt with the report otherwise than by the "
        "device's return or loss (which close it themselves): how, in `note` (400 when "
        "empty). Twice changes nothing. 403 for other roles; a report outside your scope "
        "answers 404.",
        parameters=[OBJECT_ID],
        request=DeviceReportCloseSerializer,
        responses={200: DeviceReportSerializer, **errors(400, 403, 404, 413)},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk: str):
        self._reader()
        report = selectors.reports_visible_to(request.user).filter(pk=int(pk)).first()
        if report is None:
            raise exceptions.NotFound()
        data = DeviceReportCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.device_report_close(
            actor=request.user, report_id=report.pk, note=data.validated_data["note"]
        )
        return Response(DeviceReportSerializer(self._report(report.pk)).data)
