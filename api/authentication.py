"""The API's token check."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from inventory.compiled import CompiledLookup


def _token(key):
    from rest_framework.authtoken.models import Token  # a model: imported once apps are ready

    return Token.objects.select_related("user__membership__organisation").filter(key=key)


# The token (its key is the primary key) with its user, membership and organisation: its SQL
# is compiled once per process (inventory.compiled), being read by every request of the API.
_TOKEN = CompiledLookup(lambda key: _token(key).order_by()[:1])


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check, which also reads the user's membership and its organisation in the
    same query: every request needs them for its scope (inventory.selectors.user_scope), which
    took a second query of its own. The messages are DRF's (translated by DRF)."""

    def authenticate_credentials(self, key):
        token = _TOKEN.first(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
