"""Hand-overs: allocated devices become gifts or loans of their structure in one step, all or
nothing, against a receipt (bon de remise) with a verification code; the receiving person signs
it on the screen, or a signed paper copy is uploaded later. The receipt's PDF is stored with the
media files, as issued and again once signed.

These services are the only ones that apply the hand-over's moves (hand_over_gift, lend): the
generic door refuses them (inventory.states.WORKFLOW_MOVES)."""

import base64
import binascii
import datetime
import hashlib
import io
import struct
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image

from inventory.codes import group_label_code
from inventory.documents.content import verification_code_new
from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Device, Organisation, Reconditioning
from inventory.permissions import require
from inventory.selectors import user_scope
from inventory.services import device_transition
from inventory.states import OrgKind, Status
from logistics import permissions
from logistics.deliveries.services import delivery_items_close_for_hand_over
from logistics.handovers.receipt import receipt_store
from logistics.models import (
    Allocation,
    AllocationStatus,
    HandOver,
    HandOverItem,
    Loan,
    LoanItem,
    Mode,
    ShipmentItem,
    SignatureKind,
)
from logistics.picking import ids_of

MAX_DEVICES = 500
MAX_NAME = 120
MAX_NOTE = 1000
# A loan lasts at most two years from the hand-over (then it is extended).
MAX_LOAN_DAYS = 731
DEFAULT_LOAN_WEEKS = 12
# A drawn signature is a small PNG; a scanned paper copy a PDF or a photo.
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_SIDE = 4000
MAX_PAPER_BYTES = 10 * 1024 * 1024
PAPER_TYPES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def _not_found() -> DomainError:
    return DomainError("not_found", _("No such hand-over."), status=404)


def _name(value, field: str, errors: dict, *, required: bool) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if required and not text:
        errors[field] = [_("Enter the name of the person.")]
    elif len(text) > MAX_NAME:
        errors[field] = [_("At most %(max)s characters.") % {"max": MAX_NAME}]
    elif any(ord(ch) < 32 for ch in text):
        errors[field] = [_("Control characters are not allowed.")]
    return text


def _allocation_ids(values, errors: dict) -> list[int]:
    ids = ids_of(values) if values is not None else None
    if ids is None:
        errors["allocations"] = [_("Give the allocations as a list of ids.")]
        return []
    if not ids:
        errors["allocations"] = [_("Choose at least one device to hand over.")]
    elif len(ids) > MAX_DEVICES:
        errors["allocations"] = [_("At most %(max)s devices per hand-over.") % {"max": MAX_DEVICES}]
    return ids


def default_due_on(allocations: Iterable[Allocation], today: datetime.date) -> datetime.date:
    """A loan's due date by default: the longest loan length the structure asked for."""
    weeks = [
        a.need_line.need.loan_weeks
        for a in allocations
        if a.mode == Mode.LOAN and a.need_line.need.loan_weeks
    ]
    return today + datetime.timedelta(weeks=max(weeks, default=DEFAULT_LOAN_WEEKS))


def _snapshot(device: Device) -> dict:
    return {
        "label_code": device.label_code_id,
        "category": device.category_id,
        "category_fr": device.category.name_fr,
        "category_en": device.category.name_en,
        "manufacturer": device.manufacturer,
        "model": device.model_name,
        "serial": device.serial_number,
        "grade": "",
        "public_donor": bool(device.donor and device.donor.is_public_body),
    }


def _grades(device_ids: list[int]) -> dict[int, str]:
    grades: dict[int, str] = {}
    rows = (
        Reconditioning.objects.filter(device_id__in=device_ids)
        .exclude(grade="")
        .order_by("device_id", "-started_at", "-id")
        .values_list("device_id", "grade")
    )
    for device_id, grade in rows:
        grades.setdefault(device_id, grade)
    return grades


