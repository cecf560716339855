"""The coordination manages the network's structures and their people without /admin/: it adds
and edits structures, imports them from a data·inclusion CSV, invites their staff by e-mail
(a link to set their password) and deactivates people or structures. Every write is the
coordination's, checked here, and recorded in the organisation's and membership's history."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.intake.spreadsheets import FileProblem, csv_rows
from inventory.models import Commune, Membership, Organisation, Role
from inventory.models.organisations import StructureType
from inventory.permissions import may_coordinate, require
from inventory.selectors import user_scope
from inventory.states import OrgKind

STRUCTURE_FIELDS = (
    "name",
    "siret",
    "rna",
    "structure_type",
    "commune",
    "address",
    "contact_name",
    "contact_email",
    "contact_phone",
    "soliguide_id",
    "dora_id",
)
_LIMITS = {
    "name": 200,
    "address": 250,
    "contact_name": 120,
    "contact_email": 254,
    "contact_phone": 30,
    "soliguide_id": 64,
    "dora_id": 64,
}
_PHONE = re.compile(r"^[+0-9 ().-]{6,30}$")


def _require_coordination(actor, message) -> None:
    require(may_coordinate(user_scope(actor)), message)


def structure_version(structure: Organisation) -> str:
    """The history's count of the organisation: any save since a read makes an edit stale."""
    return str(structure.history.count())


def _text(value) -> str | None:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else None


def _assign(structure: Organisation, fields: Mapping) -> dict[str, list]:
    """Copy the fields given onto the structure; the errors of what cannot be a value."""
    errors: dict[str, list] = {}
    for name in STRUCTURE_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if name == "commune":
            code = value.insee_code if isinstance(value, Commune) else value
            commune = (
                Commune.objects.filter(insee_code=code).first() if isinstance(code, str) else None
            )
            if commune is None:
                errors["commune"] = [_("Choose a commune of the network's territory.")]
            else:
                structure.commune = commune
            continue
        text = _text(value)
        if text is None:
            errors[name] = [_("Give this as text.")]
            continue
        limit = _LIMITS.get(name)
        if limit and len(text) > limit:
            errors[name] = [_("At most %(max)s characters.") % {"max": limit}]
            continue
        setattr(structure, name, text)
    if structure.structure_type and structure.structure_type not in StructureType.values:
        errors["structure_type"] = [_("Choose the type of structure.")]
    if structure.contact_email:
        try:
            validate_email(structure.contact_email)
        except ValidationError:
            errors["contact_email"] = [_("Enter a valid e-mail address.")]
    if structure.contact_phone and not _PHONE.match(structure.contact_phone):
        errors["contact_phone"] = [_("A phone number: digits, spaces, + ( ) . -")]
    if not structure.name:
        errors["name"] = [_("Give the structure's name.")]
    return errors


def _check(structure: Organisation, errors: dict[str, list]) -> None:
    try:
        structure.clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            # A field already refused above says why once, not twice.
            if name not in errors:
                errors[name] = list(messages)
    if errors:
        raise invalid(errors)
    namesake = (
        Organisation.objects.exclude(pk=structure.pk)
        .annotate(lower_name=Lower("name"))
        .filter(kind=OrgKind.STRUCTURE, lower_name=structure.name.lower())
        .exists()
    )
    if namesake:
        raise DomainError(
            "duplicate",
            _("Another structure already has this name."),
            fields={"name": [_("Already used by another structure.")]},
        )
    for name in ("siret", "rna"):
        value = getattr(structure, name)
        clash = (
            Organisation.objects.exclude(pk=structure.pk).filter(**{name: value}).first()
            if value
            else None
        )
        if clash is not None:
            raise DomainError(
                "duplicate",
                _("%(name)s already has this identifier.") % {"name": clash.name},
                fields={name: [_("Already used by another structure.")]},
            )


def _saved(structure: Organisation, *, actor, reason: str) -> Organisation:
    try:
        with transaction.atomic():
            tracked_save(structure, actor=actor, reason=reason)
    except IntegrityError as exc:
        # The unique constraints decided a race with another save (identifier or name).
        raise DomainError(
            "duplicate",
            _("Another organisation has this name or identifier."),
            fields={"name": [_("Already used by another organisation.")]},
        ) from exc
    return structure


