"""The web lists' pages (inventory.pagination): a link that no longer leads anywhere (a cursor
edited by hand, a page number past the end or the window) shows the first page with a message,
never an error page."""

from django.contrib import messages
from django.utils.translation import gettext as _

from inventory.pagination import (
    CURSOR_QUERY,
    PAGE_QUERY,
    InvalidCursor,
    InvalidPage,
    Page,
    PageOutOfWindow,
    grouped,
    paginate,
)

PAGE_SIZE = 50


def page_of(request, queryset, *, size: int = PAGE_SIZE, data=None, cap=None, total=None) -> Page:
    """The page the query string (or a posted form, `data`) asks for, else the first; the
    total counted up to `cap` (CAP when None), or `total`, the number of rows when known
    without counting them (pagination.paginate)."""
    data = request.GET if data is None else data
    cursor = data.get(CURSOR_QUERY) or None
    number = data.get(PAGE_QUERY) or None
    try:
        return paginate(queryset, size=size, cursor=cursor, page=number, cap=cap, total=total)
    except PageOutOfWindow as err:
        messages.warning(
            request,
            _(
                "Page numbers reach the first %(cap)s rows only: here is the first page, "
                "follow the Next and Last links from it."
            )
            % {"cap": grouped(err.cap)},
        )
    except (InvalidCursor, InvalidPage):
        messages.warning(request, _("This page link leads nowhere: here is the first page."))
    return paginate(queryset, size=size, cap=cap, total=total)
