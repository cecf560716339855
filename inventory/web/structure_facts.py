"""Facts that other apps add to a structure's page, without inventory importing them.

As inventory.web.device_facts for the device page: an app registers a provider from its
AppConfig.ready() (logistics: the structure's needs, with a link to the register); the page
shows each fact as a term, a text and an optional link. A provider receives the reader's scope
and the structure, and returns a list (empty when it has nothing to say).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StructureFact:
    label: str
    text: str
    url: str = ""


Provider = Callable[[object, object], list[StructureFact]]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def unregister(provider: Provider) -> None:
    if provider in _PROVIDERS:
        _PROVIDERS.remove(provider)


def structure_facts(scope, structure) -> list[StructureFact]:
    return [fact for provider in _PROVIDERS for fact in provider(scope, structure)]
