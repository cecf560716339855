"""The fund's figures and reports on the API: the live figures of a period (`/fund/figures/`),
the whole report of a period drawn now (`/fund/report/`, and as PDF, CSV or XLSX), and the
reports issued and frozen (`/fund/reports/`): their figures and files as stored, never redrawn,
and what changed since they were issued.

The coordination reads every programme's figures and issues the reports; a fund's readers read
the network's figures, their own programmes' and the reports of those (and the network's); every
other organisation gets 403, another funder's programme or report 404. No person is named: a
report says when it was issued, not by whom.
"""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.renderers import PDF, LabelNegotiation, PDFRenderer
from api.serializers.common import ErrorSerializer
from api.serializers.fund_reports import (
    ALL_DIMENSIONS,
    NOT_APPLICABLE,
    FiguresQuerySerializer,
    FundFiguresSerializer,
    FundReportChangesSerializer,
    FundReportDetailSerializer,
    FundReportDocumentSerializer,
    FundReportSerializer,
    PeriodQuerySerializer,
    ReportIssueSerializer,
)
from api.views.common import (
    CSV,
    JSON,
    NO_FORMAT_OVERRIDE,
    OBJECT_ID,
    ApiMixin,
    errors,
    require_reader,
)
from api.views.disposals import CSVRenderer
from api.views.reconditioning import IDEMPOTENCY_KEY
from inventory.errors import DomainError, invalid
from logistics import permissions
from logistics.fund_reports import figures, selectors, services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The selectors' own refusal, word for word.
_REPORTS_FOR = _("The fund's reports are for the coordination and the funds.")
_ISSUED_BY = _("Only the coordination issues the fund's reports.")

SCOPE_HELP = (
    " The coordination reads the network and every programme; a fund's readers the network "
    "and their own programmes (another funder's programme answers 404); other roles get 403."
)
PERIOD_HELP = (
    " The period is `start` to `end`, both included: by default the current year to date; "
    "a date that is not YYYY-MM-DD, outside 2000–2099, an end before the start or a period "
    "longer than five years answers 400 naming the field."
)


class XLSXRenderer(BaseRenderer):
    # For content negotiation only: the workbook is built by logistics.fund_reports.
    media_type = XLSX
    format = "xlsx"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


FILES = {
    "pdf": (PDF, PDFRenderer),
    "csv": (f"{CSV}; charset=utf-8", CSVRenderer),
    "xlsx": (XLSX, XLSXRenderer),
}


def _reader(user) -> None:
    require_reader(user, permissions.may_read_fund_reports, _REPORTS_FOR)


def _period_and_scope(request, serializer_class=PeriodQuerySerializer):
    """The query's period and scope, once the user may read the fund's figures at all: a
    refused role learns nothing of its query's faults."""
    _reader(request.user)
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    values = query.validated_data
    scope = selectors.report_scope_for(request.user, values["programme"])
    return figures.Period(values["start"], values["end"]), scope, values


def _scope_block(scope: figures.Scope) -> dict:
    programme = scope.programme
    return {
        "programme": programme.pk if programme else None,
        "programme_name": programme.name if programme else None,
        "funder": programme.funder.name if programme else None,
    }


def _metric_table(table: dict) -> dict:
    return {key: {"label": str(label), "kind": kind} for key, (label, kind) in table.items()}


def _figures(period: figures.Period, scope: figures.Scope, dimensions: list[str]) -> dict:
    """The dashboard's share of the report (selectors.report_build): totals, months, the
    breakdowns asked and the workshops, without the impact's tables and the programmes."""
    return {
        "period": period.as_dict(),
        "scope": _scope_block(scope),
        "metrics": _metric_table(figures.METRICS),
        "dimensions": {key: str(label) for key, label in figures.DIMENSIONS.items()},
        "totals": figures.figures_totals(period, scope),
        "months": figures.figures_by_month(period, scope),
        "breakdowns": {
            dimension: figures.figures_by(period, scope, dimension) for dimension in dimensions
        },
        "workshop_metrics": _metric_table(figures.WORKSHOP_METRICS),
        "workshops": figures.workshop_figures(period, scope),
        "definitions": [str(text) for text in figures.DEFINITIONS],
    }


class FundFiguresView(ApiMixin, APIView):
    @extend_schema(
        operation_id="fund_figures_retrieve",
        summary="The fund's figures for a period",
        description="Totals and months of the period, the rows of one dimension (`breakdown`) "
        "or of all, and each workshop's bench figures (the network only). Each metric's label "
        "and kind (count, rate from 0 to 1, days, kg) are in `metrics`; what each one counts "
        "is in `definitions`. " + NOT_APPLICABLE + SCOPE_HELP + PERIOD_HELP,
        parameters=[FiguresQuerySerializer],
        responses={200: FundFiguresSerializer, **errors(400, 403, 404)},
    )
    def get(self, request):
        period, scope, values = _period_and_scope(request, FiguresQuerySerializer)
        breakdown = values.get("breakdown")
        dimensions = (
            list(figures.DIMENSIONS)
            if breakdown == ALL_DIMENSIONS
            else [breakdown]
            if breakdown
            else []
        )
        return Response(_figures(period, scope, dimensions))


