"""The device page: details, the timeline, and the moves the user may make from it."""

from html.parser import HTMLParser

from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import capfirst

from inventory.codes import group_label_code
from inventory.models import Device, ErasureRecord, LockCheck, Role
from inventory.models import TestResult as ChecklistResult
from inventory.reconditioning.ready import missing_before_ready
from inventory.services import device_transition
from inventory.states import MOVES, Status
from inventory.timeline import BENCH_TITLES, DONE_LABELS, device_timeline
from tests.builders import (
    make_device,
    make_user,
    record_reconditioning,
    reload,
    valid_imei,
    walk,
)


def page(device) -> str:
    return reverse("inventory:device_detail", args=[device.pk])


def move_url(device) -> str:
    return reverse("inventory:device_transition", args=[device.pk])


def offered(response) -> list[str]:
    return [choice["move"].action for choice in response.context["moves"]]


def message_levels(response) -> list[str]:
    return [message.level_tag for message in get_messages(response.wsgi_request)]


def test_device_page_shows_identity_and_specs(login, coordinator, donor_org):
    phone = make_device(
        actor=coordinator,
        category="smartphone",
        manufacturer="Samsung",
        model_name="Galaxy A52",
        imei1=valid_imei(11),
        ram_gb=6,
        storage_gb=128,
        donor=donor_org,
    )
    response = login(coordinator).get(page(phone))
    assert response.status_code == 200
    for text in (
        group_label_code(phone.label_code_id),
        "Samsung",
        "Galaxy A52",
        phone.serial_number,
        phone.imei1,
        "Entreprise Donatrice",
        "Coordination 92",
        str(Status.REGISTERED.label),
    ):
        assert escape(text) in response.text, text


def test_each_persona_opens_the_devices_in_its_custody(
    login, coordinator, workshop_staff, structure_staff, workshop_device, lent_device
):
    assert login(coordinator).get(page(workshop_device)).status_code == 200
    assert login(structure_staff).get(page(lent_device)).status_code == 200
    # The lent device left the workshop's custody: it is no longer the workshop's to see.
    assert login(workshop_staff).get(page(lent_device)).status_code == 404


def test_another_organisations_device_is_not_found(
    login, workshop_staff, structure_staff, fund_reader, other_org_device, device
):
    assert login(workshop_staff).get(page(other_org_device)).status_code == 404
    assert login(structure_staff).get(page(device)).status_code == 404
    assert login(fund_reader).get(page(device)).status_code == 404


def test_moving_another_organisations_device_is_not_found_and_changes_nothing(
    login, workshop_staff, other_org_device
):
    response = login(workshop_staff).post(
        move_url(other_org_device), {"action": "receive_at_workshop"}
    )
    assert response.status_code == 404
    assert reload(other_org_device).status == Status.SENT_TO_WORKSHOP
    assert other_org_device.history.count() == 2


def test_coordinator_is_offered_the_moves_of_a_registered_device(
    login, coordinator, device, workshop_org
):
    response = login(coordinator).get(page(device))
    assert offered(response) == [
        "send_to_workshop",
        "receive_at_workshop",
        "recycle",
        "return_to_donor",
        "declare_lost",
    ]
    send = response.context["moves"][0]
    assert [org.pk for org in send["targets"]] == [workshop_org.pk]
    assert 'id="target-send_to_workshop"' in response.text
    assert 'for="target-send_to_workshop"' in response.text


def test_workshop_receives_into_its_own_custody_without_choosing(
    login, workshop_staff, workshop_device
):
    response = login(workshop_staff).get(page(workshop_device))
    receive = next(
        c for c in response.context["moves"] if c["move"].action == "receive_at_workshop"
    )
    assert receive["targets"] is None


