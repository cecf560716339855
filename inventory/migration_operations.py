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
