"""Fixtures shared by every test folder: one organisation of each kind and a user in each,
devices and donations in known places, and a clean cache for the tests that reach the database.

Plain helpers are in tests/builders.py (and tests/concurrency.py for the thread races).
"""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inventory.intake.services import donation_device_register
from inventory.models import Category, Commune, LockKind, Role
from inventory.reconditioning import services as bench
from inventory.services import device_transition
from inventory.states import OrgKind
from logistics.shipments.services import shipment_receive
from tests.builders import (
    erase,
    hand_over,
    make_device,
    make_donation,
    make_organisation,
    make_user,
    reconditioned,
    record_reconditioning,
    shipped,
    to_bench,
    valid_imei,
    walk,
)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by mark
def pytest_collection_modifyitems(items):
    # The slow kinds are marked by what the test uses, so that a new one is marked too: the
    # live server (a real browser), real transactions (threads racing), generated examples.
    try:
        from hypothesis import is_hypothesis_test
    except ImportError:  # a development dependency
        is_hypothesis_test = bool
    for item in items:
        database = item.get_closest_marker("django_db")
        if "live_server" in getattr(item, "fixturenames", ()):
            kind = "browser"
        elif database is not None and database.kwargs.get("transaction"):
            kind = "concurrency"
        elif is_hypothesis_test(getattr(item, "obj", None)):
            kind = "fuzz"
        else:
            continue
        item.add_marker(kind)
        item.add_marker("slow")


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2's deliberate slowness would dominate the suite's time; tests don't need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory):
    # Stored documents (certificates, hand-over receipts and signatures) go to a directory of
    # this test session, never to the data directory of the machine that runs the tests.
    settings.MEDIA_ROOT = str(tmp_path_factory.getbasetemp() / "media")


@pytest.fixture(autouse=True)
def clean_cache(request):
    # The forms' replay keys live in the database cache, which transactional tests do not
    # roll back: one test's entries must not reach the next.
    # Tests without the database have no cache to clear, and must not be given a database.
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db:
        yield
        return
    request.getfixturevalue("db")
    cache.clear()
    yield
    cache.clear()


# Personas and their organisations


@pytest.fixture
def coordinator_org(db):
    return make_organisation(kind=OrgKind.COORDINATOR, name="Coordination 92")


@pytest.fixture
def workshop_org(db):
    return make_organisation(kind=OrgKind.WORKSHOP, name="ECODAIR")


@pytest.fixture
def other_workshop_org(db):
    return make_organisation(kind=OrgKind.WORKSHOP, name="Atelier Nord")


@pytest.fixture
def structure_org(db):
    return make_organisation(kind=OrgKind.STRUCTURE, name="Centre social Antony")


@pytest.fixture
def fund_org(db):
    return make_organisation(kind=OrgKind.FUND, name="Fonds local")


@pytest.fixture
def donor_org(db):
    return make_organisation(kind=OrgKind.DONOR, name="Entreprise Donatrice")


@pytest.fixture
def coordinator(coordinator_org):
    return make_user(organisation=coordinator_org, role=Role.MANAGER, username="coord")


@pytest.fixture
def workshop_staff(workshop_org):
    return make_user(organisation=workshop_org, username="bench")


@pytest.fixture
def structure_staff(structure_org):
    return make_user(organisation=structure_org, username="structure")


@pytest.fixture
def fund_reader(fund_org):
    return make_user(organisation=fund_org, role=Role.READER, username="fund")


@pytest.fixture
def donor_user(donor_org):
    return make_user(organisation=donor_org, username="donor")


@pytest.fixture
def login():
    """A client signed in as the given user."""

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return client_for


# Devices in known places


@pytest.fixture
def device(coordinator, donor_org):
    return make_device(actor=coordinator, donor=donor_org)


@pytest.fixture
def devices(coordinator, donor_org):
    return [make_device(actor=coordinator, donor=donor_org) for _ in range(3)]


