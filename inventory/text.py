"""Text every door refuses: control characters and lone surrogates, which PostgreSQL cannot
store (NUL, a surrogate) or nobody can read (the other controls). API fields, forms, query
strings and headers all ask this module; scans keep theirs, shown as U+FFFD (scanning.services).
"""

import re

from django.utils.translation import gettext_lazy as _

# C0 controls but tab, line feed and carriage return; DEL; C1 controls; lone surrogates.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# In a one-line field, tab and line breaks are refused too once the ends are trimmed.
_LINE_BREAKS = re.compile("[\t\n\r]")
# Header and cookie values arrive as Latin-1: bytes 0x80-0x9F are UTF-8 text, not controls.
_HEADER_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")

CONTROL_CHARACTERS = _(
    "Remove the control characters from this text (invisible characters such as NUL)."
)
ONE_LINE = _("One line only: remove the line breaks and tabs.")


def text_problem(value, *, multiline: bool = True):
    """The message that refuses `value`, or None: strings, lists, dicts (keys too) and an
    uploaded file's name are read; anything else passes."""
    if isinstance(value, str):
        if _CONTROLS.search(value):
            return CONTROL_CHARACTERS
        if not multiline and _LINE_BREAKS.search(value.strip()):
            return ONE_LINE
        return None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = value
    elif hasattr(value, "chunks") and isinstance(getattr(value, "name", None), str):
        items = [value.name]  # an uploaded file: its name may be kept
    else:
        return None
    for item in items:
        problem = text_problem(item, multiline=multiline)
        if problem:
            return problem
    return None


def header_problem(value: str):
    """The message that refuses a header or cookie value (tab allowed), or None."""
    return CONTROL_CHARACTERS if _HEADER_CONTROLS.search(value) else None


def shown(value: str) -> str:
    """`value` with its control characters as U+FFFD: a name an error message can quote."""
    return _HEADER_CONTROLS.sub("\ufffd", _CONTROLS.sub("\ufffd", value))
