"""Template helpers of every screen: the page title says when the page shows an error, so that
a screen-reader user hears it first (the title is what is read when a page opens)."""

from django import template
from django.contrib.messages import constants
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet
from django.utils.translation import gettext as _

register = template.Library()


def _shows_error(value) -> bool:
    if isinstance(value, BaseForm):
        return value.is_bound and bool(value.errors)
    if isinstance(value, BaseFormSet):
        return value.is_bound and (value.total_error_count() > 0)
    # A result that lists its own errors (a spreadsheet preview): a list, never a form's dict.
    try:
        errors = getattr(value, "errors", None)
    except Exception:  # a lazy object of the context that cannot be read: not an error shown
        return False
    return isinstance(errors, list | tuple) and bool(errors)


@register.simple_tag(takes_context=True)
def error_title_prefix(context) -> str:
    """ "Error: " when the page shows an error (a form that did not validate, an error message,
    a view's `error` or `form_errors`), else nothing."""
    flat = context.flatten()
    found = bool(flat.get("error") or flat.get("form_errors")) or any(
        _shows_error(value) for value in flat.values()
    )
    if not found:
        messages = flat.get("messages")
        found = messages is not None and any(
            message.level >= constants.ERROR for message in messages
        )
    return _("Error:") + " " if found else ""