def structure_create(*, actor, **fields) -> Organisation:
    _require_coordination(actor, _("Only the coordination adds structures."))
    structure = Organisation(kind=OrgKind.STRUCTURE)
    errors = _assign(structure, fields)
    _check(structure, errors)
    return _saved(structure, actor=actor, reason="structure_create")


def structure_update(*, actor, structure_id: int, version: str | None = None, **fields):
    _require_coordination(actor, _("Only the coordination edits structures."))
    with transaction.atomic():
        structure = (
            Organisation.objects.select_for_update()
            .filter(pk=structure_id, kind=OrgKind.STRUCTURE)
            .first()
        )
        if structure is None:
            raise DomainError("not_found", _("No such structure."), status=404)
        if version is not None and version != structure_version(structure):
            raise DomainError(
                "stale",
                _("Someone else changed this structure in the meantime: read it again."),
                status=412,
            )
        errors = _assign(structure, fields)
        _check(structure, errors)
        return _saved(structure, actor=actor, reason="structure_update")


def structure_set_active(*, actor, structure_id: int, active: bool) -> Organisation:
    """Deactivating a structure signs its people out of everything (user_scope reads the
    organisation's flag) and keeps its records; reactivating gives them back their access."""
    _require_coordination(actor, _("Only the coordination deactivates structures."))
    with transaction.atomic():
        structure = (
            Organisation.objects.select_for_update()
            .filter(pk=structure_id, kind=OrgKind.STRUCTURE)
            .first()
        )
        if structure is None:
            raise DomainError("not_found", _("No such structure."), status=404)
        if structure.is_active != active:
            structure.is_active = active
            tracked_save(
                structure,
                actor=actor,
                reason="structure_activate" if active else "structure_deactivate",
            )
    return structure


# People


