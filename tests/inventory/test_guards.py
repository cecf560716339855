"""Guards cannot silently vanish: the app's ready() registers each of them, explicitly."""

from inventory import guards
from inventory.reconditioning import ready
from inventory.states import Status


def test_the_ready_guards_are_registered_from_the_apps_ready():
    assert guards.registered("mark_ready") == (
        ready.no_lock_blocked,
        ready.locks_checked,
        ready.checklist_complete,
        ready.data_erased,
        ready.grade_set,
    )
    assert guards.registered(Status.READY) == (ready.phone_has_imei,)


def test_the_lifecycle_guards_are_registered_from_the_apps_ready():
    assert guards.registered("return_to_donor") == (guards.device_has_donor,)


def test_every_guard_declared_is_in_the_registry():
    declared = {
        fn
        for table in (guards.LIFECYCLE_GUARDS, ready.READY_GUARDS)
        for functions in table.values()
        for fn in functions
    }
    held = {
        fn
        for key in {*guards.LIFECYCLE_GUARDS, *ready.READY_GUARDS}
        for fn in guards.registered(key)
    }
    assert declared == held
    assert len(declared) == 7


def test_registering_again_adds_nothing():
    ready.register()
    guards.register_lifecycle_guards()
    assert len(guards.registered("mark_ready")) == 5
    assert len(guards.registered("return_to_donor")) == 1