def test_posting_a_move_changes_the_status_and_records_who_did_it(
    login, workshop_staff, workshop_device, workshop_org
):
    client = login(workshop_staff)
    response = client.post(
        move_url(workshop_device), {"action": "receive_at_workshop", "note": "Box intact"}
    )
    assert response.status_code == 302
    assert response["Location"] == page(workshop_device)
    assert message_levels(response) == ["success"]
    device = reload(workshop_device)
    assert device.status == Status.AT_WORKSHOP
    assert device.custodian == workshop_org
    latest = device.history.latest("history_id")
    assert latest.history_user == workshop_staff
    assert latest.history_change_reason == "receive_at_workshop"
    assert latest.history_note == "Box intact"


def test_posting_the_same_move_twice_says_already_done_and_writes_no_second_row(
    login, workshop_staff, workshop_device
):
    client = login(workshop_staff)
    client.post(move_url(workshop_device), {"action": "receive_at_workshop"}, follow=True)
    rows = workshop_device.history.count()
    response = client.post(move_url(workshop_device), {"action": "receive_at_workshop"})
    assert response.status_code == 302
    assert message_levels(response) == ["info"]
    assert workshop_device.history.count() == rows
    assert reload(workshop_device).status == Status.AT_WORKSHOP


def test_a_move_that_needs_an_organisation_refuses_without_one(login, coordinator, device):
    response = login(coordinator).post(move_url(device), {"action": "send_to_workshop"})
    assert response.status_code == 302
    assert message_levels(response) == ["error"]
    assert reload(device).status == Status.REGISTERED
    assert device.history.count() == 1


def test_coordinator_sends_a_device_to_the_chosen_workshop(
    login, coordinator, device, workshop_org
):
    login(coordinator).post(
        move_url(device), {"action": "send_to_workshop", "target": workshop_org.pk}
    )
    device = reload(device)
    assert (device.status, device.custodian) == (Status.SENT_TO_WORKSHOP, workshop_org)


def test_an_illegal_move_is_refused_with_the_services_message(login, coordinator, device):
    response = login(coordinator).post(move_url(device), {"action": "mark_ready"}, follow=True)
    assert reload(device).status == Status.REGISTERED
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert escape(str(MOVES["mark_ready"].label)) in escape(str(message))


def test_a_move_that_hands_the_device_on_leads_back_to_the_list(
    login, workshop_staff, workshop_device, coordinator, donor_org
):
    device_transition(
        actor=workshop_staff, device_id=workshop_device.pk, action="receive_at_workshop"
    )
    workshop_device.donor = donor_org
    workshop_device.save(update_fields=["donor"])
    response = login(workshop_staff).post(
        move_url(workshop_device), {"action": "return_to_donor", "confirm": "1"}
    )
    assert response["Location"] == reverse("inventory:device_list")
    assert reload(workshop_device).custodian == donor_org


def test_a_reader_gets_no_move_button_and_a_forged_post_changes_nothing(
    login, coordinator_org, device
):
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    client = login(reader)
    response = client.get(page(device))
    assert response.status_code == 200
    assert response.context["moves"] == []
    assert move_url(device) not in response.text
    rows = device.history.count()
    response = client.post(move_url(device), {"action": "declare_lost", "confirm": "1"})
    assert response.status_code == 403
    assert reload(device).status == Status.REGISTERED
    assert device.history.count() == rows


def test_structure_staff_may_only_declare_a_loss(login, structure_staff, lent_device):
    response = login(structure_staff).get(page(lent_device))
    assert offered(response) == ["declare_lost"]


def test_timeline_says_who_did_what_and_why_newest_first(
    login, coordinator, workshop_staff, device, workshop_org
):
    client = login(coordinator)
    client.post(
        move_url(device),
        {"action": "send_to_workshop", "target": workshop_org.pk, "note": "Batch of 12 laptops"},
    )
    response = client.get(page(device))
    [sent, registered] = response.context["timeline"]
    assert sent.what == str(DONE_LABELS["send_to_workshop"])
    assert sent.who == "coord"
    assert sent.organisation == "Coordination 92"
    assert sent.note == "Batch of 12 laptops"
    changes = {change.label: (change.old, change.new) for change in sent.changes}
    status, custody = (
        capfirst(Device._meta.get_field(n).verbose_name) for n in ("status", "custodian")
    )
    assert changes[status] == (str(Status.REGISTERED.label), str(Status.SENT_TO_WORKSHOP.label))
    assert changes[custody] == ("Coordination 92", "ECODAIR")
    assert registered.is_creation
    for text in ("Batch of 12 laptops", "coord", "ECODAIR", str(DONE_LABELS["send_to_workshop"])):
        assert escape(text) in response.text


