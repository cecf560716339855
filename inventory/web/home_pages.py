"""Home pages that other apps provide for a kind of organisation, without inventory importing them.

As inventory.web.structure_facts: an app registers a view from its AppConfig.ready()
(logistics: the structure's space); inventory's `home` view serves it instead of the generic
home for users of that kind. The view receives the request, like any view.
"""

from collections.abc import Callable

View = Callable[..., object]
_VIEWS: dict[str, View] = {}


def register(kind: str, view: View) -> None:
    _VIEWS[str(kind)] = view


def unregister(kind: str) -> None:
    _VIEWS.pop(str(kind), None)


def view_for(kind: str | None) -> View | None:
    return _VIEWS.get(str(kind)) if kind else None