def hand_over_create(
    *,
    actor,
    allocation_ids,
    received_by_name: str,
    received_by_role: str = "",
    due_on: datetime.date | None = None,
    note: str = "",
) -> HandOver:
    """Hand the allocated devices to their structure: gifts become the structure's, loans start
    with one due date (a kit is one loan of several devices); the receipt is drawn and stored.

    All or nothing: an allocation already handed over or cancelled (by a concurrent hand-over,
    say) refuses the whole hand-over with 409, naming the devices."""
    scope = user_scope(actor)
    require(permissions.may_hand_over(scope), _("Your role does not allow hand-overs."))
    errors: dict = {}
    ids = _allocation_ids(allocation_ids, errors)
    received_by_name = _name(received_by_name, "received_by_name", errors, required=True)
    received_by_role = _name(received_by_role, "received_by_role", errors, required=False)
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_NOTE:
        errors["note"] = [_("At most %(max)s characters.") % {"max": MAX_NOTE}]
    today = timezone.localdate()
    if due_on is not None and not isinstance(due_on, datetime.date):
        errors["due_on"] = [_("Enter a valid date.")]
    if errors:
        raise invalid(errors)
    try:
        with transaction.atomic():
            hand_over = _hand_over(
                actor,
                scope,
                ids,
                received_by_name=received_by_name,
                received_by_role=received_by_role,
                due_on=due_on,
                today=today,
                note=note,
            )
    except IntegrityError as exc:
        # One hand-over per allocation, one open loan per device: a write that took no lock.
        raise DomainError(
            "already_handed_over",
            _("A device of this list was handed over at the same time. Nothing was recorded."),
        ) from exc
    return hand_over


