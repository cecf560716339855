"""Web screens of the network's organisations: the coordination's structures and their people
(the list, the form, a structure's page with its people and their invitations, the import of a
data·inclusion file), and the page an invitation's link opens, where an invited person chooses
a password.

The coordination reads the structure screens, its readers included; only its other roles
change anything (the services refuse the rest). Other organisations get the 403 page, and an
organisation that is not a structure answers 404. Each view makes at most one service call.
"""

import hashlib
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from inventory.errors import DomainError
from inventory.intake.forms import ImportConfirmForm
from inventory.intake.services import import_max_bytes
from inventory.models import Commune, Membership, Organisation
from inventory.models.organisations import StructureType
from inventory.organisations import selectors
from inventory.organisations import services as orgs
from inventory.organisations.forms import (
    InviteForm,
    StructureFilterForm,
    StructureForm,
    StructureImportForm,
)
from inventory.permissions import may_coordinate, may_read_coordination, require_screen
from inventory.selectors import Scope, user_scope
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from inventory.web.structure_facts import structure_facts
from inventory.web.uploads import (
    CappedUpload,
    pending_drop,
    pending_load,
    pending_store,
    upload_content,
)

PAGE_SIZE = 50
# Rows of an import shown in its preview; the counts above the table cover them all.
PREVIEW_ROWS = 200

NOT_YOURS = gettext_lazy("Structures and their people are managed by the coordination.")
READ_ONLY = gettext_lazy(
    "Your role is read only: it does not allow changing structures or their people."
)


def _reader(request) -> Scope:
    scope = user_scope(request.user)
    require_screen(may_read_coordination(scope), NOT_YOURS)
    return scope


def _writer(request) -> Scope:
    scope = _reader(request)
    require_screen(may_coordinate(scope), READ_ONLY)
    return scope


def _structure(pk: int) -> Organisation:
    # A workshop's, a donor's or the coordination's own pk is no structure: 404.
    return get_object_or_404(selectors.structures().select_related("commune__territory"), pk=pk)


def _refuse_forbidden(err: DomainError) -> None:
    if err.status == 403:
        raise PermissionDenied(err.message) from err


def _detail_url(structure_id: int, anchor: str = "") -> str:
    url = reverse("inventory:structure_detail", args=[structure_id])
    return f"{url}#{anchor}" if anchor else url


# The list, the form


