"""Lookups compiled once (inventory.compiled): the same rows and relations as the ORM's queryset,
one statement, no compilation after the first call, and the ORM's own path whenever the call
does not fit the compiled shape."""

from unittest import mock

import pytest
from django.db import connection, transaction
from django.db.models.sql.compiler import SQLCompiler
from rest_framework.authtoken.models import Token

from inventory.compiled import CompiledLookup
from inventory.models import Device, Organisation
from inventory.selectors import devices_visible_to, the_one, visible_device
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import make_device, token_client

RELATIONS = ("category", "custodian", "donor")


def orm_device(user, **lookup):
    return the_one(devices_visible_to(user).select_related(*RELATIONS).filter(**lookup))


def same_row(found: Device, expected: Device) -> None:
    """Every field and every joined relation's fields, as the ORM read them."""
    assert type(found) is Device
    for field in Device._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    for relation in RELATIONS:
        mine, theirs = getattr(found, relation), getattr(expected, relation)
        if theirs is None:
            assert mine is None
            continue
        for field in type(theirs)._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(theirs, field.attname), field.name
    assert found._state.adding is False
    assert found._state.db == expected._state.db


def compilations():
    """Counts SQLCompiler.as_sql calls (the work the cache saves)."""
    return mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)


@pytest.fixture
def scattered(coordinator, donor_org, workshop_org, structure_org):
    """A device with a donor at the coordination, one without at a workshop, one given."""
    at_coordination = make_device(actor=coordinator, donor=donor_org)
    at_workshop = make_device(actor=coordinator, custodian=workshop_org)
    given = make_device(actor=coordinator, custodian=structure_org)
    return at_coordination, at_workshop, given


@pytest.mark.parametrize("user", ["coordinator", "workshop_staff", "structure_staff"])
def test_visible_device_reads_what_the_orm_reads_in_every_scope(
    request, user, scattered, fund_reader
):
    user = request.getfixturevalue(user)
    for device in scattered:
        expected = orm_device(user, pk=device.pk)
        for _ in range(2):  # compiled on the first call, cached on the second
            by_pk = visible_device(user, pk=device.pk)
            by_code = visible_device(user, code=device.label_code_id)
            if expected is None:
                assert by_pk is None and by_code is None
            else:
                same_row(by_pk, expected)
                same_row(by_code, expected)
    assert visible_device(fund_reader, pk=scattered[0].pk) is None


def test_a_cached_lookup_is_one_statement_and_no_compilation(
    coordinator, scattered, django_assert_num_queries
):
    device = scattered[0]
    visible_device(coordinator, pk=device.pk)  # compiled (if no other test did it first)
    with compilations() as compiled, django_assert_num_queries(1):
        found = visible_device(coordinator, pk=device.pk)
        # The relations came with the row.
        assert (found.category.code, found.donor.pk) == ("laptop", device.donor_id)
        assert found.custodian.pk == device.custodian_id
    assert compiled.call_count == 0


def test_an_unknown_key_reads_nothing(coordinator, scattered):
    assert visible_device(coordinator, pk=10**9) is None
    assert visible_device(coordinator, code="ZZZZZZZZZ") is None


def test_a_locked_read_sees_the_committed_row(coordinator, scattered):
    device = scattered[1]
    Device.objects.filter(pk=device.pk).update(status=Status.AT_WORKSHOP)
    for _ in range(2):
        assert visible_device(coordinator, pk=device.pk, lock=True).status == Status.AT_WORKSHOP


def test_a_call_of_another_type_goes_through_the_orm(coordinator, scattered):
    device = scattered[0]
    lookup = CompiledLookup(
        lambda pk: Device.objects.select_related(*RELATIONS).filter(pk=pk).order_by()[:1]
    )
    assert lookup.first(device.pk).pk == device.pk  # int: compiled and kept
    # A string is prepared by the ORM (int("…")), which the compiled SQL would not do.
    assert lookup.first(str(device.pk)).pk == device.pk
    with pytest.raises(ValueError):
        lookup.first("not a number")  # the ORM's own error, as without the cache


