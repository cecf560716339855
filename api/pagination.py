"""The API lists' pages (inventory.pagination): `next`, `previous` and `last` are cursor links
that read the next rows from an index, whatever the depth; `count` stops at CAP and says so
in `count_is_exact`. `?page=N` is served while its rows lie within the first CAP (a bounded
OFFSET); beyond, 400 `page_out_of_window` tells the client to follow `next`.

A page size that is not a whole number from 1 answers 400, as the schema says; above the cap
it is capped.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from inventory import pagination
from inventory.errors import DomainError
from inventory.pagination import InvalidCursor, InvalidPage, PageOutOfWindow, grouped

WHOLE_NUMBER = _("A whole number from 1.")


class Pagination(BasePagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    page_query_param = pagination.PAGE_QUERY
    cursor_query_param = pagination.CURSOR_QUERY

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({self.page_size_query_param: [WHOLE_NUMBER]})
        return min(int(raw), self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        number = request.query_params.get(self.page_query_param)
        cursor = request.query_params.get(self.cursor_query_param)
        if number == "":
            raise ValidationError({self.page_query_param: [WHOLE_NUMBER]})
        if cursor == "":
            raise ValidationError({self.cursor_query_param: [_("Give the cursor of a link.")]})
        if number is not None and cursor is not None:
            raise ValidationError(
                {self.page_query_param: [_("Give a page or a cursor, not both.")]}
            )
        # A view may count less far (a search: inventory.pagination.SEARCH_CAP).
        cap = view.page_cap() if hasattr(view, "page_cap") else None
        # A view may know its total without counting rows (the device counters).
        total = view.page_total() if hasattr(view, "page_total") else None
        try:
            self.page = pagination.paginate(
                queryset, size=size, cursor=cursor, page=number, cap=cap, total=total
            )
        except InvalidCursor as err:
            message = _(
                "This cursor is not one this list gave: follow the next, previous and last "
                "links as given, or start from the first page."
            )
            raise DomainError(
                "invalid_cursor", message, status=400, fields={self.cursor_query_param: [message]}
            ) from err
        except PageOutOfWindow as err:
            message = _(
                "Page numbers reach the first %(cap)s results only: follow the next links beyond."
            ) % {"cap": grouped(err.cap)}
            raise DomainError(
                "page_out_of_window",
                message,
                status=400,
                fields={self.page_query_param: [message]},
            ) from err
        except InvalidPage as err:
            raise NotFound() from err
        return self.page.object_list

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data):
        page = self.page
        return Response(
            {
                "count": page.count,
                "count_is_exact": page.count_exact,
                "next": self._link(page.next_cursor),
                "previous": self._link(page.previous_cursor),
                "last": None if page.is_last else self._link(page.last_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        cap = f"{pagination.CAP:,}"
        search = f" ({pagination.SEARCH_CAP:,} for a search, `q`)"
        return {
            "type": "object",
            "required": ["count", "count_is_exact", "next", "previous", "last", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": f"The number of results, exact up to {cap}{search}. "
                    "Beyond, it is that cap and `count_is_exact` is false: the list is not "
                    "counted through to its end.",
                },
                "count_is_exact": {
                    "type": "boolean",
                    "description": f"False when there are more than {cap}{search} "
                    "results and `count` is only that cap.",
                },
                "next": link
                | {"description": "The next page (a cursor link), or null on the last page."},
                "previous": link
                | {"description": "The previous page (a cursor link), or null on the first."},
                "last": link | {"description": "The last page, or null on the last page."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        cap = f"{pagination.CAP:,}"
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque: the cursor of a `next`, `previous` or `last` link, "
                "as given. A cursor this list did not give answers 400 `invalid_cursor`.",
                "schema": {"type": "string", "maxLength": pagination.CURSOR_MAX_LENGTH},
            },
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": f"A page number, served while its results lie within the "
                f"first {cap} ({pagination.SEARCH_CAP:,} for a search); beyond, 400 "
                "`page_out_of_window`: follow `next` instead.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, from 1; above {self.max_page_size}, "
                f"{self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