class FundReportDocumentView(ApiMixin, APIView):
    @extend_schema(
        operation_id="fund_report_retrieve",
        summary="The fund's report of a period, drawn now",
        description="Every figure of the period and scope as one document: totals, months, "
        "every breakdown, the workshops, the impact with its factors and assumptions, and the "
        "programmes against their targets. The same document as `report.pdf`, `report.csv` "
        "and `report.xlsx` beside it, and as a report issued for the period "
        "(`/api/fund/reports/`), which keeps it as it was. "
        + NOT_APPLICABLE
        + SCOPE_HELP
        + PERIOD_HELP,
        parameters=[PeriodQuerySerializer],
        responses={200: FundReportDocumentSerializer, **errors(400, 403, 404)},
    )
    def get(self, request):
        period, scope, _values = _period_and_scope(request)
        return Response(selectors.report_build(period, scope))


class _FileView(ApiMixin, APIView):
    """A file answered as bytes; its errors are JSON whatever the client accepted."""

    kind = ""
    # On the Accept header alone: `?format=` means nothing here.
    content_negotiation_class = LabelNegotiation

    def get_renderers(self):
        return [FILES[self.kind][1](), JSONRenderer()]

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(response, "exception", False):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def _file(self, content: bytes, name: str) -> HttpResponse:
        response = HttpResponse(content, content_type=FILES[self.kind][0])
        response["Content-Disposition"] = f'attachment; filename="{name}.{self.kind}"'
        return response


def _draw(kind: str, document: dict) -> bytes:
    # Drawn by logistics.fund_reports' exports, imported when asked for.
    from logistics.fund_reports.exports import report_csv, report_xlsx
    from logistics.fund_reports.pdf import report_pdf

    return {"pdf": report_pdf, "csv": report_csv, "xlsx": report_xlsx}[kind](document)


class _LiveFileView(_FileView):
    def get(self, request):
        period, scope, _values = _period_and_scope(request)
        document = selectors.report_build(period, scope)
        name = f"report-{period.start.isoformat()}-{period.end.isoformat()}"
        if scope.programme is not None:
            name += f"-{scope.programme.reference}"
        return self._file(_draw(self.kind, document), name)


def _live_schema(kind: str, media_type: str, what: str):
    return extend_schema(
        operation_id=f"fund_report_{kind}",
        summary=f"The fund's report of a period, drawn now ({kind.upper()})",
        description=f"The report of `/api/fund/report/` {what}, drawn at the request (an issued "
        "report's stored file is under `/api/fund/reports/{id}/`). Errors are JSON whatever the "
        "Accept header." + SCOPE_HELP + PERIOD_HELP,
        parameters=[PeriodQuerySerializer, NO_FORMAT_OVERRIDE],
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            **errors(400, 403, 404, media_type=JSON),
        },
    )


class FundReportPDFView(_LiveFileView):
    kind = "pdf"

    @_live_schema("pdf", PDF, "as a PDF to print or send")
    def get(self, request):
        return super().get(request)


class FundReportCSVView(_LiveFileView):
    kind = "csv"

    @_live_schema("csv", CSV, "as CSV (UTF-8 with BOM, `;` between cells)")
    def get(self, request):
        return super().get(request)


class FundReportXLSXView(_LiveFileView):
    kind = "xlsx"

    @_live_schema("xlsx", XLSX, "as an XLSX workbook")
    def get(self, request):
        return super().get(request)


LIVE_FILE_VIEWS = {"pdf": FundReportPDFView, "csv": FundReportCSVView, "xlsx": FundReportXLSXView}


# Issued reports


def _visible_report(user, pk):
    _reader(user)
    report = selectors.reports_visible_to(user).filter(pk=int(pk)).first()
    if report is None:
        raise exceptions.NotFound()
    return report


def _issue_scope(user, programme_id) -> figures.Scope:
    """In a body, a programme that is not one is a field's fault (400), not an address's."""
    try:
        return selectors.report_scope_for(user, programme_id)
    except DomainError as err:
        if err.code != "not_found":
            raise
        raise invalid({"programme": [_("No such programme.")]}) from err


