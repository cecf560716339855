"""Issue 10: every registration inserts a label code, whose primary key is random: each new code
is an entry at a random place of its indexes, which at a million codes no longer sit in
shared_buffers (a read, and a full-page image in the WAL after each checkpoint). The primary key
had a `_like` twin (varchar_pattern_ops, for LIKE 'abc%' outside the C locale), which PostgreSQL's
schema editor adds to every varchar primary key: no query runs a LIKE on the codes (a scan, the
search and the public page ask for one code, which the primary key serves), so it is dropped,
concurrently. Measured at 1M codes: 38 MB, and a register wrote 25 kB of WAL against 5 kB at 10k.

tests/inventory/test_device_indexes.py lists the indexes the label code table keeps."""

from django.db import migrations

from inventory.migration_operations import RemoveLikeIndexConcurrently


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run in a transaction: a live table keeps its writes.
    atomic = False

    dependencies = [
        ("inventory", "0021_device_awaiting_disposal"),
    ]

    operations = [
        RemoveLikeIndexConcurrently(model_name="labelcode", name="code"),
    ]
