"""History plumbing: copy the note typed with a move onto the historical row."""

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record


@receiver(pre_create_historical_record)
def attach_history_note(sender, instance, history_instance, **kwargs):
    if hasattr(history_instance, "history_note"):
        history_instance.history_note = getattr(instance, "_history_note", "") or ""
