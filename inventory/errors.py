"""The one domain error: a stable English code for machines, a translated message for people."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Raised by services; the API maps `status` to the HTTP reply, views show `message`."""

    status = 409

    def __init__(self, code: str, message=None, *, status: int | None = None, **params):
        self.code = code
        self.params = params
        self.message = message if message is not None else _("The operation was refused.")
        if status is not None:
            self.status = status
        super().__init__(f"{code}: {self.message}")

    def __str__(self) -> str:
        return str(self.message)


def invalid(fields: dict[str, list]) -> DomainError:
    """Field errors of a form or a request body, answered as one 400 `invalid`."""
    return DomainError("invalid", _("Some fields are not valid."), status=400, fields=fields)
