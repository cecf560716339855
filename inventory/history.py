"""History writing: every tracked save names the acting user, the action's name as the change
reason, and the note typed with it (copied onto the historical row by inventory.signals).

Services of every app save tracked models through `tracked_save`, never through a bare
`save()`, so that no history row is left without its user.
"""


def tracked_save(instance, *, actor, reason: str, note: str = "", **save_kwargs) -> None:
    instance._history_user = actor
    instance._change_reason = reason
    instance._history_note = note
    instance.save(**save_kwargs)
