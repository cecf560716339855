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
from functools import cache
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable, _get_from_db, get_related_populators
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE
from django.db.models.sql.subqueries import InsertQuery, UpdateQuery
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
        self._cache: dict[tuple, object] = {}

    def first(self, *args):
        if any(type(arg) is int and not _INT64[0] <= arg <= _INT64[1] for arg in args):
            # The ORM turns an id past any column's range into "no row"; sent as such it
            # would be a numeric literal (no index) on PostgreSQL, an OverflowError on SQLite.
            return next(iter(self._build(*args)), None)
        key = tuple(type(arg) for arg in args)
        compiled = self._cache.get(key, False)
        if compiled is False:
            queryset = self._build(*args)
            compiled = _compile(queryset, args)
            if compiled is not None:
                self._cache[key] = compiled
            if not isinstance(compiled, _Compiled):
                return next(iter(queryset), None)
        elif compiled is _UNFIT:
            return next(iter(self._build(*args)), None)
        return _run(compiled, args)


_INT64 = (-(2**63), 2**63 - 1)
_UNFIT = object()  # a shape that is never compiled: the ORM answers every call


def _compile(queryset: QuerySet, args: tuple):
    """The compiled lookup; `_UNFIT` for a shape that is never cached (kept as that); None
    when this call could not be compiled (an empty result, a lock outside a transaction):
    the ORM answers it and the next call tries again."""
    if (
        queryset._known_related_objects
        or queryset.query.annotation_select
        or queryset._fetch_mode.track_peers
    ):
        return _UNFIT
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except Exception:  # EmptyResultSet, a lock outside a transaction…: the ORM decides
        return None
    if list(params) != list(args) or compiler.has_extra_select:
        return _UNFIT
    select, klass_info = compiler.select, compiler.klass_info
    fields = [column[0] for column in select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return _UNFIT
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
    with prepared_cursor(connection) as cursor:
        cursor.execute(compiled.sql, args)
        rows = cursor.fetchmany(GET_ITERATOR_CHUNK_SIZE)
    if not rows:
        return None
    row = next(_converted(rows, compiled.converters, connection))
    instance = compiled.from_db(compiled.db, compiled.init_list, row[compiled.columns])
    for populator in get_related_populators(
        compiler.klass_info, compiler.select, compiled.db, compiled.fetch_mode
    ):
        populator.populate(row, instance)
    return instance


def _converted(rows, converters: dict, connection):
    """SQLCompiler.apply_converters with this thread's connection: the compiler kept with a
    lookup holds the connection of the thread that compiled it."""
    for row in map(list, rows):
        for position, (functions, expression) in converters.items():
            value = row[position]
            for convert in functions:
                value = convert(value, expression, connection)
            row[position] = value
        yield row


# Rows --------------------------------------------------------------------------------------


class CompiledRows:
    """`rows(*args)`: the rows of `build(*args)`, a `values_list` queryset, compiled once per
    shape (how many arguments, of which types) like the lookups above. Each argument must be
    sent as a parameter, once or more (an IN list written twice, say), and nothing else may
    be: a shape whose compiled parameters are not exactly its arguments is never compiled,
    and a call whose arguments repeat a value or hold None (which the ORM folds away) goes
    through the ORM. Only calls of at most `most` arguments are compiled (an import's chunks of
    hundreds of values are not worth a statement kept per length)."""

    def __init__(self, build: Callable[..., QuerySet], *, most: int = 8):
        self._build = build
        self._most = most
        self._cache: dict[tuple, object] = {}

    def rows(self, *args) -> list[tuple]:
        if len(args) > self._most:
            return list(self._build(*args))
        key = tuple(type(arg) for arg in args)
        compiled = self._cache.get(key)
        if compiled is None:
            queryset = self._build(*args)
            compiled = _compile_rows(queryset, args)
            if compiled is _UNFIT or isinstance(compiled, _CompiledRows):
                self._cache[key] = compiled
            if not isinstance(compiled, _CompiledRows):
                return list(queryset)
        if compiled is _UNFIT:
            return list(self._build(*args))
        connection = connections[compiled.db]
        with prepared_cursor(connection) as cursor:
            cursor.execute(compiled.sql, [args[position] for position in compiled.positions])
            rows = cursor.fetchall()
        if compiled.converters:
            return [tuple(row) for row in _converted(rows, compiled.converters, connection)]
        return [tuple(row) for row in rows]


@dataclass(frozen=True)
class _CompiledRows:
    db: str
    sql: str
    positions: tuple[int, ...]  # the argument sent as each parameter
    converters: dict


def _compile_rows(queryset: QuerySet, args: tuple):
    """The compiled rows; `_UNFIT` for a shape never compiled (a parameter that is not one of
    the arguments, an unhashable argument); None when only this call does not fit (a repeated
    value, a None, an argument not sent)."""
    query = queryset.query
    if (
        queryset._iterable_class is not ValuesListIterable
        or query.extra_select
        or query.annotation_select
        or queryset._prefetch_related_lookups
    ):
        return _UNFIT
    try:
        distinct = len(set(args)) == len(args)
    except TypeError:  # an unhashable argument (a list, say): not a shape to compile
        return _UNFIT
    if not distinct or any(arg is None for arg in args):
        return None
    compiler = query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except Exception:  # EmptyResultSet and the like: the ORM decides
        return None
    positions = []
    for param in params:
        position = next((n for n, arg in enumerate(args) if arg is param), None)
        if position is None:
            return _UNFIT  # the ORM sends something else than the arguments: its own SQL
        positions.append(position)
    if set(positions) != set(range(len(args))):
        return None
    fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
    return _CompiledRows(
        db=queryset.db,
        sql=sql,
        positions=tuple(positions),
        converters=compiler.get_converters(fields),
    )


# Inserts and updates ---------------------------------------------------------------------


class CompiledSaveMixin:
    """A model whose single-row INSERT (Model.save of a new row) and UPDATE by primary key
    (Model.save of a loaded row) are compiled once per process and set of columns, like the
    lookups above: their SQL depends on the columns, never on the values, except for values
    that are expressions or database defaults, which go through Django's compiler as before.
    Used by the rows every write adds or changes: the device, the history rows
    (inventory.history, inserts only), the idempotency record."""

    def _do_insert(self, manager, using, fields, returning_fields, raw):
        return compiled_insert(self, manager, using, fields, returning_fields, raw)

    def _do_update(
        self, base_qs, using, pk_val, values, update_fields, forced_update, returning_fields
    ):
        return compiled_update(
            self, base_qs, using, pk_val, values, update_fields, forced_update, returning_fields
        )


_INSERTS: dict[tuple, object] = {}


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    converters: dict


def compiled_insert(instance, manager, using, fields, returning_fields, raw):
    """Model._do_insert's work for one row, with the SQL compiled once (see the mixin)."""
    model = type(instance)
    connection = connections[using]
    key = (model, using, tuple(fields), tuple(returning_fields or ()))
    compiled = _INSERTS.get(key)
    if (
        raw
        or compiled is _UNFIT
        or any(getattr(field, "get_placeholder_sql", None) is not None for field in fields)
    ):
        return _orm_insert(instance, manager, using, fields, returning_fields, raw)
    values = [field.pre_save(instance, add=True) for field in fields]
    # From here on pre_save() has run (an auto_now date set, a file stored): Django's path is
    # taken with raw=True, which reads the attributes instead of calling pre_save() again.
    if any(hasattr(value, "resolve_expression") for value in values):
        # An expression or a database default (DatabaseDefault is one): Django's compiler.
        return _orm_insert(instance, manager, using, fields, returning_fields, True)
    if compiled is None:
        compiled = _INSERTS[key] = _compile_insert(
            model, connection, using, fields, instance, returning_fields
        )
        if compiled is _UNFIT:
            return _orm_insert(instance, manager, using, fields, returning_fields, True)
    params = [
        field.get_db_prep_save(value, connection=connection)
        for field, value in zip(fields, values, strict=True)
    ]
    with prepared_cursor(connection) as cursor:
        cursor.execute(compiled.sql, params)
        if not returning_fields:
            return []
        rows = connection.ops.fetch_returned_rows(cursor, ())
    return list(_converted(rows, compiled.converters, connection))


def _orm_insert(instance, manager, using, fields, returning_fields, raw):
    return manager._insert(
        [instance], fields=fields, returning_fields=returning_fields, using=using, raw=raw
    )


def _compile_insert(model, connection, using, fields, instance, returning_fields):
    if returning_fields and not connection.features.can_return_columns_from_insert:
        return _UNFIT  # the id read by last_insert_id(): Django's path
    query = InsertQuery(model)
    # raw: the compiler reads the attributes pre_save() has just set, without calling it again.
    query.insert_values(fields, [instance], raw=True)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = returning_fields
    [(sql, params)] = compiler.as_sql()
    # One placeholder and one parameter per column, and none for the RETURNING clause.
    if len(params) != len(fields) or compiler.returning_params:
        return _UNFIT
    table = model._meta.db_table
    columns = [field.get_col(table) for field in returning_fields or ()]
    return _CompiledInsert(sql=sql, converters=compiler.get_converters(columns))


_UPDATES: dict[tuple, object] = {}


def compiled_update(instance, *args):
    """Model._do_update's work (same arguments) for one row by its primary key, with the SQL
    compiled once per model and set of columns. Anything else Django's path answers: no
    column to set, a value that is an expression (it has returning fields then) or a model
    instance, a field with its own placeholder, `select_on_save`, a base manager that
    filters, a key that is not a 64-bit int, and a shape whose compiled parameters were not
    the values prepared for saving (kept as such)."""
    base_qs, using, pk_val, values, update_fields, forced_update, returning_fields = args
    if (
        not values
        or returning_fields
        or (instance._meta.select_on_save and not forced_update)
        or type(pk_val) is not int
        or not _INT64[0] <= pk_val <= _INT64[1]
        or base_qs.query.where
        or any(
            hasattr(value, "resolve_expression")
            or hasattr(value, "prepare_database_save")  # a model instance
            or getattr(field, "get_placeholder_sql", None) is not None
            for field, _, value in values
        )
    ):
        return _orm_update(instance, *args)
    key = (type(instance), using, tuple(field for field, _, _ in values))
    sql = _UPDATES.get(key)
    if sql is _UNFIT:
        return _orm_update(instance, *args)
    connection = connections[using]
    params = [field.get_db_prep_save(value, connection=connection) for field, _, value in values]
    params.append(pk_val)
    if sql is None:
        sql = _UPDATES[key] = _compile_update(base_qs, using, pk_val, values, params)
        if sql is _UNFIT:
            return _orm_update(instance, *args)
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return [()] * cursor.rowcount


def _orm_update(instance, *args):
    return super(CompiledSaveMixin, instance)._do_update(*args)


def _compile_update(base_qs, using, pk_val, values, params):
    """The UPDATE's SQL, or `_UNFIT` when Django's compiler would send other parameters than
    the values prepared for saving followed by the key (a field with its own placeholder, a
    key the lookup prepares otherwise)."""
    query = base_qs.filter(pk=pk_val).query.chain(UpdateQuery)
    query.add_update_fields(values)
    query.annotations = {}
    sql, compiled_params = query.get_compiler(using).as_sql()
    if list(compiled_params) != params:
        return _UNFIT
    return sql


# Prepared statements ------------------------------------------------------------------------


def prepared_cursor(connection, *, prepare: bool = True):
    """`connection.cursor()`, whose statements PostgreSQL parses and plans once per connection
    (with `prepare`: a caller whose statement has few shapes; a plain cursor otherwise).

    The statements compiled above are sent again and again with other parameters: on
    PostgreSQL each is prepared (a named statement, psycopg's prepare=True) the first time a
    connection sends it and executed by name afterwards. Planning a lookup's joins cost the
    server more than running them (0.5 to 1 ms against 0.05 to 0.2 ms for the token check
    and the move's locked read). Only these statements are prepared, whose plan cannot
    depend on their parameters (a primary or unique key, an insert): every other query keeps
    Django's client-side binding. Prepared statements need the connection's
    `prepare_threshold` (config/settings.py; unset, as Django leaves it, nothing is
    prepared) and a direct connection or a pooler that keeps them (PgBouncer 1.21 or later
    with max_prepared_statements); after a ROLLBACK psycopg deallocates them all and they are
    prepared again.
    """
    if not prepare or connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if getattr(raw, "prepare_threshold", None) is None:  # unset, or not psycopg 3
        return connection.cursor()
    factory = raw.cursor_factory
    raw.cursor_factory = _prepared_cursor_class()
    try:
        # Django's cursor (its wrapper, its time zone, its query log) over a prepared one.
        return connection.cursor()
    finally:
        raw.cursor_factory = factory


@cache
def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor
    from psycopg import ClientCursor

    class LoggedQuery:
        """What Django's query log reads of an execution (last_executed_query reads
        `cursor._query.query`), which psycopg does not record for a statement sent by name:
        the statement with its values, as client-side binding would have sent it, composed
        only when read (DEBUG, a test counting statements)."""

        __slots__ = ("_connection", "_sql", "_params")

        def __init__(self, connection, sql, params):
            self._connection, self._sql, self._params = connection, sql, params

        @property
        def query(self) -> bytes:
            return ClientCursor(self._connection).mogrify(self._sql, self._params).encode()

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            super().execute(query, params, prepare=True, binary=binary)
            self._query = LoggedQuery(self.connection, query, params)
            return self

    return PreparedCursor
