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
