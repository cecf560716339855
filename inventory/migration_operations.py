"""Migration operations that stay safe on a live PostgreSQL and still run on SQLite."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


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