def invitation_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("inventory:invitation_accept", args=[uid, token])
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _send_invitation(user, organisation: Organisation, inviter) -> None:
    context = {
        "user": user,
        "organisation": organisation,
        "inviter": inviter,
        "url": invitation_url(user),
        "network": settings.NETWORK_NAME,
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    send_mail(
        subject=render_to_string("organisations/invitation_subject.txt", context).strip(),
        message=render_to_string("organisations/invitation_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def member_invite(
    *,
    actor,
    organisation_id: int,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = Role.MEMBER,
):
    """A new account for a structure's (or any organisation's) staff, with no password yet:
    the e-mail, sent once the transaction commits, holds a link to choose one."""
    _require_coordination(actor, _("Only the coordination invites people."))
    errors: dict[str, list] = {}
    email = _text(email)
    if not email:
        errors["email"] = [_("Enter a valid e-mail address.")]
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if email and "email" not in errors and len(email) > 150:
        # The address is the user name too, which holds 150 characters.
        errors["email"] = [_("At most %(max)s characters.") % {"max": 150}]
    names = {}
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        text = _text(value)
        if text is None:
            errors[name] = [_("Give this as text.")]
        elif len(text) > 150:
            errors[name] = [_("At most %(max)s characters.") % {"max": 150}]
        names[name] = text or ""
    if role not in Role.values:
        errors["role"] = [_("Choose a role.")]
    if errors:
        raise invalid(errors)
    email = email.lower()
    User = get_user_model()
    with transaction.atomic():
        organisation = Organisation.objects.filter(pk=organisation_id, is_active=True).first()
        if organisation is None:
            raise DomainError("not_found", _("No such active organisation."), status=404)
        taken = (
            User.objects.annotate(lower_email=Lower("email")).filter(lower_email=email).exists()
            or User.objects.filter(username__iexact=email).exists()
        )
        if taken:
            raise DomainError(
                "duplicate",
                _("Someone already has an account with this e-mail address."),
                fields={"email": [_("Already used by another account.")]},
            )
        try:
            with transaction.atomic():
                user = User(username=email, email=email, **names)
                user.set_unusable_password()
                user.save()
        except IntegrityError as exc:
            raise DomainError(
                "duplicate",
                _("Someone already has an account with this e-mail address."),
                fields={"email": [_("Already used by another account.")]},
            ) from exc
        tracked_save(
            Membership(user=user, organisation=organisation, role=role),
            actor=actor,
            reason="member_invite",
        )
        transaction.on_commit(lambda: _send_invitation(user, organisation, actor))
    return user


def member_reinvite(*, actor, user_id: int):
    """Send the invitation again to someone who has not chosen a password yet."""
    _require_coordination(actor, _("Only the coordination invites people."))
    membership = (
        Membership.objects.select_related("user", "organisation").filter(user_id=user_id).first()
    )
    if membership is None:
        raise DomainError("not_found", _("No such person."), status=404)
    user = membership.user
    if user.has_usable_password():
        raise DomainError(
            "already_joined", _("This person has already chosen a password and can sign in.")
        )
    if not user.is_active:
        raise DomainError("inactive", _("Reactivate this person's account first."))
    if not membership.organisation.is_active:
        raise DomainError("inactive", _("Reactivate the structure first."))
    _send_invitation(user, membership.organisation, actor)
    return user


def member_set_active(*, actor, user_id: int, active: bool):
    """A deactivated person can no longer sign in, by session or token; nothing of theirs is
    deleted (their name stays on the records they made)."""
    _require_coordination(actor, _("Only the coordination deactivates people."))
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None or not Membership.objects.filter(user=user).exists():
            raise DomainError("not_found", _("No such person."), status=404)
        if user.pk == actor.pk and not active:
            raise DomainError("self_deactivation", _("You cannot deactivate your own account."))
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
            if not active:
                # A token would let a script go on after the person left.
                Token.objects.filter(user=user).delete()
            membership = Membership.objects.get(user=user)
            tracked_save(
                membership,
                actor=actor,
                reason="member_activate" if active else "member_deactivate",
            )
    return user


# Import from the data·inclusion structures schema


MAX_IMPORT_ROWS = 2000
# The columns of the national schema read here; the others (horaires, thématiques…) are
# ignored. `id` and `source` give the Soliguide or DORA identifier when the source is one.
COLUMNS = (
    "id",
    "source",
    "siret",
    "rna",
    "nom",
    "commune",
    "code_insee",
    "code_postal",
    "adresse",
    "complement_adresse",
    "typologie",
    "courriel",
    "telephone",
)


@dataclass
class StructureRow:
    number: int
    values: dict
    existing: Organisation | None = None

    @property
    def action(self) -> str:
        return "update" if self.existing is not None else "create"


@dataclass
class StructureImport:
    rows: list[StructureRow] = field(default_factory=list)
    errors: list[tuple[int | None, str, str]] = field(default_factory=list)  # row, column, why
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = True

    @property
    def created(self) -> int:
        return sum(1 for row in self.rows if row.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for row in self.rows if row.action == "update")


def _read_structure_rows(content: bytes, result: StructureImport) -> list[tuple[int, dict]]:
    try:
        records = iter(csv_rows(content))
        header = next(records, None)
        if header is None:
            result.errors.append((None, "", str(_("The file is empty."))))
            return []
        names = [cell.strip().lower().lstrip("\ufeff") for cell in header[1]]
        if "nom" not in names or not ({"siret", "rna"} & set(names)):
            result.errors.append(
                (
                    1,
                    "",
                    str(
                        _(
                            "The first row must name the columns of the data·inclusion "
                            "structures schema: at least nom, and siret or rna."
                        )
                    ),
                )
            )
            return []
        result.ignored_columns = [name for name in names if name and name not in COLUMNS]
        rows = []
        for number, cells in records:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                result.errors.append(
                    (
                        number,
                        "",
                        str(_("At most %(max)s structures per file.") % {"max": MAX_IMPORT_ROWS}),
                    )
                )
                return []
            record = {
                name: (cells[index].strip() if index < len(cells) else "")
                for index, name in enumerate(names)
                if name in COLUMNS
            }
            rows.append((number, record))
        return rows
    except FileProblem as problem:
        result.errors.append((problem.row, problem.column, str(problem.reason)))
        return []


def _structure_fields(record: dict) -> dict:
    typology = record.get("typologie", "").upper()
    address = ", ".join(
        part for part in (record.get("adresse", ""), record.get("complement_adresse", "")) if part
    )
    fields = {
        "name": record.get("nom", ""),
        "siret": record.get("siret", ""),
        "rna": record.get("rna", ""),
        "structure_type": typology if typology in StructureType.values else StructureType.OTHER,
        "commune": record.get("code_insee", ""),
        "address": address[:250],
        "contact_email": record.get("courriel", ""),
        "contact_phone": record.get("telephone", ""),
    }
    source = record.get("source", "").lower()
    if record.get("id") and source.startswith("soliguide"):
        fields["soliguide_id"] = record["id"]
    elif record.get("id") and source.startswith("dora"):
        fields["dora_id"] = record["id"]
    return fields


def structures_import(*, actor, content: bytes, dry_run: bool = True) -> StructureImport:
    """Read a data·inclusion CSV of structures: a preview (`dry_run`), or all its rows created
    or updated (matched by SIRET, then RNA) in one transaction; one error and nothing is
    written."""
    _require_coordination(actor, _("Only the coordination imports structures."))
    result = StructureImport(dry_run=dry_run)
    records = _read_structure_rows(content, result)
    if result.errors:
        return result
    if not records:
        result.errors.append((None, "", str(_("The file holds no structure."))))
        return result
    seen: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for number, record in records:
        fields = _structure_fields(record)
        siret = "".join(fields["siret"].split())
        rna = "".join(fields["rna"].split()).upper()
        key = siret or rna
        if key and key in seen:
            result.errors.append(
                (
                    number,
                    "siret" if siret else "rna",
                    str(_("Same identifier as row %(row)s.") % {"row": seen[key]}),
                )
            )
            continue
        if key:
            seen[key] = number
        folded = fields["name"].strip().casefold()
        if folded and folded in seen_names:
            result.errors.append(
                (number, "nom", str(_("Same name as row %(row)s.") % {"row": seen_names[folded]}))
            )
            continue
        if folded:
            seen_names[folded] = number
        existing = (
            Organisation.objects.filter(kind=OrgKind.STRUCTURE, siret=siret).first()
            if siret
            else None
        ) or (Organisation.objects.filter(kind=OrgKind.STRUCTURE, rna=rna).first() if rna else None)
        structure = existing or Organisation(kind=OrgKind.STRUCTURE)
        errors = _assign(structure, fields)
        if fields["commune"] and "commune" in errors:
            errors["code_insee"] = errors.pop("commune")
        try:
            _check(structure, errors)
        except DomainError as error:
            for name, messages in (error.params.get("fields") or {}).items():
                column = {"name": "nom", "structure_type": "typologie", "commune": "code_insee",
                          "contact_email": "courriel", "contact_phone": "telephone",
                          "address": "adresse"}.get(name, name)  # fmt: skip
                result.errors.extend((number, column, str(message)) for message in messages)
            if not error.params.get("fields"):
                result.errors.append((number, "", str(error.message)))
            continue
        result.rows.append(StructureRow(number, fields, existing))
    if result.errors or dry_run:
        return result
    try:
        with transaction.atomic():
            for row in result.rows:
                structure = (
                    Organisation.objects.select_for_update().get(pk=row.existing.pk)
                    if row.existing is not None
                    else Organisation(kind=OrgKind.STRUCTURE)
                )
                errors = _assign(structure, row.values)
                _check(structure, errors)
                tracked_save(
                    structure,
                    actor=actor,
                    reason="structure_import_update" if row.existing else "structure_import",
                )
    except (DomainError, IntegrityError) as exc:
        # A structure saved meanwhile with the same name or identifier: nothing was written.
        message = (
            exc.message
            if isinstance(exc, DomainError)
            else _("Another organisation took one of these names or identifiers meanwhile.")
        )
        result.errors.append((None, "", str(message)))
    return result