@extend_schema_view(
    list=extend_schema(
        summary="The fund's issued reports",
        description="Newest first, without their figures. The coordination reads every one; a "
        "fund's readers the network's and their own programmes'; other roles get 403.",
        responses={200: FundReportSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One issued report, with its figures as frozen",
        description="Its figures exactly as stored when it was issued (their SHA-256, over the "
        "canonical JSON, is `figures_sha256`), its files' SHA-256 and its verification code. "
        "Later corrections never change it: see `changes/`. Another funder's report answers "
        "404.",
        parameters=[OBJECT_ID],
        responses={200: FundReportDetailSerializer, **errors(403, 404)},
    ),
)
class FundReportViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = FundReportSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def list(self, request):
        _reader(request.user)
        reports = selectors.reports_visible_to(request.user).defer("figures")
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(FundReportSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(FundReportDetailSerializer(_visible_report(request.user, pk)).data)

    @extend_schema(
        summary="Issue the report of a period",
        description="Freezes the figures of the period (`start` to `end`, at most five years, "
        "from 2000 to 2099) for the network or one `programme`: the document, its PDF, CSV and "
        "XLSX (drawn in French) are stored with their SHA-256 and a verification code; nothing "
        "ever changes them. The coordination only (403 otherwise); an unknown programme "
        "answers 400 naming it. Answers 201 with the report and its address in Location. "
        "Send an `Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=ReportIssueSerializer,
        responses={201: FundReportSerializer, **errors(400, 403, 409, 413, 422)},
    )
    def create(self, request):
        # Refused as such before the body is read, whatever it holds.
        require_reader(request.user, permissions.may_issue_fund_reports, _ISSUED_BY)
        response = idempotent(request, lambda: self._create(request))
        if response.status_code == status.HTTP_201_CREATED:  # a replay too
            response["Location"] = reverse(
                "api:fund-report-detail", kwargs={"pk": response.data["id"]}
            )
        return response

    def _create(self, request) -> Response:
        data = ReportIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        report = services.report_issue(
            actor=request.user,
            period=figures.Period(values["start"], values["end"]),
            scope=_issue_scope(request.user, values["programme"]),
        )
        report = selectors.reports_visible_to(request.user).defer("figures").get(pk=report.pk)
        return Response(FundReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="What changed since a report was issued",
        description="The report's period and scope computed again today, compared figure by "
        "figure with the frozen ones (totals, months, every breakdown, the workshops): each "
        "figure that differs, as frozen and as now. Corrections made since (a device recorded "
        "late, a hand-over cancelled) show here; the report itself never changes. Another "
        "funder's report answers 404.",
        parameters=[OBJECT_ID],
        responses={200: FundReportChangesSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def changes(self, request, pk: str):
        report = _visible_report(request.user, pk)
        changes = services.report_changes(report)
        return Response(
            {
                "report": report.pk,
                "reference": report.reference,
                "count": len(changes),
                "changes": changes,
            }
        )


class _StoredFileView(_FileView):
    def get(self, request, pk):
        report = _visible_report(request.user, pk)
        content = services.report_file(report, self.kind)
        if content is None:
            raise DomainError(
                "report_file_missing",
                _("The stored file of this report is missing."),
                status=404,
            )
        return self._file(content, report.reference)


def _stored_schema(kind: str, media_type: str):
    return extend_schema(
        operation_id=f"fund_reports_{kind}",
        summary=f"An issued report's {kind.upper()}, as stored",
        description="The file as it was drawn when the report was issued, byte for byte (its "
        f"SHA-256 is the report's `{kind}_sha256`), never drawn again. Another funder's report "
        "answers 404, as does a report whose file is missing (`report_file_missing`). Errors "
        "are JSON whatever the Accept header.",
        parameters=[OBJECT_ID, NO_FORMAT_OVERRIDE],
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            **errors(403, 404, media_type=JSON),
            (404, JSON): OpenApiResponse(
                ErrorSerializer,
                description="No such report in your scope (`not_found`), or its stored file "
                "is missing (`report_file_missing`).",
            ),
        },
    )


class FundReportStoredPDFView(_StoredFileView):
    kind = "pdf"

    @_stored_schema("pdf", PDF)
    def get(self, request, pk):
        return super().get(request, pk)


class FundReportStoredCSVView(_StoredFileView):
    kind = "csv"

    @_stored_schema("csv", CSV)
    def get(self, request, pk):
        return super().get(request, pk)


class FundReportStoredXLSXView(_StoredFileView):
    kind = "xlsx"

    @_stored_schema("xlsx", XLSX)
    def get(self, request, pk):
        return super().get(request, pk)


STORED_FILE_VIEWS = {
    "pdf": FundReportStoredPDFView,
    "csv": FundReportStoredCSVView,
    "xlsx": FundReportStoredXLSXView,
}
