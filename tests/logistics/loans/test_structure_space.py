"""The structure's space, its home page: receipts to sign, deliveries on their way, loans to
return, the devices it holds with their one-tap reports, its needs; each block bounded, with
its empty state, in a number of queries that does not grow with what the structure holds."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import Device
from inventory.states import Status
from inventory.web import home_pages
from logistics.deliveries import services as deliveries
from logistics.handovers.services import hand_over_sign
from logistics.structure_space import views as space
from tests.builders import PNG_1PX, allocated, make_device, make_need
from tests.logistics.loans.conftest import bare_loan, move_dates

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def test_a_structure_gets_its_space_with_every_block_empty(login, structure_staff):
    page = login(structure_staff).get(HOME)
    assert page.status_code == 200
    assert "structure_space/home.html" in [t.name for t in page.templates]
    text = page.text
    for empty in (
        "Every receipt is signed.",
        "No delivery on its way.",
        "No loan in progress.",
        "Your structure holds no device from the network yet.",
        "No need open.",
    ):
        assert empty in text
    assert reverse("logistics:need_create") in text


def test_the_other_roles_keep_their_home(login, coordinator, workshop_staff, fund_reader):
    for user in (coordinator, workshop_staff):
        page = login(user).get(HOME)
        assert "inventory/home.html" in [t.name for t in page.templates]
    # The fund's home is its own dashboard, registered like the structure's space.
    page = login(fund_reader).get(HOME)
    assert "fund_reports/dashboard.html" in [t.name for t in page.templates]


def test_without_a_registered_space_a_structure_gets_the_generic_home(
    login, structure_staff, lent_device
):
    home_pages.unregister("structure")
    try:
        page = login(structure_staff).get(HOME)
    finally:
        home_pages.register("structure", space.structure_space)
    assert "inventory/home.html" in [t.name for t in page.templates]
    assert [d.pk for d in page.context["waiting"][0]["devices"]] == [lent_device.pk]


def test_the_space_shows_what_waits_for_the_structure(
    login, coordinator, structure_staff, kit, gift
):
    move_dates(kit, due_in_days=-4)
    need = make_need(actor=structure_staff)
    page = login(structure_staff).get(HOME)
    text = page.text
    # The receipts of the two hand-overs (the kit's, the gift's) are not signed yet.
    assert len(page.context["receipts"]) == 2
    sign = reverse("logistics:hand_over_detail", args=[kit.hand_over_id])
    if sign:
        assert f'href="{sign}"' in text
    # The loan to return, flagged overdue in words.
    assert [loan.pk for loan in page.context["loans"]] == [kit.pk]
    assert kit.reference in text and "Overdue by 4 days" in text
    assert "3 of 3 devices still out" in text
    # The devices held: the kit's three, soonest due first, then the gift.
    held = [device.pk for device in page.context["devices"]]
    assert held[-1] == gift.pk and len(held) == 4
    assert "(overdue)" in text and "Given to your structure" in text
    # One-tap reports: a return or a breakage for a lent device, an end of life for a gift.
    assert text.count('name="kind" value="return"') == 3
    assert text.count('name="kind" value="end_of_life"') == 1
    assert text.count('name="kind" value="broken"') == 4
    assert text.count('name="kind" value="lost"') == 4
    assert need.reference in text


def test_a_signed_receipt_leaves_the_block(login, structure_staff, kit):
    hand_over_sign(
        actor=structure_staff,
        hand_over_id=kit.hand_over_id,
        signer_name="Awa Diallo",
        image=PNG_1PX,
    )
    assert login(structure_staff).get(HOME).context["receipts"] == []


def test_a_reported_device_shows_its_report_instead_of_the_buttons(login, structure_staff, kit):
    device = kit.items.order_by("id").first().device
    client = login(structure_staff)
    response = client.post(
        reverse("logistics:report_create"),
        {"device": device.pk, "kind": "broken", "next": HOME},
    )
    assert response["Location"] == HOME
    page = client.get(HOME)
    [reported] = [d for d in page.context["devices"] if d.pk == device.pk]
    assert reported.report_kind == "broken"
    assert "Reported to the coordination on" in page.text
    assert page.text.count('name="kind" value="return"') == 2


def test_a_delivery_on_its_way_leads_to_its_receipt(
    login, coordinator, structure_staff, structure_org, workshop_staff, workshop_org
):
    allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )
    delivery = deliveries.delivery_create(actor=workshop_staff, structure=structure_org)
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    page = login(structure_staff).get(HOME)
    [shown] = page.context["deliveries"]
    assert shown.pk == delivery.pk and shown.receivable
    assert delivery.reference in page.text and "2 devices" in page.text
    detail = reverse("logistics:delivery_detail", args=[delivery.pk])
    if detail:
        assert "Confirm receipt" in page.text and f'href="{detail}"' in page.text


def test_each_block_shows_ten_rows_and_links_to_the_rest(
    login, coordinator, structure_staff, structure_org
):
    for day in range(12):
        bare_loan(actor=coordinator, structure=structure_org, due_in_days=day + 1)
    page = login(structure_staff).get(HOME)
    assert len(page.context["loans"]) == space.BLOCK_ROWS
    assert page.context["more_loans"]
    assert page.context["loans_url"] in page.text
    # Soonest due first.
    dues = [loan.due_on for loan in page.context["loans"]]
    assert dues == sorted(dues)


def _hold(structure, devices) -> None:
    """Devices put straight into the structure's hands (a test's shortcut, no lifecycle)."""
    Device.objects.filter(pk__in=[d.pk for d in devices]).update(
        custodian=structure, status=Status.ON_LOAN
    )


def test_the_space_costs_the_same_queries_for_1_and_12_of_everything(
    login, coordinator, structure_staff, structure_org, settings
):
    settings.REEMPLOI_NEEDS_OPEN_CAP = 20

    def queries() -> int:
        client = login(structure_staff)
        client.get(HOME)
        with CaptureQueriesContext(connection) as captured:
            page = client.get(HOME)
        assert page.status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for _ in range(count):
            loan = bare_loan(actor=coordinator, structure=structure_org, due_in_days=-1)
            _hold(structure_org, [item.device for item in loan.items.all()])
            make_device(actor=coordinator)
        for _ in range(count):
            make_need(actor=structure_staff, submit=False)

    add(1)
    few = queries()
    add(11)
    assert queries() == few


def test_a_gift_only_structure_sees_no_due_date(login, structure_staff, gift):
    page = login(structure_staff).get(HOME)
    [device] = page.context["devices"]
    assert device.open_loan_id is None and not device.overdue
    assert "Given to your structure" in page.text


def test_the_space_is_only_for_structures(rf, coordinator):
    from django.core.exceptions import PermissionDenied

    request = rf.get(HOME)
    request.user = coordinator
    with pytest.raises(PermissionDenied):
        space.structure_space(request)


def test_a_loan_due_later_is_not_flagged(login, structure_staff, kit):
    page = login(structure_staff).get(HOME)
    assert "Overdue by" not in page.text and "(overdue)" not in page.text
    assert kit.due_on > timezone.localdate() + datetime.timedelta(days=7)


def test_a_read_only_member_sees_the_space_without_buttons(login, structure_org, kit):
    from inventory.models import Role
    from tests.builders import make_user

    reader = make_user(organisation=structure_org, role=Role.READER)
    page = login(reader).get(HOME)
    assert len(page.context["devices"]) == 3
    assert reverse("logistics:report_create") not in page.text
    assert reverse("logistics:need_create") not in page.text
