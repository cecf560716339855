"""The coordination's structures and their people on the API: the list and one structure (with
its ETag), adding and changing a structure, deactivating it, its people and their invitations,
and the import of a data·inclusion file.

Each write validates its body's shape and calls one service of inventory.organisations. The
coordination reads everything here, its readers included; only its other roles write (403 for
readers). Every other organisation gets 403, and an organisation that is not a structure, or a
person who is not a structure's, answers 404, as on the web screens.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.errors import error_body
from api.idempotency import idempotent
from api.serializers.common import ErrorSerializer
from api.serializers.structures import (
    InviteSerializer,
    MemberSerializer,
    StructureImportErrorSerializer,
    StructureImportQuerySerializer,
    StructureImportRefusalSerializer,
    StructureImportSerializer,
    StructureImportUploadSerializer,
    StructureQuerySerializer,
    StructureSerializer,
    StructureWriteSerializer,
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
from api.views.reconditioning import IDEMPOTENCY_KEY, MULTIPART
from inventory.errors import DomainError
from inventory.intake.services import import_max_bytes
from inventory.models import Membership, Organisation
from inventory.organisations import selectors
from inventory.organisations import services as orgs
from inventory.permissions import may_coordinate, may_read_coordination
from inventory.web.uploads import CappedUpload

_FOR_COORDINATION = _("Structures and their people are managed by the coordination.")
_READ_ONLY = _("Your role is read only: it does not allow changing structures or their people.")
_IF_MATCH_REQUIRED = _(
    "Send the structure's ETag, as you last read it, in an If-Match header: without it a "
    "change could overwrite someone else's."
)

CONDITIONAL = conditional("the structure", '"3"')
DUPLICATE = OpenApiResponse(
    ErrorSerializer,
    description="`duplicate`, with `fields`: another structure has this name or identifier "
    "(or another account this e-mail address).",
)
FILTERS_HELP = (
    " Filters (all optional; a value that is not valid answers 400 `invalid`): `territory` "
    "(EPT code), `structure_type`, `is_active`, `q` (part of the name, or the start of the "
    "SIRET or RNA number)."
)


def _reader(request) -> None:
    require_reader(request.user, may_read_coordination, _FOR_COORDINATION)


def _writer(request) -> None:
    # Checked before the body is read: a reader's write is refused as such, whatever it holds.
    _reader(request)
    require_reader(request.user, may_coordinate, _READ_ONLY)


def _structures():
    return selectors.with_versions(selectors.structure_list())


def _if_match_version(request, structure: Organisation) -> str:
    """The version the client says it edits; the service compares it under the row lock."""
    tags = if_match_tags(request, required=True, message=_IF_MATCH_REQUIRED)
    return edited_version(tags, str(structure.history_count))


@extend_schema_view(
    list=extend_schema(
        summary="Structures",
        description="By name, each with its commune, territory and number of people. The "
        "coordination, its readers included; other roles get 403." + FILTERS_HELP,
        parameters=[StructureQuerySerializer],
        responses={200: StructureSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One structure",
        description="The ETag header (also the body's `version`) is what a change must send in "
        "If-Match. An organisation that is not a structure answers 404.",
        parameters=[OBJECT_ID, CONDITIONAL.etag],
        responses={200: StructureSerializer, **errors(403, 404)},
    ),
)
class StructureViewSet(ApiMixin, viewsets.GenericViewSet):
    serializer_class = StructureSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _visible(self, pk) -> Organisation:
        _reader(self.request)
        structure = _structures().filter(pk=int(pk)).first()
        if structure is None:
            raise exceptions.NotFound()
        return structure

    def _answer(self, structure_id: int, *, status_code: int = 200) -> Response:
        """The structure as it is now, with its ETag."""
        structure = _structures().get(pk=structure_id)
        response = Response(self.get_serializer(structure).data, status=status_code)
        response["ETag"] = f'"{structure.history_count}"'
        return response

    def list(self, request):
        _reader(request)
        query = StructureQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = selectors.StructureFilters(
            territory=query.validated_data.get("territory", ""),
            structure_type=query.validated_data.get("structure_type", ""),
            active=query.validated_data.get("is_active"),
            q=query.validated_data.get("q", ""),
        )
        structures = selectors.with_versions(selectors.structure_list(filters))
        page = self.paginate_queryset(structures)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        structure = self._visible(pk)
        return self._answer(structure.pk)

    @extend_schema(
        summary="Add a structure",
        description="The coordination only (403 for its readers and other roles). A field that "
        "is not valid answers 400 naming it: the SIRET's check digit, the RNA number's form, a "
        "commune outside the network's territory, a contact that is no e-mail address or phone "
        "number; a name or an identifier another structure has, 409 `duplicate`. Send an "
        "`Idempotency-Key` to make retries safe.",
        parameters=[IDEMPOTENCY_KEY],
        request=StructureWriteSerializer,
        responses={201: StructureSerializer, **errors(400, 403, 413, 422), 409: DUPLICATE},
    )
    def create(self, request):
        _writer(request)
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = StructureWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        structure = orgs.structure_create(actor=request.user, **data.validated_data)
        return self._answer(structure.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a structure",
        description="Sets the fields given; the others keep their value. The coordination only "
        "(403 otherwise). Requires If-Match with the ETag of your last read: 412 `stale` if "
        "someone saved the structure since, 428 without the header. Answers the structure as "
        "saved, with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.if_match, CONDITIONAL.etag],
        request=StructureWriteSerializer,
        responses={
            200: StructureSerializer,
            **errors(400, 403, 404, 413),
            409: DUPLICATE,
            **CONDITIONAL.precondition_replies,
        },
    )
    def partial_update(self, request, pk=None):
        _writer(request)
        structure = self._visible(pk)
        version = _if_match_version(request, structure)
        data = StructureWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        orgs.structure_update(
            actor=request.user, structure_id=structure.pk, version=version, **data.validated_data
        )
        return self._answer(structure.pk)

    def _set_active(self, request, pk, *, active: bool) -> Response:
        _writer(request)
        structure = self._visible(pk)
        orgs.structure_set_active(actor=request.user, structure_id=structure.pk, active=active)
        return self._answer(structure.pk)

    @extend_schema(
        summary="Deactivate a structure",
        description="Its people can no longer sign in, by session or token; its records are "
        "kept. Deactivating a deactivated structure changes nothing. The coordination only "
        "(403 otherwise). Answers the structure with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.etag],
        request=None,
        responses={200: StructureSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk: str):
        return self._set_active(request, pk, active=False)

    @extend_schema(
        summary="Reactivate a structure",
        description="Its active people can sign in again. The coordination only (403 "
        "otherwise). Answers the structure with its new ETag.",
        parameters=[OBJECT_ID, CONDITIONAL.etag],
        request=None,
        responses={200: StructureSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk: str):
        return self._set_active(request, pk, active=True)

    @extend_schema(
        methods=["GET"],
        summary="A structure's people",
        description="In the order they were invited, each with their role, whether they can "
        "sign in and whether their invitation is still pending (no password chosen yet). The "
        "coordination, its readers included; other roles get 403.",
        parameters=[OBJECT_ID],
        responses={200: MemberSerializer(many=True), **errors(400, 403, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Invite someone to a structure",
        description="Opens an account with no password for the address given (also its "
        "username) and e-mails it a link to choose one, once the request has succeeded. The "
        "coordination only (403 otherwise); a deactivated structure answers 404, an address "
        "another account has 409 `duplicate`. Send an `Idempotency-Key` to make retries safe: "
        "a replay sends no second e-mail.",
        parameters=[OBJECT_ID, IDEMPOTENCY_KEY],
        request=InviteSerializer,
        responses={201: MemberSerializer, **errors(400, 403, 404, 413, 422), 409: DUPLICATE},
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk: str):
        if request.method == "POST":
            _writer(request)
            structure = self._visible(pk)
            return idempotent(request, lambda: self._invite(request, structure))
        structure = self._visible(pk)
        people = Membership.objects.filter(organisation=structure).select_related("user")
        page = self.paginate_queryset(people.order_by("id"))
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    def _invite(self, request, structure: Organisation) -> Response:
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = orgs.member_invite(
            actor=request.user, organisation_id=structure.pk, **data.validated_data
        )
        membership = Membership.objects.select_related("user").get(user=user)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberViewSet(ApiMixin, viewsets.GenericViewSet):
    """A structure's person by their user id: deactivate, reactivate, invite again."""

    serializer_class = MemberSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def _membership(self, pk) -> Membership:
        _writer(self.request)
        membership = (
            Membership.objects.select_related("user")
            .filter(user_id=int(pk), organisation__in=selectors.structures())
            .first()
        )
        if membership is None:
            raise exceptions.NotFound()
        return membership

    def _answer(self, user_id: int) -> Response:
        membership = Membership.objects.select_related("user").get(user_id=user_id)
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        summary="Deactivate a person",
        description="They can no longer sign in, by session or token (their tokens are "
        "deleted); nothing of theirs is deleted. The coordination only (403 otherwise); "
        "someone who is not a structure's person answers 404.",
        parameters=[OBJECT_ID],
        request=None,
        responses={200: MemberSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk: str):
        membership = self._membership(pk)
        orgs.member_set_active(actor=request.user, user_id=membership.user_id, active=False)
        return self._answer(membership.user_id)

    @extend_schema(
        summary="Reactivate a person",
        description="They can sign in again (if their structure is active). The coordination "
        "only (403 otherwise).",
        parameters=[OBJECT_ID],
        request=None,
        responses={200: MemberSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk: str):
        membership = self._membership(pk)
        orgs.member_set_active(actor=request.user, user_id=membership.user_id, active=True)
        return self._answer(membership.user_id)

    @extend_schema(
        summary="Send a person's invitation again",
        description="A new e-mail with a link to choose a password, for someone whose "
        "invitation is pending: 409 `already_joined` once they chose one, 409 `inactive` for "
        "a deactivated person. The coordination only (403 otherwise).",
        parameters=[OBJECT_ID],
        request=None,
        responses={200: MemberSerializer, **errors(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reinvite(self, request, pk: str):
        membership = self._membership(pk)
        orgs.member_reinvite(actor=request.user, user_id=membership.user_id)
        return self._answer(membership.user_id)


def _file_too_large() -> DomainError:
    # The donation import's refusal, for a file the upload handler stopped before it was whole.
    return DomainError(
        "file_too_large",
        _("The file is larger than %(size)s MB: split it into several files.")
        % {"size": f"{import_max_bytes() / 1024 / 1024:g}"},
        status=413,
    )


class StructureImportViewSet(ApiMixin, viewsets.ViewSet):
    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (a session's CSRF check reads the form): an oversized
        # file is never received whole nor parsed.
        if request.method == "POST":
            request.upload_handlers.insert(0, CappedUpload(request, import_max_bytes()))
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        summary="Import structures from a data·inclusion file",
        description="multipart/form-data with `file` (a CSV of the data·inclusion structures "
        "schema) and optionally `dry_run=true` (in the form or the query string). A dry run "
        "answers 200 with the rows, what each would do (`create`, or `update` a structure with "
        "the same SIRET, or else RNA number) and every problem (`errors`, each with its row "
        "and column); it writes nothing. A real run is all or nothing: 201 with the rows "
        "written, or 400 `import_invalid` with the same `errors` and nothing written. A file "
        "over the limit answers 413 `file_too_large`, before it is read. The coordination "
        "only (403 otherwise). An `Idempotency-Key` replays the first reply (the file counts "
        "by its content).",
        parameters=[IDEMPOTENCY_KEY, StructureImportQuerySerializer],
        request={MULTIPART: StructureImportUploadSerializer},
        responses={
            200: StructureImportSerializer,
            201: StructureImportSerializer,
            **errors(403, 422),
            400: OpenApiResponse(
                StructureImportRefusalSerializer,
                description="No file (`invalid` with `fields`), or rows in error "
                "(`import_invalid` with `errors`): nothing was written.",
            ),
            413: OpenApiResponse(
                ErrorSerializer,
                description="`file_too_large`: refused before it was read "
                "(REEMPLOI_IMPORT_MAX_BYTES).",
            ),
            415: OpenApiResponse(
                ErrorSerializer, description="Not multipart/form-data: `unsupported_media_type`."
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_file(self, request):
        _writer(request)
        request.data  # noqa: B018 — parsed here, through the capped upload handler
        if getattr(request._request, "upload_too_large", False):
            raise _file_too_large()
        try:
            return idempotent(request, lambda: self._import(request))
        except DomainError as err:
            if "errors" not in err.params:
                raise
            # Every problem in the reply: the exception handler keeps only code and detail.
            set_rollback()
            body = error_body(err.code, err.message)
            body["errors"] = StructureImportErrorSerializer(err.params["errors"], many=True).data
            return Response(body, status=err.status)

    def _import(self, request) -> Response:
        query = StructureImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = StructureImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # A preview never writes, whichever way it is asked for: the form or the query string.
        dry_run = data.validated_data["dry_run"] or query.validated_data["dry_run"]
        upload = data.validated_data["file"]
        result = orgs.structures_import(actor=request.user, content=upload.read(), dry_run=dry_run)
        if dry_run:
            return Response(StructureImportSerializer(result).data)
        if result.errors:
            # Nothing was written, and an Idempotency-Key is not spent on a refusal.
            raise DomainError(
                "import_invalid",
                _("The file has errors: nothing was imported."),
                status=400,
                errors=result.errors,
            )
        return Response(StructureImportSerializer(result).data, status=status.HTTP_201_CREATED)