def _hand_over(actor, scope, ids, *, received_by_name, received_by_role, due_on, today, note):
    # Locks in one order: the allocations by id, then (through device_transition) each
    # device by id. Two hand-overs of one device wait here; the second then finds the
    # allocation handed over and is refused whole.
    allocations = list(
        Allocation.objects.select_for_update(of=("self",))
        .select_related("device", "device__category", "device__donor", "need_line__need")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    visible = {a.pk for a in allocations if _may_hand(scope, a)}
    if len(visible) != len(ids):
        raise DomainError("not_found", _("Some of these allocations do not exist."), status=404)
    done = [a for a in allocations if a.status != AllocationStatus.ACTIVE]
    if done:
        raise DomainError(
            "allocation_not_active",
            _("Nothing was handed over: %(codes)s no longer reserved for this structure.")
            % {"codes": ", ".join(group_label_code(a.device.label_code_id) for a in done)},
            devices=[a.device_id for a in done],
        )
    structures = {a.structure_id for a in allocations}
    if len(structures) != 1:
        raise invalid({"allocations": [_("A hand-over is made to one structure.")]})
    structure = Organisation.objects.get(pk=structures.pop())
    if scope.kind == OrgKind.STRUCTURE:
        _check_arrived(allocations)
    loans = [a for a in allocations if a.mode == Mode.LOAN]
    if loans and due_on is None:
        due_on = default_due_on(loans, today)
    elif loans and due_on <= today:
        raise invalid({"due_on": [_("The due date must be after today.")]})
    elif loans and (due_on - today).days > MAX_LOAN_DAYS:
        raise invalid({"due_on": [_("A loan lasts at most two years; extend it later.")]})
    # The delivery that brought these devices, when one did (and only one).
    brought = set(
        ShipmentItem.objects.filter(allocation__in=allocations).values_list(
            "shipment_id", flat=True
        )
    )
    delivery_id = brought.pop() if len(brought) == 1 else None
    hand_over = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                hand_over = HandOver(
                    structure=structure,
                    delivery_id=delivery_id,
                    verification_code=verification_code_new(),
                    handed_by=actor,
                    handed_by_organisation=scope.organisation,
                    received_by_name=received_by_name,
                    received_by_role=received_by_role,
                    note=note,
                )
                tracked_save(hand_over, actor=actor, reason="hand_over")
            break
        except IntegrityError:
            hand_over = None  # a code drawn twice (1 in 2^75): draw again
    if hand_over is None:
        raise DomainError("code_exhausted", _("Could not draw a free code."), status=500)
    device_ids = [a.device_id for a in allocations]
    delivery_items_close_for_hand_over(actor=actor, device_ids=device_ids)
    grades = _grades(device_ids)
    now = timezone.now()
    loan = None
    if loans:
        loan = Loan(
            structure=structure,
            hand_over=hand_over,
            started_on=today,
            due_on=due_on,
            units_out=len(loans),
        )
        tracked_save(loan, actor=actor, reason="hand_over")
    for allocation in allocations:
        device = allocation.device
        snapshot = _snapshot(device)
        snapshot["grade"] = grades.get(device.pk, "")
        tracked_save(
            HandOverItem(
                hand_over=hand_over,
                allocation=allocation,
                device=device,
                mode=allocation.mode,
                snapshot=snapshot,
            ),
            actor=actor,
            reason="hand_over",
        )
        allocation.status = AllocationStatus.HANDED_OVER
        allocation.ended_at = now
        tracked_save(allocation, actor=actor, reason="hand_over", note=hand_over.reference)
        if device.status != Status.RESERVED:
            raise DomainError(
                "allocation_not_active",
                _("Nothing was handed over: %(code)s is not reserved.")
                % {"code": group_label_code(device.label_code_id)},
                devices=[device.pk],
            )
        device_transition(
            actor=actor,
            device_id=device.pk,
            action="lend" if allocation.mode == Mode.LOAN else "hand_over_gift",
            target=structure,
            note=hand_over.reference,
            workflow=True,
        )
        if loan is not None and allocation.mode == Mode.LOAN:
            tracked_save(LoanItem(loan=loan, device=device), actor=actor, reason="hand_over")
    receipt_store(hand_over)
    return hand_over


def _may_hand(scope, allocation: Allocation) -> bool:
    if scope.sees_all:
        return True
    if scope.kind == OrgKind.WORKSHOP:
        # A device that left the bench is out of the workshop's reach, unless the workshop
        # handed it over itself: a second tap (or a race lost at the same bench) then learns
        # that it was handed over (409), not that it does not exist (404).
        return allocation.device.custodian_id == scope.organisation.pk or (
            allocation.status == AllocationStatus.HANDED_OVER
            and HandOverItem.objects.filter(
                allocation=allocation, hand_over__handed_by_organisation=scope.organisation
            ).exists()
        )
    if scope.kind == OrgKind.STRUCTURE:
        return allocation.structure_id == scope.organisation.pk
    return False


def _check_arrived(allocations: list[Allocation]) -> None:
    """A structure confirms a hand-over itself only of devices that reached it: received from a
    delivery (the deliverer may also hand them over on the spot)."""
    arrived = set(
        ShipmentItem.objects.filter(
            allocation__in=allocations, received_at__isnull=False
        ).values_list("allocation_id", flat=True)
    )
    missing = [a for a in allocations if a.pk not in arrived]
    if missing:
        raise DomainError(
            "not_delivered",
            _("%(codes)s has not been received yet: confirm its delivery first.")
            % {"codes": ", ".join(group_label_code(a.device.label_code_id) for a in missing)},
            devices=[a.device_id for a in missing],
        )


# Signature ------------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int] | None:
    """The size of a PNG that decodes whole, or None: a header followed by anything else is
    no signature (the receipt could not draw it)."""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= MAX_SIGNATURE_SIDE and 0 < height <= MAX_SIGNATURE_SIDE):
        return None  # checked before decoding: a forged header cannot ask for a huge bitmap
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                return None
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return width, height


def signature_from_data_url(value) -> bytes:
    """The PNG bytes of a signature pad's data URL ("data:image/png;base64,…")."""
    if not isinstance(value, str) or not value.startswith("data:image/png;base64,"):
        raise invalid({"signature": [_("Draw the signature in the box.")]})
    encoded = value.split(",", 1)[1]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise invalid({"signature": [_("The signature image is too large.")]})
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise invalid({"signature": [_("The signature image is not valid.")]}) from None


