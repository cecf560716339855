"""Facts that other apps add to the device page, without inventory importing them.

An app registers a provider from its AppConfig.ready() (logistics: a recycled device's WEEE
batch); the page shows each fact as a term, a text and an optional link. A provider receives
the reader's scope and the device, and returns a list (empty when it has nothing to say).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceFact:
    label: str
    text: str
    url: str = ""


Provider = Callable[[object, object], list[DeviceFact]]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def registered() -> tuple[Provider, ...]:
    return tuple(_PROVIDERS)


def device_facts(scope, device) -> list[DeviceFact]:
    return [fact for provider in _PROVIDERS for fact in provider(scope, device)]
