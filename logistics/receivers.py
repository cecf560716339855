"""Keeps a shipment's receipt right whichever screen received the device (the shipment's
receipt screen, the general scan page, batch mode, the API): they all go through
inventory's device_transition, which sends `device_moved` inside its transaction."""

from django.dispatch import receiver

from inventory.models import Device
from inventory.signals import device_moved
from logistics.shipments.services import RECEIVE, shipment_receipt_record


@receiver(device_moved, sender=Device, dispatch_uid="logistics.shipment_receipt")
def note_shipment_receipt(sender, device, action, actor, **kwargs):
    if action == RECEIVE.action:
        shipment_receipt_record(actor=actor, device=device)
