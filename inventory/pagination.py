"""Every list reads one page without counting or skipping through the whole table: pages follow
the list's order from a cursor (keyset pagination), and the total is counted up to CAP rows.

A cursor is opaque to clients (urlsafe base64 of JSON): the order's values of the row a page
starts after (or ends before), and where that row stands when it is known, for display only.
The web (inventory.web.paging) and the API (api.pagination) share this core.
"""

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet
from django.db.models.expressions import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.formats import number_format

# Up to CAP rows a total is exact; beyond, lists say "more than CAP". A page number (?page=N)
# is served only while its rows lie within the first CAP: OFFSET stays bounded.
CAP = 10_000
# A search's total stops sooner: a frequent term ("Latitude") is counted by reading rows until
# this many match, a bounded read whatever the table's size, where counting to CAP read its
# whole trigram bitmap (45 ms at a million devices). At 1M the planner reads the table in
# order until the cap is met (1 row in 8 matches "Latitude"): 6.2 ms to 1,000, 2.5 ms to 500,
# against 1.7 ms through the trigram index at 10k. Pages past it are reached by cursor.
SEARCH_CAP = 500
CURSOR_MAX_LENGTH = 600
PAGE_QUERY = "page"
CURSOR_QUERY = "cursor"

_AFTER, _BEFORE, _LAST = "a", "b", "l"


class InvalidCursor(ValueError):
    """A cursor this list did not make: tampered, truncated or of another list."""


class InvalidPage(ValueError):
    """A page number that is no whole number from 1, or past the last page."""


class PageOutOfWindow(ValueError):
    """A page number whose rows lie beyond the first `cap`: follow the cursors instead."""

    def __init__(self, page: str, cap: int):
        super().__init__(page)
        self.cap = cap


@dataclass(frozen=True)
class Order:
    """A list's order as field names ("-created_at", "-id"), ending with the primary key so
    that every row has its own place. Its columns must not be null."""

    fields: tuple[str, ...]

    @classmethod
    def of(cls, queryset: QuerySet) -> "Order":
        pk = queryset.model._meta.pk.name
        fields = tuple(queryset.query.order_by or queryset.model._meta.ordering or ())
        fields = tuple(f"-{pk}" if f == "-pk" else pk if f == "pk" else f for f in fields)
        if not fields or fields[-1].lstrip("-") != pk:
            descending = bool(fields) and fields[-1].startswith("-")
            fields += (f"-{pk}" if descending else pk,)
        for name in fields:
            if not isinstance(name, str) or "__" in name or "?" in name:
                raise ValueError(f"Keyset pages need plain columns to order by, not {name!r}.")
        return cls(fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.lstrip("-") for f in self.fields)

    @property
    def descending(self) -> tuple[bool, ...]:
        return tuple(f.startswith("-") for f in self.fields)

    def reversed(self) -> tuple[str, ...]:
        pairs = zip(self.names, self.descending, strict=True)
        return tuple(name if desc else f"-{name}" for name, desc in pairs)

    def values_of(self, row) -> list:
        return [getattr(row, name) for name in self.names]


def _encode_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()  # full precision: DjangoJSONEncoder would cut microseconds
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode_value(queryset: QuerySet, name: str, value):
    if isinstance(value, bool) or not isinstance(value, int | str) or value is None:
        raise InvalidCursor(name)
    if name in queryset.query.annotations:
        model_field = queryset.query.annotations[name].output_field
    else:
        try:
            model_field = queryset.model._meta.get_field(name)
        except FieldDoesNotExist as err:
            raise InvalidCursor(name) from err
    try:
        decoded = model_field.to_python(value)
    except (ValidationError, TypeError, ValueError, OverflowError) as err:
        raise InvalidCursor(name) from err
    if decoded is None:
        raise InvalidCursor(name)
    if isinstance(decoded, datetime):
        # The list's cursors carry aware instants. A naive one, or one that leaves the
        # calendar once in UTC (year 9999 at -14:00), is not one of them; the database
        # adapter would fail on it (SQLite converts to UTC) and answer 500.
        if decoded.utcoffset() is None:
            raise InvalidCursor(name)
        try:
            decoded = decoded.astimezone(UTC)
        except OverflowError as err:
            raise InvalidCursor(name) from err
    if isinstance(decoded, int) and not -(2**63) <= decoded < 2**63:
        raise InvalidCursor(name)
    return decoded