@login_required
def structure_list(request):
    scope = _reader(request)
    filters = StructureFilterForm(request.GET or None)
    page = page_of(request, selectors.structure_list(filters.filters()), size=PAGE_SIZE)
    return render(
        request,
        "organisations/structure_list.html",
        {
            "filters": filters,
            "filtered": filters.filtered,
            "page": page,
            "may_write": may_coordinate(scope),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_create(request):
    _writer(request)
    form = StructureForm(request.POST or None, initial={"token": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            structure, earlier = record_once(
                user=request.user,
                name="structure",
                token=form.cleaned_data["token"] or uuid.uuid4().hex,
                create=lambda: orgs.structure_create(
                    actor=request.user, **form.service_arguments()
                ),
            )
        except DomainError as err:
            _refuse_forbidden(err)
            form.add_domain_error(err)
        else:
            if earlier:
                messages.info(request, _("This structure was already added."))
                return redirect("inventory:structure_detail", pk=earlier)
            messages.success(
                request,
                _("Structure “%(name)s” added: invite its people from this page.")
                % {"name": structure.name},
            )
            return redirect("inventory:structure_detail", pk=structure.pk)
    return render(request, "organisations/structure_form.html", {"form": form, "structure": None})


@login_required
@require_http_methods(["GET", "POST"])
def structure_edit(request, pk: int):
    _writer(request)
    structure = _structure(pk)
    initial = {name: getattr(structure, name) for name in orgs.STRUCTURE_FIELDS}
    initial |= {"commune": structure.commune_id or "", "version": orgs.structure_version(structure)}
    form = StructureForm(request.POST or None, initial=initial)
    status, stale = 200, False
    if request.method == "POST" and form.is_valid():
        try:
            orgs.structure_update(
                actor=request.user,
                structure_id=structure.pk,
                version=form.cleaned_data["version"] or None,
                **form.service_arguments(),
            )
        except DomainError as err:
            _refuse_forbidden(err)
            # A stale edit keeps what was typed, with the service's message above the form.
            form.add_domain_error(err)
            stale = err.code == "stale"
            status = err.status if stale else 200
        else:
            messages.success(request, _("Structure “%(name)s” saved.") % {"name": structure.name})
            return redirect("inventory:structure_detail", pk=structure.pk)
    return render(
        request,
        "organisations/structure_form.html",
        {"form": form, "structure": structure, "stale": stale},
        status=status,
    )


# A structure's page: its facts, its people, the invitation form and the buttons


def _people(structure: Organisation) -> list[Membership]:
    people = list(selectors.structure_people(structure))
    for membership in people:
        # An invited person who has not chosen a password yet (Django's unusable password).
        membership.pending = not membership.user.has_usable_password()
    return people


@login_required
@require_http_methods(["GET", "POST"])
def structure_detail(request, pk: int):
    scope = _reader(request)
    structure = _structure(pk)
    may_write = may_coordinate(scope)
    invite = InviteForm(initial={"token": uuid.uuid4().hex})
    if request.method == "POST":
        require_screen(may_write, READ_ONLY)
        invite = InviteForm(request.POST)
        if invite.is_valid():
            try:
                user, earlier = record_once(
                    user=request.user,
                    name=f"structure-{structure.pk}-invite",
                    token=invite.cleaned_data["token"] or uuid.uuid4().hex,
                    create=lambda: orgs.member_invite(
                        actor=request.user,
                        organisation_id=structure.pk,
                        **invite.service_arguments(),
                    ),
                )
            except DomainError as err:
                _refuse_forbidden(err)
                invite.add_domain_error(err)
            else:
                if earlier:
                    messages.info(request, _("This invitation was already sent."))
                else:
                    messages.success(
                        request,
                        _(
                            "Invitation sent to %(email)s: the link in it lets the person "
                            "choose a password."
                        )
                        % {"email": user.email},
                    )
                return redirect(_detail_url(structure.pk, "people-heading"))
    return render(
        request,
        "organisations/structure_detail.html",
        {
            "structure": structure,
            "version": orgs.structure_version(structure),
            "people": _people(structure),
            "invite": invite,
            "facts": structure_facts(scope, structure),
            "may_write": may_write,
        },
    )


def _posted_active(request) -> bool | None:
    """The button's `active` value, 1 or 0; None for anything else (a form not sent whole)."""
    return {"1": True, "0": False}.get(request.POST.get("active", ""))


def _not_sent_whole(request, structure_id: int):
    messages.error(request, _("This button was not sent whole: reload the page and try again."))
    return redirect("inventory:structure_detail", pk=structure_id)


@login_required
@require_POST
def structure_set_active(request, pk: int):
    _writer(request)
    structure = _structure(pk)
    active = _posted_active(request)
    if active is None:
        return _not_sent_whole(request, structure.pk)
    try:
        orgs.structure_set_active(actor=request.user, structure_id=structure.pk, active=active)
    except DomainError as err:
        _refuse_forbidden(err)
        messages.error(request, err.message)
    else:
        if active:
            text = _("%(name)s is active again: its people can sign in.")
        else:
            text = _("%(name)s is deactivated: its people can no longer sign in.")
        messages.success(request, text % {"name": structure.name})
    return redirect("inventory:structure_detail", pk=structure.pk)


def _member(structure: Organisation, user_id: int) -> Membership:
    # Only the people of this structure are changed from its page.
    return get_object_or_404(
        Membership.objects.select_related("user"), organisation=structure, user_id=user_id
    )


def _person(user) -> str:
    return user.get_full_name() or user.email or user.get_username()


@login_required
@require_POST
def member_set_active(request, pk: int, user_id: int):
    _writer(request)
    structure = _structure(pk)
    membership = _member(structure, user_id)
    active = _posted_active(request)
    if active is None:
        return _not_sent_whole(request, structure.pk)
    try:
        orgs.member_set_active(actor=request.user, user_id=membership.user_id, active=active)
    except DomainError as err:
        _refuse_forbidden(err)
        messages.error(request, err.message)
    else:
        if active:
            text = _("%(person)s can sign in again.")
        else:
            text = _("%(person)s can no longer sign in.")
        messages.success(request, text % {"person": _person(membership.user)})
    return redirect(_detail_url(structure.pk, "people-heading"))


@login_required
@require_POST
def member_reinvite(request, pk: int, user_id: int):
    _writer(request)
    structure = _structure(pk)
    membership = _member(structure, user_id)
    try:
        orgs.member_reinvite(actor=request.user, user_id=membership.user_id)
    except DomainError as err:
        _refuse_forbidden(err)
        messages.error(request, err.message)
    else:
        messages.success(
            request,
            _("A new invitation was sent to %(email)s.") % {"email": membership.user.email},
        )
    return redirect(_detail_url(structure.pk, "people-heading"))


# Import from a data·inclusion file: upload → preview (a dry run) → confirm (the real run,
# checked again). Between the two steps the file waits on disk, as a donation's spreadsheet
# does (inventory.web.uploads.pending_store).


def _preview_context(result: orgs.StructureImport, sha256: str, file_name: str) -> dict:
    communes = dict(Commune.objects.values_list("insee_code", "name"))
    types = dict(StructureType.choices)
    rows = [
        {
            "number": row.number,
            "action": row.action,
            "name": row.values["name"],
            "identifier": "".join((row.values["siret"] or row.values["rna"]).split()).upper(),
            "commune": communes.get(row.values["commune"], row.values["commune"]),
            "type": types.get(row.values["structure_type"], row.values["structure_type"]),
        }
        for row in result.rows[:PREVIEW_ROWS]
    ]
    errors = [
        {"row": row, "column": column, "message": message} for row, column, message in result.errors
    ]
    return {
        "result": result,
        "file_name": file_name,
        "preview_rows": rows,
        "more_rows": max(0, len(result.rows) - PREVIEW_ROWS),
        "import_errors": errors,
        "row_total": len(result.rows),
        "confirm_form": ImportConfirmForm(initial={"sha256": sha256, "file_name": file_name}),
    }


def _imported_message(result: orgs.StructureImport, file_name: str) -> str:
    count = result.created + result.updated
    return ngettext(
        "%(count)s structure imported from “%(file)s”: %(created)s added, %(updated)s updated.",
        "%(count)s structures imported from “%(file)s”: %(created)s added, %(updated)s updated.",
        count,
    ) % {"count": count, "file": file_name, "created": result.created, "updated": result.updated}


@login_required
@csrf_exempt  # CSRF is checked by the inner view, once the upload handler is in place.
@require_http_methods(["GET", "POST"])
def structure_import(request):
    # Before anything reads the body: the CSRF check would otherwise receive the whole file.
    request.upload_handlers.insert(0, CappedUpload(request, import_max_bytes()))
    return _structure_import(request)


@csrf_protect
def _structure_import(request):
    _writer(request)
    max_bytes = import_max_bytes()
    context = {
        "max_rows": orgs.MAX_IMPORT_ROWS,
        "max_megabytes": f"{max_bytes / 1024 / 1024:g}",
    }
    template = "organisations/structure_import.html"

    if request.method == "POST" and "confirm" in request.POST:
        confirm = ImportConfirmForm(request.POST)
        sha256 = confirm.cleaned_data["sha256"] if confirm.is_valid() else ""
        content = pending_load(sha256) if sha256 else None
        if content is None:
            messages.error(request, _("This import could not be found: upload the file again."))
            return redirect("inventory:structure_import")
        file_name = confirm.cleaned_data["file_name"]
        try:
            result = orgs.structures_import(actor=request.user, content=content, dry_run=False)
        except DomainError as err:
            _refuse_forbidden(err)
            raise
        pending_drop(sha256)
        if result.errors:
            # Something changed since the preview (a structure saved meanwhile): nothing was
            # written, and the file must be checked again.
            context |= _preview_context(result, sha256, file_name)
            context |= {"upload_form": StructureImportForm(), "confirm_failed": True}
            return render(request, template, context, status=409)
        messages.success(request, _imported_message(result, file_name))
        return redirect("inventory:structure_list")

    form = StructureImportForm(request.POST, request.FILES) if request.method == "POST" else None
    form = form or StructureImportForm()
    context["upload_form"] = form
    too_large = getattr(request, "upload_too_large", False)
    if request.method == "POST" and (too_large or form.is_valid()):
        uploaded = upload_content(
            request, form, max_bytes=max_bytes, megabytes=context["max_megabytes"]
        )
        if uploaded is None:
            return render(request, template, context, status=413)
        content, upload_name = uploaded
        try:
            result = orgs.structures_import(actor=request.user, content=content, dry_run=True)
        except DomainError as err:
            _refuse_forbidden(err)
            raise
        sha256 = hashlib.sha256(content).hexdigest()
        if not result.errors:
            pending_store(sha256, content)
        context |= _preview_context(result, sha256, upload_name[:255])
        return render(request, template, context, status=400 if result.errors else 200)
    return render(request, template, context, status=400 if form.errors else 200)


# An invitation's link


class InvitationAcceptView(PasswordResetConfirmView):
    """Django's password-reset confirmation with our page: the link holds a one-time token
    that choosing the password consumes (the token is made from the password's hash)."""

    template_name = "organisations/invitation_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request,
            _("Your password is set. Sign in with %(username)s and this password.")
            % {"username": form.user.get_username()},
        )
        return response