def test_a_shape_that_does_not_fit_is_never_cached(coordinator, scattered):
    device = scattered[0]
    # The compiled parameters are not the arguments (the builder adds its own): ORM each time.
    lookup = CompiledLookup(
        lambda pk: Device.objects.filter(pk=pk, status=Status.REGISTERED).order_by()[:1]
    )
    for _ in range(2):
        with compilations() as compiled:
            assert lookup.first(device.pk).pk == device.pk
        assert compiled.call_count >= 1
    # An empty queryset (none()) compiles to nothing: no statement, None.
    empty = CompiledLookup(lambda pk: Device.objects.none().filter(pk=pk)[:1])
    assert empty.first(device.pk) is None
    assert empty.first(device.pk) is None


def test_the_token_check_reads_the_user_and_scope_in_one_statement(
    workshop_staff, workshop_org, scattered, django_assert_num_queries
):
    client = token_client(workshop_staff)
    url = f"/api/devices/{scattered[1].pk}/"
    client.get(url)  # the lookups compiled
    with django_assert_num_queries(2):  # the token with its user and scope; the device
        assert client.get(url).json()["custodian"]["id"] == workshop_org.pk
    # A deactivated user or an unknown token is refused as before.
    workshop_staff.is_active = False
    workshop_staff.save()
    assert client.get("/api/devices/").status_code == 401
    Token.objects.filter(user=workshop_staff).delete()
    workshop_staff.is_active = True
    workshop_staff.save()
    assert client.get("/api/devices/").status_code == 401
    assert Organisation.objects.filter(pk=workshop_org.pk).exists()


def test_the_history_manager_class_is_built_once(coordinator, scattered):
    device = scattered[0]
    assert type(Device.history) is type(Device.history)
    assert type(device.history) is type(Device.history)
    assert device.history.instance == device
    assert device.history.count() == 1
    assert Device.history.model.__name__ == "HistoricalDevice"


@pytest.mark.parametrize("first_call", ["normal", "huge"])
def test_an_id_past_any_column_is_no_row_whatever_came_first(coordinator, scattered, first_call):
    """The ORM answers "no row" for an id no column can hold; the cached SQL would send it as a
    numeric literal (PostgreSQL: no index) or fail (SQLite: OverflowError). And a hostile first
    call does not stop the lookup from being cached for the next ones."""
    device = scattered[0]
    lookup = CompiledLookup(
        lambda pk: Device.objects.select_related(*RELATIONS).filter(pk=pk).order_by()[:1]
    )
    huge = 10**30
    calls = [device.pk, huge] if first_call == "normal" else [huge, device.pk]
    for pk in calls:
        found = lookup.first(pk)
        assert (found.pk if found else None) == (device.pk if pk == device.pk else None)
    with compilations() as compiled:
        assert lookup.first(device.pk).pk == device.pk
        assert lookup.first(2**63) is None
    assert compiled.call_count == 1  # the huge id's ORM query only


def test_ids_past_any_column_are_refused_as_before_through_the_api(
    coordinator, workshop_org, scattered
):
    client = token_client(coordinator)
    client.get(f"/api/devices/{scattered[0].pk}/")
    for huge in ("9223372036854775808", "99999999999999999999999"):
        assert client.get(f"/api/devices/{huge}/").status_code == 404
        moved = client.post(
            f"/api/devices/{huge}/transition/",
            {"action": "send_to_workshop", "target": workshop_org.pk},
            format="json",
        )
        assert moved.status_code == 404
        assert client.post(
            f"/api/devices/{scattered[0].pk}/transition/",
            {"action": "send_to_workshop", "target": int(huge)},
            format="json",
        ).json()["fields"]["target"]


# Inserts


