"""Web screens of hand-overs: the list (with the receipts to sign), a new hand-over from the
allocated devices, one hand-over, its signature (drawn on the screen, or a signed paper copy
uploaded), its receipt PDF; and the public page that checks a receipt's verification code.

The coordination, the workshops and the structures read the hand-overs they take part in;
another organisation's hand-over answers 404, and the fund and donors get the 403 page. Each
view turns a request into selector reads and at most one service call.
"""

import itertools
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from inventory.codes import group_label_code
from inventory.documents.content import (
    person_name,
    verification_code_display,
    verification_code_normalize,
)
from inventory.errors import DomainError
from inventory.permissions import require_screen
from inventory.selectors import Scope, device_visible, user_scope
from inventory.states import OrgKind
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from inventory.web.uploads import CappedUpload
from logistics import permissions
from logistics.handovers import selectors, services
from logistics.handovers.forms import HandOverForm, PaperForm, SignatureForm
from logistics.handovers.receipt import receipt_device, receipt_pdf, receipt_pdf_render
from logistics.models import Loan, Mode, SignatureKind

PAGE_SIZE = 50
# A hand-over takes at most this many devices: the new hand-over's list shows no more.
CANDIDATES_SHOWN = services.MAX_DEVICES
# Typed codes are cut to this length before they are shown back (a code has 16 symbols).
CODE_SHOWN = 40

NOT_YOURS = gettext_lazy(
    "Hand-overs are for the coordination, the workshops and the structures. The fund reads "
    "the network's figures on the home page."
)
READ_ONLY = gettext_lazy("Your role is read only: it does not allow hand-overs.")
SIGNATURE_TONES = {
    SignatureKind.NONE: "warning",
    SignatureKind.DRAWN: "success",
    SignatureKind.PAPER: "success",
}


def _reader(request) -> Scope:
    scope = user_scope(request.user)
    require_screen(permissions.may_read_hand_overs(scope), NOT_YOURS)
    return scope


def _writer(request) -> Scope:
    scope = _reader(request)
    require_screen(permissions.may_hand_over(scope), READ_ONLY)
    return scope


def _hand_over(request, pk: int):
    # Another organisation's hand-over is answered exactly like a missing one.
    hand_over = selectors.hand_over_detail(request.user, pk)
    if hand_over is None:
        raise Http404
    return hand_over


def _refuse_forbidden(err: DomainError) -> None:
    if err.status == 403:
        raise PermissionDenied(err.message) from err


def _url(name: str, pk: int) -> str:
    return reverse(name, args=[pk])


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _signature_label(hand_over) -> str:
    return str(SignatureKind(hand_over.signature_kind).label)


# The list -------------------------------------------------------------------------------------


@login_required
@require_GET
def hand_over_list(request):
    scope = _reader(request)
    to_sign = request.GET.get("to_sign") == "1"
    rows = selectors.hand_over_list(request.user, unsigned=to_sign)
    page = page_of(request, rows, size=PAGE_SIZE)
    for hand_over in page.object_list:
        hand_over.signature_label = _signature_label(hand_over)
        hand_over.tone = SIGNATURE_TONES.get(hand_over.signature_kind, "neutral")
    return render(
        request,
        "handovers/list.html",
        {
            "page": page,
            "to_sign": to_sign,
            "may_hand_over": permissions.may_hand_over(scope),
        },
    )


# A new hand-over ------------------------------------------------------------------------------


def _groups(candidates) -> list[dict]:
    groups = []
    for _structure_id, rows in itertools.groupby(candidates, key=lambda a: a.structure_id):
        rows = list(rows)
        for allocation in rows:
            allocation.label_display = group_label_code(allocation.device.label_code_id)
        groups.append({"structure": rows[0].structure, "allocations": rows})
    return groups


