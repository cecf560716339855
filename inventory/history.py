"""History writing: every tracked save names the acting user, the action's name as the change
reason, and the note typed with it (copied onto the historical row by inventory.signals).

Services of every app save tracked models through `tracked_save`, never through a bare
`save()`, so that no history row is left without its user.
"""

from simple_history.manager import HistoryDescriptor

from inventory.compiled import CompiledSaveMixin


def tracked_save(instance, *, actor, reason: str, note: str = "", **save_kwargs) -> None:
    instance._history_user = actor
    instance._change_reason = reason
    instance._history_note = note
    instance.save(**save_kwargs)


def historical_models_home(namespace: dict) -> None:
    """Make an app's `models` package the home of its historical models.

    django-simple-history names a historical model's module after the app ("inventory") when
    the tracked model is not defined in the app's `models` module itself, and leaves the class
    in the submodule: `manage.py shell`, pickling and `inventory.models.HistoricalDevice`
    would not find it. Called at the end of each `models/__init__.py` with its globals().
    """
    for name in namespace["__all__"]:
        model = getattr(getattr(namespace[name], "history", None), "model", None)
        if model is not None and not name.startswith("Historical"):
            model.__module__ = namespace["__name__"]
            namespace[model.__name__] = model
            # Every tracked save adds a history row: its INSERT is compiled once.
            model._do_insert = CompiledSaveMixin._do_insert
            descriptor = namespace[name].__dict__.get("history")
            if type(descriptor) is HistoryDescriptor:
                namespace[name].history = _HistoryDescriptor(descriptor)


class _HistoryDescriptor(HistoryDescriptor):
    """`Model.history`, whose manager class is built once.

    simple-history's descriptor builds a new manager class on every access
    (`from_queryset`, which walks the queryset class with `inspect.getmembers`), and every
    tracked save reads it once to find the historical model: 15 % of a move's save. The
    manager returned is still a new one per access, bound to the instance, as before."""

    def __init__(self, descriptor: HistoryDescriptor):
        super().__init__(descriptor.model, descriptor.manager_class, descriptor.queryset_class)
        self._manager = self.manager_class.from_queryset(self.queryset_class)

    def __get__(self, instance, owner):
        return self._manager(self.model, instance)
