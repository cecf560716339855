"""Intake on the API: donors, donations and the spreadsheet import of a donation's devices.

Each write validates its body, calls one service of inventory.intake and answers what was
recorded. Donations are read by the coordination, by a workshop for the donations it collected
itself, and by a donor's people for their own (inventory.documents.selectors.
donations_visible_to); other roles get 403 on the list and 404 on a donation, as on the web
screens.
"""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.errors import error_body
from api.filters import ID_MAX, IntegerFilter, TypedFilterSet
from api.idempotency import idempotent
from api.serializers.common import ErrorSerializer
from api.serializers.devices import DeviceSerializer
from api.serializers.intake import (
    DonationSerializer,
    DonationWriteSerializer,
    DonorCreateSerializer,
    DonorSerializer,
    ImportErrorSerializer,
    ImportPreviewSerializer,
    ImportQuerySerializer,
    ImportReplySerializer,
    ImportUploadSerializer,
    RowErrorSerializer,
)
from api.views.common import ApiMixin, conditional, edited_version, errors, if_match_tags
from api.views.reconditioning import IDEMPOTENCY_KEY, MULTIPART
from inventory import selectors
from inventory.documents.selectors import donations_visible_to
from inventory.errors import DomainError
from inventory.intake import selectors as intake_selectors
from inventory.intake import services as intake
from inventory.models import Donation
from inventory.states import OrgKind
from inventory.web.uploads import CappedUpload

DONATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)
CONDITIONAL = conditional("the donation", '"3f9c0a6b21d4e870"')
IMPORT_REFUSALS = {
    400: OpenApiResponse(
        ImportErrorSerializer,
        description="No file (`invalid` with `fields`), rows in error (`import_invalid` "
        "with `errors`), or, preview or not, a file that cannot be read as a whole, with its "
        "reason as the code and as the one item of `errors`: `unreadable`, `old_excel`, "
        "`encrypted`, `empty_file`, `too_much_data` (an archive declaring too much once "
        "unpacked, refused before any parsing), `suspicious_archive`, `too_many_rows`, "
        "`mixed_encoding` (a CSV mixing UTF-8 and Windows-1252, naming the first row that is "
        "not UTF-8). Nothing was written.",
    ),
    409: OpenApiResponse(
        ImportErrorSerializer,
        description="`already_imported`: these bytes were imported before; `duplicate` (with "
        "`errors`): a device of the file was registered meanwhile. Nothing was written.",
    ),
    413: OpenApiResponse(
        ErrorSerializer,
        description="`file_too_large`: refused before it was read (REEMPLOI_IMPORT_MAX_BYTES).",
    ),
    415: OpenApiResponse(
        ErrorSerializer, description="Not multipart/form-data: `unsupported_media_type`."
    ),
}

_NOT_YOURS = _("Donations are handled by the coordination and the workshops that collect.")
_DEVICES_FOR_COORDINATION = _(
    "The devices of a donation are listed for the coordination and the workshop that collected it."
)
_IF_MATCH_REQUIRED = _(
    "Send the donation's ETag, as you last read it, in an If-Match header: without it a "
    "change could overwrite someone else's."
)


def _reads_donations(user) -> bool:
    scope = selectors.user_scope(user)
    return scope.sees_all or scope.kind in {OrgKind.DONOR, OrgKind.WORKSHOP}


def _if_match_version(request, donation: Donation) -> str:
    """The version the client says it edits; the service compares it under the row lock."""
    tags = if_match_tags(request, required=True, message=_IF_MATCH_REQUIRED)
    return edited_version(tags, intake_selectors.donation_version(donation))


class DonationFilter(TypedFilterSet):
    non_empty = ("donor",)

    donor = IntegerFilter(
        field_name="donor_id", min_value=1, max_value=ID_MAX, help_text="Id of the donor."
    )

    class Meta:
        model = Donation
        fields = ["donor"]


def _with_etag(response: Response, donation: Donation) -> Response:
    response["ETag"] = f'"{intake_selectors.donation_version(donation)}"'
    return response