def insert_compilations():
    from django.db.models.sql.compiler import SQLInsertCompiler

    return mock.patch.object(
        SQLInsertCompiler, "as_sql", autospec=True, side_effect=SQLInsertCompiler.as_sql
    )


def test_a_registration_inserts_without_compiling_once_warm(coordinator, donor_org):
    make_device(actor=coordinator, donor=donor_org)  # the INSERTs compiled, if not already
    with insert_compilations() as compiled:
        device = make_device(actor=coordinator, donor=donor_org, model_name="Latitude 5490")
    assert compiled.call_count == 0
    # What was written is what the instance holds, read back column by column.
    stored = Device.objects.get(pk=device.pk)
    for field in Device._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(device, field.attname), field.name
    [row] = device.history.all()
    assert row.history_id is not None
    assert (row.model_name, row.history_change_reason, row.history_user) == (
        "Latitude 5490",
        "register",
        coordinator,
    )
    assert row.created_at == stored.created_at


def test_an_expression_or_a_database_default_goes_through_django(coordinator):
    from django.db.models import Value
    from django.db.models.functions import Upper

    from inventory.models import IdempotencyRecord

    IdempotencyRecord.objects.create(user=coordinator, key="a", endpoint="/x", request_hash="h")
    with insert_compilations() as compiled:
        plain = IdempotencyRecord.objects.create(
            user=coordinator, key="b", endpoint="/x", request_hash="h", response_body={"a": [1]}
        )
        assert compiled.call_count == 0
        computed = IdempotencyRecord.objects.create(
            user=coordinator, key="c", endpoint="/x", request_hash=Upper(Value("abc"))
        )
        assert compiled.call_count == 1
    assert IdempotencyRecord.objects.get(pk=computed.pk).request_hash == "ABC"
    assert IdempotencyRecord.objects.get(pk=plain.pk).response_body == {"a": [1]}
    assert plain.created_at is not None and plain.pk > 0


# Updates and prepared statements -----------------------------------------------------------


def update_compilations():
    from django.db.models.sql.compiler import SQLUpdateCompiler

    return mock.patch.object(
        SQLUpdateCompiler, "as_sql", autospec=True, side_effect=SQLUpdateCompiler.as_sql
    )


def test_a_move_updates_without_compiling_once_warm(coordinator, workshop_org):
    first, second = make_device(actor=coordinator), make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=first.pk, action="send_to_workshop", target=workshop_org
    )
    with update_compilations() as compiled:
        result = device_transition(
            actor=coordinator, device_id=second.pk, action="send_to_workshop", target=workshop_org
        )
    assert compiled.call_count == 0
    stored = Device.objects.get(pk=second.pk)
    for field in Device._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(result.device, field.attname), field.name
    assert (stored.status, stored.custodian_id) == (Status.SENT_TO_WORKSHOP, workshop_org.pk)
    # Only the changed columns were written: the first device, moved earlier, kept its own.
    assert Device.objects.get(pk=first.pk).updated_at < stored.updated_at


def test_an_update_django_must_answer_goes_through_django(coordinator):
    from django.db.models import F

    device = make_device(actor=coordinator, ram_gb=4)
    device.save(update_fields=["notes"])  # the plain shape, compiled once
    with update_compilations() as compiled:
        device.notes = "plain"
        device.save(update_fields=["notes"])
        assert compiled.call_count == 0
        device.ram_gb = F("ram_gb") + 4  # an expression: Django's compiler, RETURNING
        device.save(update_fields=["ram_gb"])
        assert compiled.call_count == 1
    assert device.ram_gb == 8
    assert Device.objects.values_list("notes", "ram_gb").get(pk=device.pk) == ("plain", 8)


def test_an_update_of_a_deleted_row_fails_as_django_says(coordinator):
    device = make_device(actor=coordinator)
    device.save(update_fields=["notes"])
    stale = Device.objects.get(pk=device.pk)
    Device.objects.filter(pk=device.pk).delete()
    with pytest.raises(Device.NotUpdated), transaction.atomic():
        stale.save(update_fields=["notes"])
    stale.notes = "again"
    stale.save()  # no update_fields: nothing updated, so Django inserts the row again
    assert Device.objects.get(pk=device.pk).notes == "again"


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE from_sql = false")
        return {row[0] for row in cursor.fetchall()}


