"""Keeps a shipment's receipt right whichever screen received the device (the shipment's
receipt screen, the general scan page, batch mode, the API): they all go through
inventory's device_transition, which sends `device_moved` inside its transaction."""

from django.dispatch import receiver

from inventory.models import Device
from inventory.signals import device_moved
from inventory.states import Status
from logistics.shipments.services import RECEIVE, shipment_receipt_record


@receiver(device_moved, sender=Device, dispatch_uid="logistics.shipment_receipt")
def note_shipment_receipt(sender, device, action, actor, previous_status=None, **kwargs):
    # Only a device that was sent can have an open shipment item: shipment_create moves each
    # of its devices to "sent to a workshop", and the only moves out of that status are this
    # receipt and a loss (final). A device received from intake or a loan is not looked up.
    if action == RECEIVE.action and previous_status in (None, Status.SENT_TO_WORKSHOP):
        shipment_receipt_record(actor=actor, device=device)