@login_required
@require_http_methods(["GET", "POST"])
def hand_over_create(request):
    scope = _writer(request)
    delivery_id = _positive_int(request.GET.get("delivery"))
    structure_id = _positive_int(request.GET.get("structure"))
    rows = selectors.allocations_to_hand_over(
        request.user, delivery_id=delivery_id, structure_id=structure_id
    )
    candidates = list(rows[: CANDIDATES_SHOWN + 1])
    truncated = len(candidates) > CANDIDATES_SHOWN
    candidates = candidates[:CANDIDATES_SHOWN]
    loans = [a for a in candidates if a.mode == Mode.LOAN]
    initial = {"token": uuid.uuid4().hex}
    if loans:
        initial["due_on"] = services.default_due_on(loans, timezone.localdate())
    if scope.kind == OrgKind.STRUCTURE:
        # A structure confirms a hand-over itself: most often its own person receives.
        initial["received_by_name"] = person_name(request.user)
    data = request.POST if request.method == "POST" else None
    form = HandOverForm(data, initial=initial)
    status = 200
    if data is not None:
        if form.is_valid():
            try:
                hand_over, earlier = record_once(
                    user=request.user,
                    name="hand-over",
                    token=form.cleaned_data["token"] or uuid.uuid4().hex,
                    create=lambda: services.hand_over_create(
                        actor=request.user, **form.service_arguments()
                    ),
                )
            except DomainError as err:
                _refuse_forbidden(err)
                form.add_domain_error(err)
                status = err.status if err.status in (400, 409) else 400
            else:
                if earlier:
                    messages.info(request, _("This hand-over was already recorded."))
                    return redirect("logistics:hand_over_sign", pk=earlier)
                count = hand_over.items.count()
                messages.success(
                    request,
                    ngettext(
                        "%(reference)s recorded: %(count)s device handed over to %(structure)s. "
                        "Now have the receipt signed.",
                        "%(reference)s recorded: %(count)s devices handed over to %(structure)s. "
                        "Now have the receipt signed.",
                        count,
                    )
                    % {
                        "reference": hand_over.reference,
                        "count": count,
                        "structure": hand_over.structure.name,
                    },
                )
                return redirect("logistics:hand_over_sign", pk=hand_over.pk)
        else:
            status = 400
    if form.is_bound:
        selected = form.selected_ids()
    elif delivery_id is not None:
        # From a delivery's page: its devices are handed over together, as a rule.
        selected = {a.pk for a in candidates}
    else:
        selected = set()
    groups = _groups(candidates)
    return render(
        request,
        "handovers/create.html",
        {
            "form": form,
            "groups": groups,
            "selected": selected,
            "truncated": truncated,
            "shown": CANDIDATES_SHOWN,
            "has_loans": bool(loans),
            "several_structures": len(groups) > 1,
            "delivery_id": delivery_id,
            "structure_id": structure_id,
            "filtered": delivery_id is not None or structure_id is not None,
            "is_structure": scope.kind == OrgKind.STRUCTURE,
        },
        status=status,
    )


# One hand-over --------------------------------------------------------------------------------


@login_required
@require_GET
def hand_over_detail(request, pk: int):
    scope = _reader(request)
    hand_over = _hand_over(request, pk)
    items = list(selectors.hand_over_items(hand_over))
    rows = []
    for item in items:
        row = receipt_device(item)
        visible = device_visible(request.user, item.device)
        url = reverse("inventory:device_detail", args=[item.device_id]) if visible else ""
        rows.append({"device": row, "url": url})
    loan = Loan.objects.filter(hand_over=hand_over).first()
    return render(
        request,
        "handovers/detail.html",
        {
            "hand_over": hand_over,
            "rows": rows,
            "gift_count": sum(1 for item in items if item.mode == Mode.GIFT),
            "loan": loan,
            "loan_url": _url("logistics:loan_detail", loan.pk) if loan else "",
            "delivery_url": (
                _url("logistics:delivery_detail", hand_over.delivery_id)
                if hand_over.delivery_id
                else ""
            ),
            "handed_by_name": person_name(hand_over.handed_by),
            "signature_label": _signature_label(hand_over),
            "signature_tone": SIGNATURE_TONES.get(hand_over.signature_kind, "neutral"),
            "code": verification_code_display(hand_over.verification_code),
            "may_sign": permissions.may_hand_over(scope) and not hand_over.is_signed,
        },
    )


# The signature --------------------------------------------------------------------------------


@login_required
@csrf_exempt  # CSRF is checked by the inner view, once the upload handler is in place.
@require_http_methods(["GET", "POST"])
def hand_over_sign(request, pk: int):
    # Before anything reads the body: the CSRF check would otherwise receive the whole file.
    request.upload_handlers.insert(0, CappedUpload(request, services.MAX_PAPER_BYTES))
    return _hand_over_sign(request, pk)


def _signed(request, hand_over, err: DomainError | None = None):
    if err is not None:
        messages.warning(request, err.message)
    return redirect("logistics:hand_over_detail", pk=hand_over.pk)