@extend_schema_view(
    list=extend_schema(
        summary="Donations",
        description="Newest first, with their device counts. The coordination sees every "
        "donation, a workshop the donations it collected itself, a donor's people their own; "
        "other roles get 403.",
        responses={200: DonationSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One donation",
        description="With its counts: announced by the donor, counted on arrival, registered. "
        "The ETag header (also the body's `version`) is what a change must send in If-Match. "
        "A donation outside your scope answers 404.",
        parameters=[DONATION_ID, CONDITIONAL.etag],
        responses={200: DonationSerializer, **errors(404)},
    ),
)
class DonationViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = DonationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DonationFilter
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return (
            donations_visible_to(self.request.user)
            .select_related("collected_by")
            .annotate(registered_count=Count("devices"))
            .order_by("-received_on", "-id")
        )

    def get_object(self) -> Donation:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_serializer_context(self):
        # Notes are for who records donations (the coordination, a workshop for its own).
        recorder = selectors.user_scope(self.request.user).kind != OrgKind.DONOR
        return super().get_serializer_context() | {"recorder": recorder}

    def list(self, request):
        if not _reads_donations(request.user):
            raise exceptions.PermissionDenied(_NOT_YOURS)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        donation = self.get_object()
        return _with_etag(Response(self.get_serializer(donation).data), donation)

    @extend_schema(
        summary="Record a donation",
        description="The coordination, or a workshop that collected the devices itself (the "
        "donation is then its own: `collected_by`); 403 otherwise. The donor must be an "
        "active organisation of kind donor; an attestation needs both its signatory and its "
        "date. Send an `Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=DonationWriteSerializer,
        responses={201: DonationSerializer, **errors(400, 403, 413, 422)},
    )
    def create(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = DonationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        donation = intake.donation_create(actor=request.user, **data.validated_data)
        donation.registered_count = 0
        body = self.get_serializer(donation).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a donation",
        description="Sets the fields given; the others keep their value. The coordination, or "
        "the workshop that collected it (403 otherwise). Requires If-Match with the ETag of "
        "your last read: 412 `stale` if someone saved the donation since, 428 without the "
        "header. Answers the donation as saved, with its new ETag.",
        parameters=[DONATION_ID, CONDITIONAL.if_match, CONDITIONAL.etag],
        request=DonationWriteSerializer,
        responses={
            200: DonationSerializer,
            **errors(400, 403, 404, 413),
            **CONDITIONAL.precondition_replies,
        },
    )
    def partial_update(self, request, pk=None):
        donation = self.get_object()
        version = _if_match_version(request, donation)
        data = DonationWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        intake.donation_update(
            actor=request.user, donation_id=donation.pk, version=version, **data.validated_data
        )
        donation = self.get_object()
        return _with_etag(Response(self.get_serializer(donation).data), donation)

    @extend_schema(
        summary="The donation's devices",
        description="In registration order, in the shape of /api/devices/. The coordination, "
        "and the workshop that collected the donation (the devices in its custody): a donor's "
        "people get 403 (their donation's counts are in the donation), other roles 404.",
        parameters=[DONATION_ID],
        responses={200: DeviceSerializer(many=True), **errors(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def devices(self, request, pk: str):
        donation = self.get_object()
        if selectors.user_scope(request.user).kind == OrgKind.DONOR:
            raise exceptions.PermissionDenied(_DEVICES_FOR_COORDINATION)
        devices = (
            selectors.devices_visible_to(request.user)
            .filter(donation=donation)
            .select_related("category", "custodian", "donor")
            .order_by("id")
        )
        page = self.paginate_queryset(devices)
        context = self.get_serializer_context()
        return self.get_paginated_response(DeviceSerializer(page, many=True, context=context).data)


def _file_too_large() -> DomainError:
    # The service's own refusal, for a file the upload handler stopped before it was whole.
    return DomainError(
        "file_too_large",
        _("The file is larger than %(size)s MB: split it into several files.")
        % {"size": f"{intake.import_max_bytes() / 1024 / 1024:g}"},
        status=413,
    )


def _import_refusal(err: DomainError) -> Response:
    """The refusal with every row problem: the exception handler keeps only code and detail."""
    set_rollback()
    body = error_body(err.code, err.message, err.params.get("fields"))
    body["errors"] = RowErrorSerializer(err.params["errors"], many=True).data
    return Response(body, status=err.status)


class DonationImportViewSet(ApiMixin, viewsets.ViewSet):
    parser_classes = [MultiPartParser]
    lookup_value_regex = r"[0-9]+"

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (a session's CSRF check reads the form): an oversized
        # file is never received whole nor parsed.
        if request.method == "POST":
            request.upload_handlers.insert(0, CappedUpload(request, intake.import_max_bytes()))
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        summary="Import the donation's devices from a spreadsheet",
        description="multipart/form-data with `file` (CSV or .xlsx, columns named in French or "
        "English) and optionally `dry_run=true` (in the form or the query string). A dry run "
        "answers 200 with the columns read, "
        "the row count, a preview and every problem (`errors`, each with its row, column and "
        "code); it writes nothing. A real run is all or nothing: 201 with the devices "
        "registered and their label codes, or 400 `import_invalid` with the same `errors` and "
        "nothing written. The same file twice answers 409 `already_imported`; a file over the "
        "limit 413 `file_too_large`, before it is read. The coordination, or the workshop "
        "that collected the donation (403 for other roles); a donation outside your scope "
        "answers 404. An `Idempotency-Key` replays the first reply (the "
        "file counts by its content).",
        parameters=[DONATION_ID, IDEMPOTENCY_KEY, ImportQuerySerializer],
        request={MULTIPART: ImportUploadSerializer},
        responses={
            200: ImportPreviewSerializer,
            201: ImportReplySerializer,
            **errors(403, 404, 422),
            **IMPORT_REFUSALS,
        },
    )
    @action(detail=True, methods=["post"], url_path="import")
    def import_file(self, request, pk: str):
        donation = get_object_or_404(donations_visible_to(request.user), pk=pk)
        request.data  # noqa: B018 — parsed here, through the capped upload handler
        if getattr(request._request, "upload_too_large", False):
            raise _file_too_large()
        try:
            return idempotent(request, lambda: self._import(request, donation))
        except DomainError as err:
            if "errors" not in err.params:
                raise
            return _import_refusal(err)

    def _import(self, request, donation: Donation) -> Response:
        query = ImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        # A preview never writes, whichever way it is asked for: the form or the query string.
        dry_run = data.validated_data["dry_run"] or query.validated_data["dry_run"]
        result = intake.devices_import(
            actor=request.user,
            donation=donation,
            file_name=upload.name,
            content=upload.read(),
            dry_run=dry_run,
        )
        if dry_run:
            return Response(ImportPreviewSerializer(result).data)
        return Response(ImportReplySerializer(result).data, status=status.HTTP_201_CREATED)


class DonorViewSet(ApiMixin, viewsets.ViewSet):
    @extend_schema(
        summary="Record a donor",
        description="The coordination and the workshops (403 otherwise). Names are unique "
        "among donors, "
        "whatever the case (400 naming `name`). Send an `Idempotency-Key` to make retries "
        "safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=DonorCreateSerializer,
        responses={201: DonorSerializer, **errors(400, 403, 413, 422)},
    )
    def create(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = DonorCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        donor = intake.donor_create(actor=request.user, **data.validated_data)
        return Response(DonorSerializer(donor).data, status=status.HTTP_201_CREATED)
