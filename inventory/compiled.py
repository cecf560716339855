"""Lookups by a unique key whose SQL is compiled once per process instead of once per request.

The hot paths (the API's token check, the move's locked read of a device, the scan's lookup by
label code) read one row joined to its relations by `select_related`. Compiling that queryset
(its select list over four tables, its joins) cost more of Django's time than running it: 0.4
to 0.65 ms per request, against 0.25 to 0.35 ms for the round trip. The SQL of such a lookup
depends only on its shape, never on the key, so it is compiled on the first call and kept;
later calls send the same SQL with their own parameters and build the instances the way
Django's ModelIterable does (converters, `from_db`, the related populators).

A lookup is cached only when what the ORM compiled has exactly the call's arguments as its
parameters, in order; an argument of another type than on that call (a string where an int
was, say) goes through the ORM as usual, so that its own validation and errors stand. Any
other shape (annotations, known related objects, a compiled parameter that is not one of the
arguments) is never cached: every call then runs the ORM's queryset.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import _get_from_db, get_related_populators
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE
from django.db.transaction import TransactionManagementError


@dataclass(frozen=True)
class _Compiled:
    db: str
    sql: str
    compiler: Any
    converters: dict
    init_list: list[str]
    columns: slice
    fetch_mode: Any
    from_db: Callable


class CompiledLookup:
    """`first(*args)`: the first row of `build(*args)` (a queryset that selects at most one row,
    e.g. sliced `[:1]`), or None; each argument is used once as a parameter, in order."""

    def __init__(self, build: Callable[..., QuerySet]):
        self._build = build
        self._cache: dict[tuple, _Compiled | None] = {}

    def first(self, *args):
        key = tuple(type(arg) for arg in args)
        compiled = self._cache.get(key, False)
        if compiled is False:
            queryset = self._build(*args)
            compiled = self._cache[key] = _compile(queryset, args)
            if compiled is None:
                return next(iter(queryset), None)
        elif compiled is None:
            return next(iter(self._build(*args)), None)
        return _run(compiled, args)


def _compile(queryset: QuerySet, args: tuple) -> _Compiled | None:
    if (
        queryset._known_related_objects
        or queryset.query.annotation_select
        or queryset._fetch_mode.track_peers
    ):
        return None
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except Exception:  # EmptyResultSet, a lock outside a transaction…: the ORM decides
        return None
    if list(params) != list(args) or compiler.has_extra_select:
        return None
    select, klass_info = compiler.select, compiler.klass_info
    fields = [column[0] for column in select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return None
    select_fields = klass_info["select_fields"]
    columns = slice(select_fields[0], select_fields[-1] + 1)
    return _Compiled(
        db=queryset.db,
        sql=sql,
        compiler=compiler,
        converters=compiler.get_converters(fields),
        init_list=[column[0].target.attname for column in select[columns]],
        columns=columns,
        fetch_mode=queryset._fetch_mode,
        from_db=_get_from_db(klass_info["model"], queryset._fetch_mode),
    )


def _run(compiled: _Compiled, args: tuple):
    compiler = compiled.compiler
    connection = connections[compiled.db]
    features = connection.features
    if (
        compiler.query.select_for_update
        and features.has_select_for_update
        and features.supports_transactions
        and connection.get_autocommit()
    ):
        # The ORM refuses a locked read outside a transaction: so does the cached one.
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, args)
        rows = cursor.fetchmany(GET_ITERATOR_CHUNK_SIZE)
    if not rows:
        return None
    if compiled.converters:
        rows = compiler.apply_converters(rows, compiled.converters)
    row = next(iter(rows))
    instance = compiled.from_db(compiled.db, compiled.init_list, row[compiled.columns])
    for populator in get_related_populators(
        compiler.klass_info, compiler.select, compiled.db, compiled.fetch_mode
    ):
        populator.populate(row, instance)
    return instance