@pytest.fixture
def workshop_device(coordinator, workshop_org):
    """A device the coordinator sent to ECODAIR: ECODAIR sees it, the others do not."""
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    return device


@pytest.fixture
def at_workshop(coordinator, workshop_org):
    """A device received at ECODAIR, so in ECODAIR's custody."""
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=device.pk, action="receive_at_workshop", target=workshop_org
    )
    return device


@pytest.fixture
def at_other_workshop(coordinator, other_workshop_org):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator,
        device_id=device.pk,
        action="receive_at_workshop",
        target=other_workshop_org,
    )
    return device


@pytest.fixture
def queue_devices(coordinator, workshop_org, workshop_staff, other_workshop_org):
    """ECODAIR's queue: two devices on their way, one received, two in reconditioning (one
    complete); and two devices that are not in it, one made ready, one at another workshop."""
    shipment, devices = shipped(coordinator, workshop_org, 5)
    sent_a, sent_b, received, partial, complete = devices
    for device in (received, partial, complete):
        shipment_receive(actor=workshop_staff, shipment=shipment, raw=device.label_code_id)
    bench.lock_checks_record(
        actor=workshop_staff,
        device_id=partial.pk,
        outcomes={kind: "not_applicable" for kind in LockKind.values},
    )
    record_reconditioning(actor=workshop_staff, device=complete)
    ready_shipment, [ready] = shipped(coordinator, workshop_org, 1)
    shipment_receive(actor=workshop_staff, shipment=ready_shipment, raw=ready.label_code_id)
    walk(actor=workshop_staff, device=ready, actions=("mark_ready",))
    shipped(coordinator, other_workshop_org, 1)
    return {
        "shipment": shipment,
        "sent": [sent_a, sent_b],
        "received": received,
        "partial": partial,
        "complete": complete,
    }


# Donations and their documents


@pytest.fixture
def donation(coordinator, donor_org):
    return make_donation(actor=coordinator, donor=donor_org, expected_count=12)


@pytest.fixture
def other_workshop_staff(other_workshop_org):
    return make_user(organisation=other_workshop_org, username="nord")


@pytest.fixture
def collected(workshop_staff, donor_org) -> dict:
    """A donation ECODAIR collected from a company and recorded itself, with one laptop it
    registered into its own custody."""
    donation = make_donation(actor=workshop_staff, donor=donor_org, expected_count=2)
    laptop = donation_device_register(
        actor=workshop_staff,
        donation=donation,
        category=Category.objects.get(code="laptop"),
        manufacturer="Dell",
        serial_number="COLLECTED-1",
    )
    return {"donation": donation, "laptop": laptop}