def move(actor, device, target):
    return device_transition(
        actor=actor, device_id=device.pk, action="send_to_workshop", target=target
    )


@postgresql_only
def test_a_moves_statements_are_prepared_once_per_connection(
    coordinator, workshop_org, django_assert_num_queries
):
    devices = [make_device(actor=coordinator) for _ in range(3)]
    move(coordinator, devices[0], workshop_org)
    prepared = prepared_statements()
    for table in ("inventory_device", "inventory_historicaldevice", "inventory_devicecount"):
        assert any(table in statement for statement in prepared), table
    assert any(s.startswith("UPDATE") and "inventory_device" in s for s in prepared)
    # The next move sends the same statements by name: nothing new is prepared, and each is
    # still one statement in Django's log (the counts of test_write_statements hold).
    with django_assert_num_queries(6) as captured:  # savepoint, the 4 statements, release
        move(coordinator, devices[1], workshop_org)
    assert prepared_statements() == prepared
    # The log shows each statement with its values, as client-side binding sends them.
    logged = [query["sql"] for query in captured.captured_queries]
    [update] = [sql for sql in logged if sql.startswith("UPDATE")]
    assert update.endswith(f'WHERE "inventory_device"."id" = {devices[1].pk}'), update
    assert not any("$1" in sql for sql in logged)
    assert Device.objects.get(pk=devices[1].pk).custodian_id == workshop_org.pk


@postgresql_only
def test_without_a_threshold_nothing_is_prepared(coordinator, workshop_org, monkeypatch):
    device = make_device(actor=coordinator)
    before = prepared_statements()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    move(coordinator, device, workshop_org)
    assert prepared_statements() == before
    assert not any(s.startswith("UPDATE") for s in before)
    assert Device.objects.get(pk=device.pk).custodian_id == workshop_org.pk


@postgresql_only
def test_statements_are_prepared_again_after_a_rollback(coordinator, workshop_org):
    devices = [make_device(actor=coordinator) for _ in range(2)]
    move(coordinator, devices[0], workshop_org)
    assert prepared_statements()
    # A savepoint rolled back: psycopg deallocates what it prepared on the connection, so that
    # its cache and the server's never disagree…
    with pytest.raises(RuntimeError), transaction.atomic():
        make_device(actor=coordinator)
        raise RuntimeError
    assert prepared_statements() == set()
    # … and the next write prepares its statements again.
    assert move(coordinator, devices[1], workshop_org).device.custodian_id == workshop_org.pk
    assert any(s.startswith("UPDATE") for s in prepared_statements())


@pytest.mark.slow
def test_settings_prepare_on_postgresql_unless_switched_off():
    from tests.test_settings import manage

    show = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
    )
    url = "postgres://user@db.invalid:5432/reemploi"
    on = manage("shell", "-c", show, DATABASE_URL=url)
    off = manage("shell", "-c", show, DATABASE_URL=url, REEMPLOI_PREPARED_STATEMENTS="0")
    sqlite = manage("shell", "-c", show)
    assert (on.returncode, off.returncode, sqlite.returncode) == (0, 0, 0), on.stderr
    # The last line: `shell` may first say how many objects it imported.
    assert int(on.stdout.split()[-1]) > 0
    assert (off.stdout.split()[-1], sqlite.stdout.split()[-1]) == ("None", "None")


def test_a_compiled_update_writes_a_null_as_a_parameter(coordinator, donor_org):
    device = make_device(actor=coordinator, donor=donor_org, ram_gb=4)
    device.ram_gb = 8
    device.save(update_fields=["ram_gb", "donor"])  # compiled with values
    with update_compilations() as compiled:
        device.ram_gb, device.donor = None, None
        device.save(update_fields=["ram_gb", "donor"])
    assert compiled.call_count == 0
    assert Device.objects.values_list("ram_gb", "donor").get(pk=device.pk) == (None, None)


