"""Keeps logistics' records right whichever screen moved the device (the shipment's receipt
screen, the general scan page, batch mode, the device page, the API): they all go through
inventory's device_transition, which sends `device_moved` inside its transaction.

- a device received at a workshop closes its open shipment item;
- a loan returned (or a lent device lost) closes its loan item, and the loan when it was the
  last one out;
- a device a structure reported (a return, an end of life, a breakage, a loss) closes the
  report once it came back, was collected, or was declared lost."""

from django.dispatch import receiver

from inventory.models import Device
from inventory.signals import device_moved
from inventory.states import Status, move_label
from logistics.loans.services import device_report_close_for, loan_item_close
from logistics.models import LoanItemOutcome
from logistics.shipments.services import RECEIVE, shipment_receipt_record

# The moves that end a structure's holding of a device: each closes its open report.
_REPORT_CLOSERS = frozenset({"return_loan", "collect_end_of_life", "declare_lost"})


@receiver(device_moved, sender=Device, dispatch_uid="logistics.shipment_receipt")
def note_shipment_receipt(sender, device, action, actor, previous_status=None, **kwargs):
    # Only a device that was sent can have an open shipment item: shipment_create moves each
    # of its devices to "sent to a workshop", and the only moves out of that status are this
    # receipt and a loss (final). A device received from intake or a loan is not looked up.
    if action == RECEIVE.action and previous_status in (None, Status.SENT_TO_WORKSHOP):
        shipment_receipt_record(actor=actor, device=device)


@receiver(device_moved, sender=Device, dispatch_uid="logistics.loan_and_reports")
def note_loan_end(sender, device, action, actor, previous_status=None, **kwargs):
    # Only devices that were with a structure (lent or given) have a loan item or a report.
    if previous_status not in (None, Status.ON_LOAN, Status.GIVEN):
        return
    if action not in _REPORT_CLOSERS:
        return
    if action == "return_loan":
        loan_item_close(actor=actor, device=device, outcome=LoanItemOutcome.RETURNED)
    elif action == "declare_lost":
        loan_item_close(actor=actor, device=device, outcome=LoanItemOutcome.LOST)
    device_report_close_for(actor=actor, device=device, how=str(move_label(action)))