@pytest.fixture
def certified(coordinator, workshop_staff, workshop_org, donation) -> dict:
    """A donation with one of each case the erasure certificate must tell apart."""
    devices = {}
    # A laptop whose SSD was sanitized, with the tool's report attached.
    laptop = make_device(actor=coordinator, donation=donation, serial_number="LAPTOP-ERASED")
    to_bench(coordinator, laptop, workshop_org)
    ssd = bench.medium_add(
        actor=workshop_staff,
        device_id=laptop.pk,
        kind="ssd",
        interface="nvme",
        manufacturer="Samsung",
        model_name="PM981",
        serial_number="S4EWNX0R123456",
        capacity_gb=512,
    )
    report = SimpleUploadedFile("report.pdf", b"%PDF-1.4 Blancco report", "application/pdf")
    erase(workshop_staff, ssd, report=report)
    devices["laptop"] = laptop
    # A desktop whose disk failed its overwrite, then was shredded.
    desktop = make_device(
        actor=coordinator, category="desktop", donation=donation, serial_number="DESKTOP-SHRED"
    )
    to_bench(coordinator, desktop, workshop_org)
    hdd = bench.medium_add(
        actor=workshop_staff,
        device_id=desktop.pk,
        kind="hdd",
        interface="sata",
        manufacturer="Western Digital",
        model_name="WD5000AAKX",
        serial_number="WD-WCC4N7XY1234",
        capacity_gb=500,
    )
    erase(workshop_staff, hdd, method="overwrite", level="clear", result="failed", tool="nwipe")
    erase(
        workshop_staff,
        hdd,
        method="shred",
        level="destruct",
        verification="none",
        tool="",
        tool_version="",
    )
    devices["desktop"] = desktop
    # A phone reset at the bench.
    phone = make_device(
        actor=coordinator,
        category="smartphone",
        manufacturer="Samsung",
        model_name="Galaxy A52s",
        donation=donation,
    )
    to_bench(coordinator, phone, workshop_org)
    bench.factory_reset_record(actor=workshop_staff, device_id=phone.pk)
    devices["phone"] = phone
    # A laptop at the bench whose disk is recorded but not erased yet.
    waiting = make_device(actor=coordinator, donation=donation, serial_number="LAPTOP-WAITING")
    to_bench(coordinator, waiting, workshop_org)
    bench.medium_add(
        actor=workshop_staff,
        device_id=waiting.pk,
        kind="hdd",
        interface="sata",
        serial_number="NOT-ERASED-DISK",
    )
    devices["waiting"] = waiting
    # A laptop still at intake: no medium recorded at all.
    devices["intake"] = make_device(
        actor=coordinator, donation=donation, serial_number="LAPTOP-INTAKE"
    )
    # A screen holds no data: not on the certificate at all.
    devices["screen"] = make_device(
        actor=coordinator,
        category="screen",
        manufacturer="Iiyama",
        donation=donation,
        serial_number="SCREEN-1",
    )
    return devices


@pytest.fixture
def structures(db):
    """Two structures in two territories."""
    antony = make_organisation(kind=OrgKind.STRUCTURE, name="Maison des Solidarités Antony")
    boulogne = make_organisation(
        kind=OrgKind.STRUCTURE,
        name="Centre social Boulogne Point du Jour",
        commune=Commune.objects.get(insee_code="92012"),
    )
    return antony, boulogne


@pytest.fixture
def summarised(coordinator, workshop_org, donation, structures):
    """A donation whose devices went every way a donor summary counts."""
    antony, boulogne = structures
    given = make_device(actor=coordinator, donation=donation)
    reconditioned(coordinator, given, workshop_org)
    hand_over(coordinator, given, "hand_over_gift", antony)
    lent = make_device(
        actor=coordinator, category="smartphone", donation=donation, imei1=valid_imei(901)
    )
    reconditioned(coordinator, lent, workshop_org)
    hand_over(coordinator, lent, "lend", boulogne)
    back = make_device(actor=coordinator, donation=donation)
    reconditioned(coordinator, back, workshop_org)
    hand_over(coordinator, back, "lend", antony)
    device_transition(actor=coordinator, device_id=back.pk, action="return_loan")
    ready = make_device(actor=coordinator, donation=donation)
    reconditioned(coordinator, ready, workshop_org)
    recycled = make_device(actor=coordinator, donation=donation)
    device_transition(actor=coordinator, device_id=recycled.pk, action="recycle")
    returned = make_device(actor=coordinator, category="smartphone", donation=donation)
    device_transition(actor=coordinator, device_id=returned.pk, action="return_to_donor")
    make_device(actor=coordinator, category="screen", donation=donation)
    return donation


# Devices the screens of several capabilities use.
@pytest.fixture
def other_org_device(coordinator, other_workshop_org):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator,
        device_id=device.pk,
        action="send_to_workshop",
        target=other_workshop_org,
    )
    return device


@pytest.fixture
def lent_device(workshop_device, coordinator, structure_org):
    """A device reconditioned, reserved and lent to the structure persona's organisation."""
    walk(
        actor=coordinator,
        device=workshop_device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
    )
    device_transition(
        actor=coordinator,
        device_id=workshop_device.pk,
        action="lend",
        target=structure_org,
        workflow=True,
    )
    return workshop_device
