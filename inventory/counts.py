"""Device counters per (custodian, status): written by every service that creates a device or
changes its status or custody, in the same transaction; recomputed from the devices by
`manage.py device_counts`.

One write is one statement: an upsert (INSERT … ON CONFLICT DO UPDATE SET count = count + n,
PostgreSQL and SQLite ≥ 3.24) of the few keys a write touches, in sorted key order. The upsert
creates a missing row without a race, and the sorted order makes every transaction lock the
counter rows in the same order, so that a move A → B and a move B → A wait for each other
instead of deadlocking. Counter rows are hot (every move of a workshop touches the same two):
the services take them last, after the device rows, and a service that moves several devices
in one transaction defers them to its end (`device_counts_deferred`), so that no transaction
holds a counter row while it waits for a device row.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Sum

from inventory.compiled import prepared_cursor
from inventory.models import Device, DeviceCount

Key = tuple[int, str]  # (custodian_id, status)

_PENDING = "_reemploi_device_counts_pending"


def device_counts_shift(*, before: Key | None, after: Key | None) -> None:
    """One device left `before` and entered `after` (None: it was created, or deleted)."""
    deltas: Counter = Counter()
    if before is not None:
        deltas[before] -= 1
    if after is not None:
        deltas[after] += 1
    device_counts_apply(deltas)


def device_counts_add(keys: Iterable[Key]) -> None:
    """Devices created at once (bulk intake), one key per device."""
    device_counts_apply(Counter(keys))


def device_counts_apply(deltas: dict[Key, int]) -> None:
    pending = getattr(connection, _PENDING, None)
    if pending is not None:
        pending.update(deltas)
        return
    _upsert({key: delta for key, delta in deltas.items() if delta}, add=True)


@contextmanager
def device_counts_deferred() -> Iterator[None]:
    """Inside a transaction that moves several devices: their counters are written once, at
    the end of the block, in sorted key order (the devices are locked first, in pk order)."""
    if getattr(connection, _PENDING, None) is not None:
        yield  # already deferred by an enclosing block, which writes them
        return
    setattr(connection, _PENDING, Counter())
    try:
        yield
        deltas = getattr(connection, _PENDING)
    finally:
        setattr(connection, _PENDING, None)
    device_counts_apply(deltas)


def _upsert(counts: dict[Key, int], *, add: bool) -> None:
    """Add (or set) each key's count; missing rows are created."""
    if not counts:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("device counters are written inside the transaction of their change")
    quote = connection.ops.quote_name
    table = quote(DeviceCount._meta.db_table)
    column = quote("count")
    new = f"{table}.{column} + excluded.{column}" if add else f"excluded.{column}"
    values = ", ".join(["(%s, %s, %s)"] * len(counts))
    params = [value for key in sorted(counts) for value in (*key, counts[key])]
    sql = (
        f"INSERT INTO {table} ({quote('custodian_id')}, {quote('status')}, {column}) "  # noqa: S608 (names from the model)
        f"VALUES {values} ON CONFLICT ({quote('custodian_id')}, {quote('status')}) "
        f"DO UPDATE SET {column} = {new}"
    )
    # A move's or a registration's upsert (one or two keys) has few shapes: prepared once per
    # connection (inventory.compiled.prepared_cursor); a bulk intake's, of any length, is not.
    with prepared_cursor(connection, prepare=len(counts) <= 2) as cursor:
        cursor.execute(sql, params)


def device_total(*, custodian_id: int | None = None, status: str = "") -> int:
    """Devices in a custody (None: all) and a status ("": all), from the counters: a sum over
    at most one row per custodian and status, whatever the number of devices."""
    counters = DeviceCount.objects.order_by()
    if custodian_id is not None:
        counters = counters.filter(custodian_id=custodian_id)
    if status:
        counters = counters.filter(status=status)
    return counters.aggregate(total=Sum("count"))["total"] or 0


# Recount --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    custodian_id: int
    status: str
    stored: int
    actual: int


def device_counts_recount(*, fix: bool) -> list[Drift]:
    """Every counter compared with a count of the devices; with `fix`, set to that count.

    Safe while devices move: the counter table is locked first, against writes only (the
    home pages still read it), then the devices are counted. A move that wrote its counters
    before the lock has committed by the time the lock is granted, so the count sees it; a
    move that comes later waits for this transaction at its counter write, which is its last
    statement, holding no lock this transaction needs (the count reads devices unlocked).
    On SQLite the IMMEDIATE transaction holds the database's write lock already.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(DeviceCount._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        stored = {
            (custodian_id, status): count
            for custodian_id, status, count in DeviceCount.objects.values_list(
                "custodian_id", "status", "count"
            )
        }
        actual = {
            (custodian_id, status): count
            for custodian_id, status, count in Device.objects.order_by()
            .values_list("custodian_id", "status")
            .annotate(count=Count("id"))
        }
        drift = [
            Drift(key[0], key[1], stored.get(key, 0), actual.get(key, 0))
            for key in sorted(set(stored) | set(actual))
            if stored.get(key, 0) != actual.get(key, 0)
        ]
        if fix:
            _upsert({(d.custodian_id, d.status): d.actual for d in drift}, add=False)
    return drift
