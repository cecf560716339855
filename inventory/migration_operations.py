"""Migration operations that stay safe on a live PostgreSQL and still run on SQLite."""

from django.contrib.postgres.operations import (
    AddIndexConcurrently,
    NotInTransactionMixin,
    RemoveIndexConcurrently,
)
from django.db.migrations.operations import AddIndex, AlterField, RemoveIndex
from django.db.migrations.operations.base import Operation
from django.db.models import Index


class AddIndexConcurrentlyWherePossible(AddIndexConcurrently):
    """`CREATE INDEX CONCURRENTLY` on PostgreSQL, so that a big device table keeps taking
    writes while the index builds; a plain `CREATE INDEX` elsewhere (SQLite has no such
    option). The migration that uses it must be `atomic = False`. The state change is
    AddIndex's, so the model's Meta.indexes and `makemigrations --check` agree."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddPostgresOnlyIndexConcurrently(AddIndexConcurrently):
    """An index only PostgreSQL can build (a GIN over pg_trgm's opclass), created concurrently
    there and skipped on every other database, outside Django's model state.

    It stays out of the state, hence out of Device.Meta.indexes, on purpose: an index in the
    state is recreated by SQLite's schema editor each time it rebuilds the table (any later
    AlterField on Device), and `CREATE INDEX … USING gin` would fail there. Without a state
    change, `makemigrations --check` has nothing to compare; the EXPLAIN test
    (tests/inventory/test_list_indexes.py) is what keeps the index."""

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name} concurrently (PostgreSQL)"


class RemoveIndexConcurrentlyWherePossible(RemoveIndexConcurrently):
    """`DROP INDEX CONCURRENTLY` on PostgreSQL: a plain DROP INDEX takes the table's ACCESS
    EXCLUSIVE lock, waits behind every running query on the devices and holds up every read and
    write queued after it; a plain `DROP INDEX` elsewhere. The migration that uses it must be
    `atomic = False`. The state change is RemoveIndex's, so Meta.indexes and `makemigrations
    --check` agree. Backwards, the index is built again concurrently."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


def _like_opclass(schema_editor, field) -> str | None:
    """The pattern operator class of the `_like` twin PostgreSQL's schema editor gives an
    indexed varchar or text column (django.db.backends.postgresql.schema), or None."""
    db_type = field.db_type(connection=schema_editor.connection) or ""
    if "[" in db_type:
        return None
    if db_type.startswith("varchar"):
        return "varchar_pattern_ops"
    if db_type.startswith("text"):
        return "text_pattern_ops"
    return None


def _drop_field_indexes(schema_editor, model, field) -> None:
    """Drop concurrently the plain index Django made for `field` (db_index) and its `_like`
    twin: the indexes on that one column alone, neither unique nor declared in Meta (found as
    AlterField finds them, by introspection)."""
    declared = {index.name for index in model._meta.indexes}
    names = schema_editor._constraint_names(
        model,
        [field.column],
        index=True,
        unique=False,
        primary_key=False,
        type_=Index.suffix,
        exclude=declared,
    )
    for name in names:
        schema_editor.execute(schema_editor._delete_index_sql(model, name, concurrently=True))


def _create_field_indexes(schema_editor, model, field) -> None:
    """Build concurrently the indexes Django's schema editor makes for an indexed field."""
    schema_editor.execute(schema_editor._create_index_sql(model, fields=[field], concurrently=True))
    opclass = _like_opclass(schema_editor, field)
    if opclass:
        schema_editor.execute(
            schema_editor._create_index_sql(
                model, fields=[field], suffix="_like", opclasses=[opclass], concurrently=True
            )
        )


class AlterFieldIndexConcurrently(NotInTransactionMixin, AlterField):
    """A field's own index (`db_index`: a ForeignKey's automatic index, or the copy of it that
    django-simple-history gives a historical model) dropped or built concurrently on PostgreSQL,
    `_like` twin included; AlterField elsewhere (SQLite rebuilds the table). The migration must
    be `atomic = False`.

    On PostgreSQL, AlterField would also drop the field's foreign key constraint and add it back,
    which checks every row of the table under a lock that stops its writes: this operation only
    touches the indexes, and refuses any change other than `db_index`."""

    def _indexes_forwards(self, app_label, schema_editor, from_state, to_state):
        self._ensure_not_in_transaction(schema_editor)
        from_model = from_state.apps.get_model(app_label, self.model_name)
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, to_model):
            return
        old = from_model._meta.get_field(self.name)
        new = to_model._meta.get_field(self.name)
        old_kwargs, new_kwargs = old.deconstruct()[3], new.deconstruct()[3]
        old_kwargs.pop("db_index", None)
        new_kwargs.pop("db_index", None)
        if old_kwargs != new_kwargs or old.unique or new.unique:
            raise ValueError(f"{self.model_name}.{self.name}: only db_index may change here")
        if old.db_index and not new.db_index:
            _drop_field_indexes(schema_editor, from_model, old)
        elif new.db_index and not old.db_index:
            _create_field_indexes(schema_editor, to_model, new)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self._indexes_forwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self._indexes_forwards(app_label, schema_editor, from_state, to_state)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Alter the index of {self.model_name}.{self.name} concurrently (PostgreSQL)"


class RemoveLikeIndexConcurrently(NotInTransactionMixin, Operation):
    """The `_like` twin that PostgreSQL's schema editor adds by itself to an indexed or unique
    varchar column (for LIKE 'abc%' outside the C locale), dropped concurrently; nothing
    elsewhere (SQLite has no such index). Outside the model state, as the twin is: Django
    neither declares nor checks it, and drops it with IF EXISTS when it alters the column. The
    migration must be `atomic = False`; backwards, the twin is built again concurrently."""

    reversible = True
    atomic = False

    def __init__(self, model_name: str, name: str):
        self.model_name = model_name
        self.name = name

    def deconstruct(self):
        return self.__class__.__name__, [], {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        self._ensure_not_in_transaction(schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            column = model._meta.get_field(self.name).column
            like = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
            schema_editor.execute(schema_editor._delete_index_sql(model, like, concurrently=True))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        self._ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        opclass = _like_opclass(schema_editor, field)
        if opclass and self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.execute(
                schema_editor._create_index_sql(
                    model, fields=[field], suffix="_like", opclasses=[opclass], concurrently=True
                )
            )

    def describe(self):
        return f"Remove the _like index of {self.model_name}.{self.name} concurrently (PostgreSQL)"
