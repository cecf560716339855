"""Bench records on the API: everything the bench page records, for a handheld or a workshop's
own software. Each write validates its body, calls one service of inventory.reconditioning and
answers what was recorded; a refusal is the service's DomainError, mapped by api.errors.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import idempotent
from api.parsers import JSONParser
from api.renderers import PDF, PDFRenderer
from api.serializers.reconditioning import (
    AssessmentSerializer,
    BenchRecordSerializer,
    BenchReply,
    ErasureCreateSerializer,
    ErasureSerializer,
    ErasureUploadSerializer,
    FactoryResetSerializer,
    LockChecksSerializer,
    MediumCreateSerializer,
    MediumSerializer,
    RepairCreateSerializer,
    RepairSerializer,
    TestResultsSerializer,
)
from api.views.common import DEVICE_ID, JSON, ApiMixin, errors
from inventory import permissions, selectors
from inventory.errors import DomainError
from inventory.models import Device, ErasureRecord
from inventory.reconditioning import ready
from inventory.reconditioning import selectors as bench_reads
from inventory.reconditioning import services as bench

XML = "application/xml"
MULTIPART = "multipart/form-data"
# The report and the few form fields around it; anything larger is refused before it is read.
UPLOAD_MAX_BYTES = bench.REPORT_MAX_BYTES + 64 * 1024

MEDIUM_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
ERASURE_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string up to 255 characters, e.g. a UUID. The same key with the "
    "same body replays the first successful reply (header `Idempotent-Replayed: true`); with "
    "another body it answers 422.",
)
WHO = (
    " Workshop staff record on the devices in their custody, the coordination on any device at "
    "intake or at a workshop; readers and structures are refused (403), and a device outside "
    "your scope answers 404."
)
RECORD_REPLY = "Answers the whole bench record as it is now, with what ready still needs."


def _bench_device(request, pk) -> Device:
    """The device for a bench read: 404 outside the user's scope, 403 for a role that has no
    bench (structures), in the order the services check them."""
    device = get_object_or_404(
        selectors.devices_visible_to(request.user).select_related("category"), pk=pk
    )
    if not permissions.may_read_bench(selectors.user_scope(request.user)):
        raise DomainError(
            "action_forbidden",
            _("The bench record is for workshop and coordination staff."),
            status=403,
        )
    return device


def _record_reply(request, device: Device) -> Response:
    reply = BenchReply(
        device=device,
        record=bench_reads.bench_record(device),
        missing=ready.missing_before_ready(request.user, device),
    )
    return Response(BenchRecordSerializer(reply, context={"request": request}).data)


def _checklist_fields_as_sent(err: DomainError) -> None:
    # The service names a checklist item `item_<id>`; the request named it outcomes.<id>.
    fields = err.params.get("fields")
    if fields and all(name.startswith("item_") for name in fields):
        err.params["fields"] = {
            "outcomes": {name.removeprefix("item_"): msgs for name, msgs in fields.items()}
        }


def _refuse_oversized(request) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > UPLOAD_MAX_BYTES:
        raise RequestDataTooBig(_("The request body is too large."))


class DeviceBenchViewSet(ApiMixin, viewsets.ViewSet):
    lookup_value_regex = r"[0-9]+"

    @extend_schema(
        summary="The device's bench record",
        description="The current reconditioning cycle (the open one, else the last): lock "
        "checks, storage media and their erasures, the test checklist, repairs, grade, and in "
        "`missing` what the move to ready still needs, by code (e.g. `erasure_missing`, "
        "`tests_incomplete`, `grade_missing`). Workshop and coordination staff, readers "
        "included; structures get 403, a device outside your scope 404.",
        parameters=[DEVICE_ID],
        responses={200: BenchRecordSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def reconditioning(self, request, pk: str):
        return _record_reply(request, _bench_device(request, pk))

    @extend_schema(
        summary="Record lock checks",
        description="One outcome per lock kind (cleared, blocked, not_applicable); kinds left "
        "out keep their answer, and the same answer again writes nothing. The first record of "
        "a device at a workshop starts its reconditioning. " + RECORD_REPLY + WHO,
        parameters=[DEVICE_ID],
        request=LockChecksSerializer,
        responses={200: BenchRecordSerializer, **errors(400, 403, 404, 409, 413)},
    )
    @action(detail=True, methods=["post"], url_path="lock-checks")
    def lock_checks(self, request, pk: str):
        data = LockChecksSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bench.lock_checks_record(actor=request.user, device_id=int(pk), **data.validated_data)
        return _record_reply(request, _bench_device(request, pk))

    @extend_schema(
        summary="Add a storage medium",
        description="A disk or the built-in storage, to be erased before the device is ready. "
        "Two media of one device cannot share a serial number (409 `duplicate`). Send an "
        "`Idempotency-Key` to make retries safe." + WHO,
        parameters=[DEVICE_ID, IDEMPOTENCY_KEY],
        request=MediumCreateSerializer,
        responses={201: MediumSerializer, **errors(400, 403, 404, 409, 413, 422)},
    )
    @action(detail=True, methods=["post"])
    def media(self, request, pk: str):
        return idempotent(request, lambda: self._medium_add(request, pk))

    def _medium_add(self, request, pk: str) -> Response:
        data = MediumCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        medium = bench.medium_add(actor=request.user, device_id=int(pk), **data.validated_data)
        body = MediumSerializer(
            bench_reads.MediumView(medium, status="new" if medium.is_new else "missing"),
            context={"request": request},
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record an encrypted factory reset",
        description="A phone's or tablet's erasure in one step: a purge of its built-in "
        "storage by encrypted factory reset, fully verified, passed. Adds the built-in medium "
        "if none is recorded. The body is optional: the `tool` (and `tool_version`) that did "
        "the reset, kept on the erasure record. Send an `Idempotency-Key` to make retries "
        "safe." + WHO,
        parameters=[DEVICE_ID, IDEMPOTENCY_KEY],
        request=FactoryResetSerializer,
        responses={201: ErasureSerializer, **errors(400, 403, 404, 409, 413, 422)},
    )
    @action(detail=True, methods=["post"], url_path="factory-reset")
    def factory_reset(self, request, pk: str):
        return idempotent(request, lambda: self._factory_reset(request, pk))

    def _factory_reset(self, request, pk: str) -> Response:
        data = FactoryResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        erasure = bench.factory_reset_record(
            actor=request.user, device_id=int(pk), **data.validated_data
        )
        body = ErasureSerializer(erasure, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record test results",
        description="Outcomes of the device's checklist, keyed by item id or code (the `id` "
        "or `code` of the record's `checklist` lines); items left out keep their result. An "
        "item that is not on this device's checklist is named in `fields.outcomes`. "
        + RECORD_REPLY
        + WHO,
        parameters=[DEVICE_ID],
        request=TestResultsSerializer,
        responses={200: BenchRecordSerializer, **errors(400, 403, 404, 409, 413)},
    )
    @action(detail=True, methods=["post"], url_path="test-results")
    def test_results(self, request, pk: str):
        data = TestResultsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bench.test_results_record(
                actor=request.user, device_id=int(pk), outcomes=data.validated_data["outcomes"]
            )
        except DomainError as err:
            _checklist_fields_as_sent(err)
            raise
        return _record_reply(request, _bench_device(request, pk))

    @extend_schema(
        summary="Record a repair",
        description="A part replaced or work done, with its cost and time if known. Send an "
        "`Idempotency-Key` to make retries safe." + WHO,
        parameters=[DEVICE_ID, IDEMPOTENCY_KEY],
        request=RepairCreateSerializer,
        responses={201: RepairSerializer, **errors(400, 403, 404, 409, 413, 422)},
    )
    @action(detail=True, methods=["post"])
    def repairs(self, request, pk: str):
        return idempotent(request, lambda: self._repair(request, pk))

    def _repair(self, request, pk: str) -> Response:
        data = RepairCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        repair = bench.repair_record(actor=request.user, device_id=int(pk), **data.validated_data)
        return Response(RepairSerializer(repair).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Grade, battery health, operating system",
        description="Sets the fields given and leaves the others as they are; an empty grade "
        "clears it. " + RECORD_REPLY + WHO,
        parameters=[DEVICE_ID],
        request=AssessmentSerializer,
        responses={200: BenchRecordSerializer, **errors(400, 403, 404, 409, 413)},
    )
    @action(detail=True, methods=["patch"])
    def assessment(self, request, pk: str):
        data = AssessmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bench.assessment_record(actor=request.user, device_id=int(pk), **data.validated_data)
        return _record_reply(request, _bench_device(request, pk))


class MediumBenchViewSet(ApiMixin, viewsets.ViewSet):
    lookup_value_regex = r"[0-9]+"

    @extend_schema(
        summary="Record an erasure of a medium",
        description="One erasure, or the destruction, of a storage medium, as JSON or as "
        "multipart/form-data with the tool's report (a PDF or XML file up to 10 MB, stored "
        "with its SHA-256). After a failed or unverifiable erasure only a destruction is "
        "accepted for the medium (409 `destruction_required`). Send an `Idempotency-Key` to "
        "make retries safe; in a multipart body the report counts by its content." + WHO,
        parameters=[MEDIUM_ID, IDEMPOTENCY_KEY],
        request={JSON: ErasureCreateSerializer, MULTIPART: ErasureUploadSerializer},
        responses={201: ErasureSerializer, **errors(400, 403, 404, 409, 413, 422)},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def erasures(self, request, pk: str):
        _refuse_oversized(request)
        upload = request.content_type.startswith(MULTIPART)
        return idempotent(request, lambda: self._erasure(request, pk, upload))

    def _erasure(self, request, pk: str, upload: bool) -> Response:
        shape = ErasureUploadSerializer if upload else ErasureCreateSerializer
        data = shape(data=request.data)
        data.is_valid(raise_exception=True)
        erasure = bench.erasure_record(actor=request.user, medium_id=int(pk), **data.validated_data)
        body = ErasureSerializer(erasure, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class XMLFileRenderer(BaseRenderer):
    # For content negotiation only: the report itself is a FileResponse (see api.renderers).
    media_type = XML
    format = "xml"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ErasureBenchViewSet(ApiMixin, viewsets.ViewSet):
    lookup_value_regex = r"[0-9]+"
    renderer_classes = [JSONRenderer, PDFRenderer, XMLFileRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON whatever the client accepted.
        if getattr(response, "exception", False) and not isinstance(
            getattr(request, "accepted_renderer", None), JSONRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        summary="The tool report of an erasure",
        description="The file uploaded with the erasure, as it was stored (its SHA-256 is the "
        "erasure's `report_sha256`). Workshop and coordination staff of the device's scope; "
        "404 when the erasure has no report. Errors are JSON whatever the Accept header.",
        parameters=[ERASURE_ID],
        responses={
            (200, PDF): OpenApiResponse(OpenApiTypes.BINARY, description="A PDF report."),
            (200, XML): OpenApiResponse(OpenApiTypes.BINARY, description="An XML report."),
            **errors(403, 404, media_type=JSON),
        },
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk: str):
        visible = selectors.devices_visible_to(request.user)
        erasure = get_object_or_404(ErasureRecord.objects.filter(medium__device__in=visible), pk=pk)
        if not permissions.may_read_bench(selectors.user_scope(request.user)):
            raise DomainError(
                "action_forbidden",
                _("The bench record is for workshop and coordination staff."),
                status=403,
            )
        report = bench_reads.erasure_report_open(erasure)
        if report is None:
            raise Http404
        name = erasure.report.name.rsplit("/", 1)[-1]
        content_type = XML if name.lower().endswith(".xml") else PDF
        return FileResponse(
            report,
            as_attachment=True,
            filename=name,
            content_type=content_type,
        )
