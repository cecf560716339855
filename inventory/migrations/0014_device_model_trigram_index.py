"""A trigram index for the search's model substring (`model_name__icontains`, which PostgreSQL
runs as UPPER(model_name::text) LIKE UPPER('%…%')): the index is over that same expression, so
the whole search is a BitmapOr of indexes instead of a sequential scan. PostgreSQL only: SQLite
keeps its LIKE over the table (see AddPostgresOnlyIndexConcurrently for why it is not in the
model state)."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Cast, Upper

from inventory.migration_operations import AddPostgresOnlyIndexConcurrently


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction: a live table keeps its writes.
    atomic = False

    dependencies = [
        ("inventory", "0013_device_list_indexes"),
    ]

    operations = [
        # CREATE EXTENSION IF NOT EXISTS pg_trgm; a no-op on other databases.
        TrigramExtension(),
        AddPostgresOnlyIndexConcurrently(
            model_name="device",
            index=GinIndex(
                OpClass(Upper(Cast("model_name", models.TextField())), name="gin_trgm_ops"),
                name="device_model_trgm_idx",
            ),
        ),
    ]