@csrf_protect
def _hand_over_sign(request, pk: int):
    scope = _reader(request)
    hand_over = _hand_over(request, pk)
    require_screen(permissions.may_hand_over(scope), READ_ONLY)
    initial = {"signer_name": hand_over.received_by_name}
    drawn = SignatureForm(prefix="drawn", initial=initial)
    paper = PaperForm(prefix="paper", initial=initial)
    status = 200
    if request.method == "POST":
        method = request.POST.get("method")  # parses the body: the upload is read (or stopped)
        too_large = getattr(request, "upload_too_large", False)
        # The upload stopped at the file: the fields after it never arrived (method among
        # them, were it placed after), so a stopped upload is the paper form's.
        if too_large or method == "paper":
            paper = PaperForm(request.POST, request.FILES, prefix="paper")
            if too_large:
                paper.is_valid()
                paper.errors.pop("file", None)
                paper.add_error(
                    "file",
                    _("The file is larger than %(size)s MB.")
                    % {"size": services.MAX_PAPER_BYTES // (1024 * 1024)},
                )
                status = 413
            elif paper.is_valid():
                try:
                    services.hand_over_attach_paper(
                        actor=request.user,
                        hand_over_id=hand_over.pk,
                        signer_name=paper.cleaned_data["signer_name"],
                        content=paper.cleaned_data["file"].read(),
                    )
                except DomainError as err:
                    _refuse_forbidden(err)
                    if err.code == "already_signed":
                        return _signed(request, hand_over, err)
                    if err.status == 404:
                        raise Http404 from err
                    paper.add_domain_error(err)
                    status = err.status
                else:
                    messages.success(
                        request,
                        _("The signed paper copy of %(reference)s is recorded.")
                        % {"reference": hand_over.reference},
                    )
                    return redirect("logistics:hand_over_detail", pk=hand_over.pk)
            else:
                status = 400
        else:
            drawn = SignatureForm(request.POST, prefix="drawn")
            if drawn.is_valid():
                try:
                    image = services.signature_from_data_url(drawn.cleaned_data["signature"])
                    services.hand_over_sign(
                        actor=request.user,
                        hand_over_id=hand_over.pk,
                        signer_name=drawn.cleaned_data["signer_name"],
                        image=image,
                    )
                except DomainError as err:
                    _refuse_forbidden(err)
                    if err.code == "already_signed":
                        return _signed(request, hand_over, err)
                    if err.status == 404:
                        raise Http404 from err
                    drawn.add_domain_error(err)
                    status = err.status
                else:
                    messages.success(
                        request,
                        _("%(reference)s is signed by %(name)s.")
                        % {
                            "reference": hand_over.reference,
                            "name": drawn.cleaned_data["signer_name"],
                        },
                    )
                    return redirect("logistics:hand_over_detail", pk=hand_over.pk)
            else:
                status = 400
    elif hand_over.is_signed:
        messages.info(
            request,
            _("%(reference)s is already signed.") % {"reference": hand_over.reference},
        )
        return redirect("logistics:hand_over_detail", pk=hand_over.pk)
    return render(
        request,
        "handovers/sign.html",
        {
            "hand_over": hand_over,
            "device_count": hand_over.items.count(),
            "drawn": drawn,
            "paper": paper,
            "method": request.POST.get("method", "") if request.method == "POST" else "",
        },
        status=status,
    )


# The receipt PDF ------------------------------------------------------------------------------


@login_required
@require_GET
def hand_over_receipt_pdf(request, pk: int):
    _reader(request)
    hand_over = _hand_over(request, pk)
    body = receipt_pdf(hand_over)
    if body is None:
        if hand_over.receipt_file:
            # Issued, then lost from the media files: a new drawing would not be the evidence.
            return render(
                request, "handovers/receipt_missing.html", {"hand_over": hand_over}, status=404
            )
        body = receipt_pdf_render(hand_over)  # never stored (a write that failed): drawn now
    response = HttpResponse(body, content_type="application/pdf")
    filename = f"hand-over-receipt-{hand_over.reference}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # A receipt names people: not for shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


# Public check of a receipt --------------------------------------------------------------------


def _modes_label(hand_over) -> str:
    if hand_over.loan_count and hand_over.loan_count < hand_over.device_count:
        return _("Gift and loan")
    if hand_over.loan_count:
        return _("Loan")
    return _("Gift")


@require_GET
def receipt_verify(request):
    """Public: the form; a submitted code goes to its own address."""
    raw = request.GET.get("code", "").strip()
    if raw:
        code = verification_code_normalize(raw)
        if code is not None:
            return redirect("logistics:receipt_verify_code", code=code)
        return render(
            request,
            "handovers/verify.html",
            {"code": raw[:CODE_SHOWN], "not_found": True, "malformed": True},
            status=404,
        )
    return render(request, "handovers/verify.html", {})


@require_GET
def receipt_verify_code(request, code: str):
    """Public: what the receipt itself shows of the hand-over, and nothing more (no person's
    name, no device)."""
    hand_over = selectors.hand_over_by_code(code)
    if hand_over is None:
        malformed = verification_code_normalize(code) is None
        return render(
            request,
            "handovers/verify.html",
            {"code": code[:CODE_SHOWN], "not_found": True, "malformed": malformed},
            status=404,
        )
    return render(
        request,
        "handovers/verify.html",
        {
            "hand_over": hand_over,
            "code": verification_code_display(hand_over.verification_code),
            "modes": _modes_label(hand_over),
            "signature_label": _signature_label(hand_over),
        },
    )