def _locked_hand_over(actor, hand_over_id) -> HandOver:
    from logistics.handovers.selectors import hand_overs_visible_to

    try:
        pk = int(hand_over_id)
    except (TypeError, ValueError):
        raise _not_found() from None
    if not hand_overs_visible_to(actor).filter(pk=pk).exists():
        raise _not_found()
    return HandOver.objects.select_for_update().get(pk=pk)


def _already_signed(hand_over: HandOver) -> DomainError:
    return DomainError(
        "already_signed",
        _("%(reference)s is already signed (%(kind)s).")
        % {
            "reference": hand_over.reference,
            "kind": SignatureKind(hand_over.signature_kind).label.lower(),
        },
    )


def _store(name: str, content: bytes) -> str:
    if default_storage.exists(name):
        # Left by a write whose transaction rolled back: the name is ours now.
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def hand_over_sign(*, actor, hand_over_id, signer_name: str, image: bytes) -> HandOver:
    """The receiving person's signature drawn on the screen (a PNG), with their name and the
    time; the receipt is drawn again with it and stored."""
    _require_handing(actor)
    errors: dict = {}
    signer_name = _name(signer_name, "signer_name", errors, required=True)
    if not isinstance(image, bytes) or len(image) > MAX_SIGNATURE_BYTES:
        errors["signature"] = [_("The signature image is too large.")]
    elif _png_size(image) is None:
        errors["signature"] = [_("The signature image is not valid.")]
    if errors:
        raise invalid(errors)
    return _signature_record(
        actor,
        hand_over_id,
        kind=SignatureKind.DRAWN,
        signer_name=signer_name,
        content=image,
        folder="signatures",
        extension="png",
    )


def hand_over_attach_paper(*, actor, hand_over_id, signer_name: str, content: bytes) -> HandOver:
    """A signed paper copy of the receipt, scanned or photographed (PDF, PNG or JPEG)."""
    _require_handing(actor)
    errors: dict = {}
    signer_name = _name(signer_name, "signer_name", errors, required=True)
    extension = None
    if not isinstance(content, bytes) or not content:
        errors["file"] = [_("Choose the scan of the signed receipt.")]
    elif len(content) > MAX_PAPER_BYTES:
        errors["file"] = [_("The file is larger than 10 MB.")]
    else:
        extension = next(
            (ext for magic, ext in PAPER_TYPES.items() if content.startswith(magic)), None
        )
        if extension is None:
            errors["file"] = [_("Send a PDF, PNG or JPEG file.")]
    if errors:
        raise invalid(errors)
    return _signature_record(
        actor,
        hand_over_id,
        kind=SignatureKind.PAPER,
        signer_name=signer_name,
        content=content,
        folder="paper",
        extension=extension,
    )


def _require_handing(actor) -> None:
    require(permissions.may_hand_over(user_scope(actor)), _("Your role does not allow hand-overs."))


def _signature_record(
    actor, hand_over_id, *, kind: str, signer_name: str, content: bytes, folder: str, extension
) -> HandOver:
    """Keep the signature (its file, SHA-256, signer and time) once, and store the receipt
    drawn again with it; a receipt already signed refuses (409)."""
    with transaction.atomic():
        hand_over = _locked_hand_over(actor, hand_over_id)
        if hand_over.is_signed:
            raise _already_signed(hand_over)
        hand_over.signature_file = _store(
            f"receipts/{folder}/{hand_over.verification_code}.{extension}", content
        )
        hand_over.signature_sha256 = hashlib.sha256(content).hexdigest()
        hand_over.signature_kind = kind
        hand_over.signer_name = signer_name
        hand_over.signed_at = timezone.now()
        hand_over.signature_recorded_by = actor
        reason = "hand_over_sign" if kind == SignatureKind.DRAWN else "hand_over_attach_paper"
        tracked_save(hand_over, actor=actor, reason=reason)
        receipt_store(hand_over)
    return hand_over