# Rows ---------------------------------------------------------------------------------------


def test_holders_are_found_as_the_orm_finds_them_without_compiling_once_warm(coordinator):
    from inventory.identity import registered_holders, serial_key

    phone = make_device(
        actor=coordinator,
        category="smartphone",
        manufacturer="Samsung",
        serial_number="R58M1",
        imei1="490154203237518",
        imei2="356938035643809",
    )
    laptop = make_device(actor=coordinator, serial_number="PF2X9")
    # Compiled: the shapes asked below (two serials and one IMEI, one and one).
    registered_holders(serials=[("Dell", "W1"), ("Dell", "W2")], imeis=["000000000000000"])
    registered_holders(serials=[("Dell", "W1")], imeis=["000000000000000"])
    with compilations() as compiled:
        holders = registered_holders(
            serials=[serial_key("Dell", "PF2X9"), serial_key("Samsung", "R58M1")],
            imeis=["356938035643809"],
        )
        again = registered_holders(serials=[serial_key("Dell", "NONE")], imeis=["490154203237518"])
    assert compiled.call_count == 0
    assert holders == (
        {
            serial_key("Dell", "PF2X9"): laptop.label_code_id,
            serial_key("Samsung", "R58M1"): phone.label_code_id,
        },
        {"490154203237518": phone.label_code_id, "356938035643809": phone.label_code_id},
    )
    # The IMEI list is sent twice (imei1 IN … OR imei2 IN …): each time with this call's.
    assert again == (
        {},
        {"490154203237518": phone.label_code_id, "356938035643809": phone.label_code_id},
    )


def test_rows_that_do_not_fit_go_through_the_orm_each_time(coordinator):
    from inventory.compiled import CompiledRows

    devices = [make_device(actor=coordinator, serial_number=f"ROW{n}") for n in range(3)]
    serials = CompiledRows(
        lambda *asked: (
            Device.objects.filter(serial_number__in=asked).values_list("serial_number").order_by()
        ),
        most=2,
    )
    whole = CompiledRows(lambda *asked: Device.objects.filter(serial_number__in=asked))
    listed = CompiledRows(
        lambda asked: (
            Device.objects.filter(serial_number__in=asked).values_list("serial_number").order_by()
        )
    )
    assert sorted(serials.rows("ROW0", "ROW1")) == [("ROW0",), ("ROW1",)]
    with compilations() as compiled:
        assert serials.rows("ROW2", "ROWX") == [("ROW2",)]  # compiled: none
        # A repeated value in a compiled shape: the same SQL, the same rows as the ORM's.
        assert serials.rows("ROW1", "ROW1") == [("ROW1",)]
        assert compiled.call_count == 0
        assert serials.rows("ROW1", None) == [("ROW1",)]  # a None, which the ORM folds: its own
        assert compiled.call_count == 1
        assert sorted(serials.rows("ROW0", "ROW1", "ROW2")) == [("ROW0",), ("ROW1",), ("ROW2",)]
        assert compiled.call_count == 2  # over `most`: the ORM's too
        # Not a values_list: the ORM's, every time.
        assert whole.rows("ROW0") == [devices[0]] and whole.rows("ROW1") == [devices[1]]
        assert compiled.call_count == 4
        # A list is no argument to compile (unhashable): the ORM's, every time.
        assert sorted(listed.rows(["ROW0", "ROW1"])) == [("ROW0",), ("ROW1",)]
        assert listed.rows(["ROW2"]) == [("ROW2",)]
        assert compiled.call_count == 6
    # And the compiled shape still answers with its own arguments afterwards.
    assert serials.rows("ROW0", "ROW2") in ([("ROW0",), ("ROW2",)], [("ROW2",), ("ROW0",)])