def test_timeline_reads_history_in_a_fixed_number_of_queries(coordinator, workshop_org):
    short = make_device(actor=coordinator)
    long = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=long.pk, action="send_to_workshop", target=workshop_org
    )
    walk(
        actor=coordinator,
        device=long,
        actions=(
            "receive_at_workshop",
            "start_reconditioning",
            "mark_ready",
            "reserve",
            "release_reservation",
        ),
    )
    short, long = (Device.objects.get(pk=device.pk) for device in (short, long))  # none cached
    with CaptureQueriesContext(connection) as for_short:
        assert len(device_timeline(short)) == 1
    with CaptureQueriesContext(connection) as for_long:
        entries = device_timeline(long)
    moves = [e for e in entries if e.action in MOVES or e.action == "register"]
    assert len(moves) == 7
    # The bench records read as entries too: locks, storage, erasure, tests, grade.
    titles = {e.what for e in entries} - {e.what for e in moves}
    assert {str(BENCH_TITLES[m]) for m in (LockCheck, ErasureRecord, ChecklistResult)} <= titles
    # Device rows: 3 queries; bench records: one per kind of record and one for the checklist,
    # and for a device never reconditioned only its cycles' and media's rows.
    assert len(for_long) == 3 + 7
    assert len(for_short) == 3 + 3


def test_an_exit_needs_its_confirmation_box_ticked(login, coordinator, device):
    client = login(coordinator)
    response = client.post(move_url(device), {"action": "declare_lost"})
    assert response.status_code == 302
    assert reload(device).status == Status.REGISTERED
    assert device.history.count() == 1
    page_text = client.get(page(device)).text
    assert 'name="confirm"' in page_text
    client.post(move_url(device), {"action": "declare_lost", "confirm": "1"})
    assert reload(device).status == Status.LOST


class _Page(HTMLParser):
    """The selects (name and options), buttons and exit confirmations of a page."""

    def __init__(self):
        super().__init__()
        self.selects: list[tuple[str, tuple[str, ...]]] = []
        self.buttons: dict[str, str] = {}
        self.confirms = 0
        self.exit_details = 0
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = (attrs.get("name", ""), [])
        elif tag == "option" and self._select is not None:
            self._select[1].append(attrs.get("value", ""))
        elif tag == "button" and attrs.get("name") == "action":
            self.buttons[attrs["value"]] = attrs.get("class", "")
        elif tag == "input" and attrs.get("name") == "confirm":
            self.confirms += 1
        elif tag == "details" and "move-exit" in attrs.get("class", ""):
            self.exit_details += 1

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            self.selects.append((self._select[0], tuple(self._select[1])))
            self._select = None


def parsed(response) -> _Page:
    result = _Page()
    result.feed(response.content.decode())
    return result


def is_primary(css_class: str) -> bool:
    return "button" in css_class.split() and "button--secondary" not in css_class.split()


def test_the_primary_button_is_the_devices_next_step(login, coordinator, device, workshop_org):
    html = parsed(login(coordinator).get(page(device)))
    # Registered: sending it to a workshop comes next; receiving it there is offered, second.
    assert [action for action, css in html.buttons.items() if is_primary(css)] == [
        "send_to_workshop"
    ]
    assert "receive_at_workshop" in html.buttons


def test_moves_to_the_same_kind_of_organisation_share_one_select(
    login, coordinator, device, workshop_device, structure_org
):
    client = login(coordinator)
    html = parsed(client.get(page(device)))
    # Send and receive both name a workshop: one list of workshops, never two identical ones.
    assert len(html.selects) == len(set(html.selects))
    assert [name for name, _options in html.selects].count("target") == 1
    walk(
        actor=coordinator,
        device=workshop_device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
    )
    html = parsed(client.get(page(workshop_device)))
    # A reserved device is given or lent by the allocations' workflow, not from its page.
    assert not {"reserve", "release_reservation", "hand_over_gift", "lend"} & set(html.buttons)
    assert len(html.selects) == len(set(html.selects))


