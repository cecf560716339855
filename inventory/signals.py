"""History plumbing: copy the note typed with a move onto the historical row."""

from django.dispatch import Signal, receiver
from simple_history.signals import pre_create_historical_record


@receiver(pre_create_historical_record)
def attach_history_note(sender, instance, history_instance, **kwargs):
    if hasattr(history_instance, "history_note"):
        history_instance.history_note = getattr(instance, "_history_note", "") or ""


# Sent inside the move's transaction, after the device is saved, so that other apps (a shipment
# noting its receipt) update in the same transaction without inventory importing them.
# Arguments: device, action, actor, previous_status (the status before the move, so that a
# receiver reads only for the moves that concern it).
device_moved = Signal()
