"""Web screens of the network's organisations: the page an invitation's link opens, where an
invited person chooses a password."""

from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.urls import reverse_lazy
from django.utils.translation import gettext as _


class InvitationAcceptView(PasswordResetConfirmView):
    """Django's password-reset confirmation with our page: the link holds a one-time token
    that choosing the password consumes (the token is made from the password's hash)."""

    template_name = "organisations/invitation_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(
            self.request,
            _("Your password is set. Sign in with %(username)s and this password.")
            % {"username": form.user.get_username()},
        )
        return response