def test_ready_is_no_primary_while_the_record_misses_something(login, workshop_staff, at_workshop):
    walk(actor=workshop_staff, device=at_workshop, actions=("start_reconditioning",))
    response = login(workshop_staff).get(page(at_workshop))
    html = parsed(response)
    assert not is_primary(html.buttons["mark_ready"])
    assert 'aria-describedby="missing-hint-mark_ready"' in response.text
    # What is missing is on the page, and the bench record is the step to take.
    assert 'id="missing-before-ready"' in response.text
    assert 'data-code="grade_missing"' in response.text
    bench = reverse("inventory:bench_record", args=[at_workshop.pk])
    assert f'class="button" href="{bench}"' in response.text


def test_ready_is_the_primary_once_nothing_is_missing(login, workshop_staff, at_workshop):
    walk(actor=workshop_staff, device=at_workshop, actions=("start_reconditioning",))
    record_reconditioning(actor=workshop_staff, device=at_workshop)
    html = parsed(login(workshop_staff).get(page(at_workshop)))
    assert is_primary(html.buttons["mark_ready"])


def test_the_exits_sit_behind_one_choice_with_one_confirmation(login, coordinator, device):
    response = login(coordinator).get(page(device))
    html = parsed(response)
    assert html.exit_details == 1
    assert html.confirms == 1
    [reasons] = [options for name, options in html.selects if name == "action"]
    assert reasons == ("", "recycle", "return_to_donor", "declare_lost")
    # No exit is a button of its own: one choice, one confirmation, one button.
    assert not {"recycle", "return_to_donor", "declare_lost"} & set(html.buttons)


def test_an_exit_without_its_reason_or_confirmation_changes_nothing(login, coordinator, device):
    client = login(coordinator)
    response = client.post(move_url(device), {"confirm": "1"}, follow=True)
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert "raison" in str(message)
    response = client.post(move_url(device), {"action": "recycle"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert reload(device).status == Status.REGISTERED
    client.post(move_url(device), {"action": "recycle", "confirm": "1"})
    assert reload(device).status == Status.RECYCLED


def page_queries(client, device) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page(device)).status_code == 200
    return [query["sql"] for query in queries]


def test_the_device_page_reads_a_fixed_number_of_queries(
    login, coordinator, workshop_staff, workshop_org
):
    """Session, user with membership (2), the device (1), its checklist lines and media, read
    once for the timeline, the bench record and the "ready" guards (2), its history and the
    organisations it names that the device row has not loaded (2), its bench records' history
    (2 for a device never at a bench, else 6) and the bench record (the cycle and its 4 kinds
    of records); the "ready" guards read nothing more. None of it grows with the history."""
    registered = make_device(actor=coordinator)
    # ... and the workshops its next move may send it to (1).
    assert len(page_queries(login(coordinator), registered)) == 2 + 1 + 2 + 1 + 2 + 1 + 1

    bench = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=bench.pk, action="send_to_workshop", target=workshop_org
    )
    walk(actor=workshop_staff, device=bench, actions=("receive_at_workshop",))
    record_reconditioning(actor=workshop_staff, device=bench, grade="")
    client = login(workshop_staff)
    expected = 2 + 1 + 2 + 2 + 6 + 5
    assert len(page_queries(client, bench)) == expected
    # The guards, reading what the page read, say what they say on their own.
    shown = [problem.code for problem in client.get(page(bench)).context["missing"]]
    assert shown == [p.code for p in missing_before_ready(workshop_staff, reload(bench))]
    assert shown == ["grade_missing"]
    # A longer history and more records: the same queries.
    record_reconditioning(actor=workshop_staff, device=bench, grade="B")
    walk(actor=workshop_staff, device=bench, actions=("mark_ready",))
    assert len(page_queries(client, bench)) == expected