def encode_cursor(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> dict:
    if not text or len(text) > CURSOR_MAX_LENGTH or not text.isascii():
        raise InvalidCursor("length")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidCursor("encoding") from err
    if not isinstance(payload, dict) or payload.get("k") not in {_AFTER, _BEFORE, _LAST}:
        raise InvalidCursor("shape")
    for key in ("s", "e"):
        if key in payload and (
            isinstance(payload[key], bool)
            or not isinstance(payload[key], int)
            or not 0 <= payload[key] <= 2**53
        ):
            raise InvalidCursor(key)
    if payload["k"] != _LAST and not isinstance(payload.get("v"), list):
        raise InvalidCursor("values")
    return payload


def cursor_after(values, *, order: Order | tuple[str, ...], start: int | None = None) -> str:
    """The cursor of the page that starts right after the row with these order values (a row
    object or a list in the order's sequence, e.g. [created_at, id] for the device list).

    `start`, the number of rows up to and including that row, only lets the page say where it
    stands; leave it out when unknown. Pass it as ?cursor=… to the list, web or API: this is
    how a client (or bench/scale.py) opens the page at 90 % without walking there."""
    order = order if isinstance(order, Order) else Order(tuple(order))
    if not isinstance(values, list | tuple):
        values = order.values_of(values)
    payload = {"k": _AFTER, "v": [_encode_value(v) for v in values]}
    if start is not None:
        payload["s"] = start
    return encode_cursor(payload)


def keyset_filter(order: Order, values: list, *, after: bool) -> Q:
    """The rows after (or before) the row with these values in the order: one row comparison
    when every column runs the same way, which a composite index answers as its condition."""
    forwards = [desc != after for desc in order.descending]  # True: the values must grow
    if all(forwards) or not any(forwards):
        lookup = TupleGreaterThan if forwards[0] else TupleLessThan
        return Q(lookup(Tuple(*(F(n) for n in order.names)), tuple(values)))
    condition = Q()
    for index in reversed(range(len(order.names))):
        name, value = order.names[index], values[index]
        strict = Q(**{f"{name}__{'gt' if forwards[index] else 'lt'}": value})
        last = index == len(order.names) - 1
        condition = strict if last else strict | (Q(**{name: value}) & condition)
    return condition


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """The number of rows up to the cap, and whether it is exact: the database stops counting
    at cap + 1 (SELECT COUNT(*) FROM (… LIMIT cap + 1))."""
    cap = CAP if cap is None else cap
    counted = queryset.order_by()[: cap + 1].count()
    return (counted, True) if counted <= cap else (cap, False)


@dataclass
class Page:
    object_list: list
    count: int
    count_exact: bool
    size: int
    next_cursor: str | None = None
    previous_cursor: str | None = None
    # Where the page stands, when known: its first row's place from the start (1-based), or
    # how many rows follow its last one (pages reached from the last page).
    start: int | None = None
    rows_after: int | None = None
    is_first: bool = False
    is_last: bool = False

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def last_cursor(self) -> str:
        return last_cursor()

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def first_index(self) -> int | None:
        """The place of the page's first row, 1-based, when known."""
        if not self.object_list:
            return None
        if self.start is not None:
            return self.start
        if self.rows_after is not None and self.count_exact:
            return self.count - self.rows_after - len(self.object_list) + 1
        return None

    @property
    def last_index(self) -> int | None:
        first = self.first_index
        return None if first is None else first + len(self.object_list) - 1

    @property
    def page_number(self) -> int | None:
        """The page's number when pages line up with the first page's (walked from it)."""
        first = self.first_index
        if first is None or (first - 1) % self.size:
            return None
        return (first - 1) // self.size + 1

    @property
    def num_pages(self) -> int | None:
        return math.ceil(self.count / self.size) if self.count_exact else None

    @property
    def count_display(self) -> str:
        return grouped(self.count)


def grouped(number: int) -> str:
    """A number grouped by thousands in the active language; in French with the narrow no-break
    space the typography asks for (10 000), where Django's format has a wide one."""
    return number_format(number, force_grouping=True).replace("\u00a0", "\u202f")


def _position(payload: dict) -> tuple[int | None, int | None]:
    return payload.get("s"), payload.get("e")


def paginate(
    queryset: QuerySet,
    *,
    size: int,
    cursor: str | None = None,
    page: str | None = None,
    cap: int | None = None,
    total: int | None = None,
) -> Page:
    """One page of the queryset in its order: the first page, the page a cursor points at, or
    page number `page` while its rows lie within the first `cap`. Two queries whatever the
    table's size: the capped count and the page (LIMIT size + 1, never an OFFSET past cap).

    `total`: the queryset's number of rows when the caller knows it without counting them
    (the device counters); it is capped like a count, and the count query is not made.

    Raises InvalidCursor, InvalidPage or PageOutOfWindow; the web and API translate them."""
    cap = CAP if cap is None else cap
    order = Order.of(queryset)
    ordered = queryset.order_by(*order.fields)
    if total is None:
        count, exact = capped_count(queryset, cap)
    else:
        count, exact = (total, True) if total <= cap else (cap, False)
    if cursor:
        return _page_at_cursor(queryset, order, decode_cursor(cursor), size, count, exact)
    offset = 0
    if page not in (None, "1"):
        if not (page.isascii() and page.isdigit()) or int(page) < 1:
            raise InvalidPage(page)
        offset = (int(page) - 1) * size
        if offset + size > cap:
            raise PageOutOfWindow(page, cap)
    rows = list(ordered[offset : offset + size + 1])
    if offset and not rows:
        raise InvalidPage(page)
    return _forward_page(order, rows, size, count, exact, start=offset + 1, first=offset == 0)


def _forward_page(order, rows, size, count, exact, *, start=None, rows_after=None, first=False):
    more = len(rows) > size
    rows = rows[:size]
    result = Page(rows, count, exact, size, start=start, rows_after=rows_after, is_first=first)
    if more:
        next_start = None if start is None else start + size - 1
        result.next_cursor = _cursor(_AFTER, order.values_of(rows[-1]), s=next_start)
        if next_start is None and rows_after is not None:
            result.next_cursor = _cursor(_AFTER, order.values_of(rows[-1]), e=rows_after)
    else:
        result.is_last = True
        result.rows_after = 0
    if not first and rows:
        s = start
        e = None if rows_after is None else rows_after + len(rows)
        result.previous_cursor = _cursor(_BEFORE, order.values_of(rows[0]), s=s, e=e)
    return result


def _backward_page(order, rows, size, count, exact, *, cursor_place=None, rows_after=None):
    """Rows read in the reversed order, ending right before a row (or at the last row)."""
    more = len(rows) > size
    rows = list(reversed(rows[:size]))
    start = None
    if not more:
        start = 1  # no row before: this is the start of the list
    elif cursor_place is not None:
        start = cursor_place - len(rows)
    result = Page(rows, count, exact, size, start=start, rows_after=rows_after, is_first=not more)
    if rows_after == 0:
        result.is_last = True
    if more and rows:
        e = None if rows_after is None else rows_after + len(rows)
        s = start
        result.previous_cursor = _cursor(_BEFORE, order.values_of(rows[0]), s=s, e=e)
    if not result.is_last and rows:
        s = None if start is None else start + len(rows) - 1
        result.next_cursor = _cursor(_AFTER, order.values_of(rows[-1]), s=s, e=rows_after)
    return result


def _cursor(kind: str, values: list, *, s: int | None = None, e: int | None = None) -> str:
    payload = {"k": kind, "v": [_encode_value(v) for v in values]}
    if s is not None and s >= 0:
        payload["s"] = s
    elif e is not None and e >= 0:
        payload["e"] = e
    return encode_cursor(payload)


def _page_at_cursor(queryset, order, payload, size, count, exact) -> Page:
    start, rows_after = _position(payload)
    if payload["k"] == _LAST:
        if exact:
            # Within the cap the last page lines up with the numbered ones: its rows are the
            # list's last count - offset, read from the end of the reversed order (no OFFSET).
            offset = max(0, math.ceil(count / size) - 1) * size
            rows = list(reversed(queryset.order_by(*order.reversed())[: max(count - offset, 1)]))
            last = Page(rows, count, exact, size, start=offset + 1, rows_after=0)
            last.is_last, last.is_first = True, offset == 0
            if offset and rows:
                last.previous_cursor = _cursor(_BEFORE, order.values_of(rows[0]), s=offset + 1)
            return last
        rows = list(queryset.order_by(*order.reversed())[: size + 1])
        return _backward_page(order, rows, size, count, exact, rows_after=0)
    values = payload["v"]
    if len(values) != len(order.names):
        raise InvalidCursor("values")
    values = [_decode_value(queryset, n, v) for n, v in zip(order.names, values, strict=True)]
    if payload["k"] == _AFTER:
        rows = list(
            queryset.filter(keyset_filter(order, values, after=True)).order_by(*order.fields)[
                : size + 1
            ]
        )
        page_start = None if start is None else start + 1
        page_after = None if rows_after is None else rows_after - min(len(rows), size)
        return _forward_page(
            order, rows, size, count, exact, start=page_start, rows_after=page_after
        )
    rows = list(
        queryset.filter(keyset_filter(order, values, after=False)).order_by(*order.reversed())[
            : size + 1
        ]
    )
    return _backward_page(
        order, rows, size, count, exact, cursor_place=start, rows_after=rows_after
    )


def last_cursor() -> str:
    """The cursor of the last page: beyond the cap, the first page of the reversed order, shown
    in order (its rows line up from the end); within it, the last numbered page."""
    return encode_cursor({"k": _LAST})
