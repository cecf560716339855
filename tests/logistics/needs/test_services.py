"""The needs register's services: declare, edit, submit, decide, cancel, expire; the cap of
open needs; stale versions; scoping; history with user and reason."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.errors import DomainError
from inventory.models import Role
from inventory.states import OrgKind
from logistics.models import Need, NeedLine
from logistics.needs import services as needs
from logistics.needs.lifecycle import NeedStatus
from logistics.needs.selectors import (
    RegisterFilters,
    need_actions,
    need_detail,
    need_register,
    needs_visible_to,
    register_units,
)
from tests.builders import accepted_need, make_need, make_organisation, make_user, need_fields
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db


def refused(call, code: str, status: int | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value
    if status is not None:
        assert caught.value.status == status
    return caught.value


@pytest.fixture
def other_structure_staff(db):
    return make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE, name="CCAS Bagneux"))


# Declaring


def test_a_structure_declares_a_draft_with_its_lines(structure_staff, structure_org):
    need = make_need(
        actor=structure_staff,
        submit=False,
        lines=[
            {"category": "laptop", "quantity": "3", "min_ram_gb": 8, "os_family": "windows"},
            {"category": "tablet", "quantity": 2, "min_screen_inches": "10,1", "min_grade": "B"},
        ],
    )
    assert need.structure == structure_org
    assert need.status == NeedStatus.DRAFT and need.submitted_at is None
    lines = list(need.lines.order_by("id"))
    assert [(li.category_id, li.quantity) for li in lines] == [("laptop", 3), ("tablet", 2)]
    assert lines[0].min_ram_gb == 8 and lines[0].os_family == "windows"
    assert lines[1].min_screen_inches == Decimal("10.1") and lines[1].min_grade == "B"
    record = need.history.get()
    assert record.history_user == structure_staff and record.history_change_reason == "need_create"
    assert NeedLine.history.filter(history_user=structure_staff).count() == 2


def test_a_need_submitted_at_once_is_dated(structure_staff):
    need = make_need(actor=structure_staff, submit=True)
    assert need.status == NeedStatus.SUBMITTED and need.submitted_at is not None
    assert need.history.get().history_change_reason == "need_submit"


def test_a_loan_needs_its_length_and_a_gift_drops_one(structure_staff):
    error = refused(lambda: make_need(actor=structure_staff, mode="loan"), "invalid", 400)
    assert "loan_weeks" in error.params["fields"]
    gift = make_need(actor=structure_staff, mode="gift", loan_weeks=12)
    assert gift.loan_weeks is None
    loan = make_need(actor=structure_staff, mode="loan", loan_weeks="26")
    assert loan.loan_weeks == 26


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"category": "spaceship", "quantity": 1}, "category"),
        ({"category": "laptop", "quantity": 0}, "quantity"),
        ({"category": "laptop", "quantity": 501}, "quantity"),
        ({"category": "laptop", "quantity": "deux"}, "quantity"),
        ({"category": "laptop", "quantity": True}, "quantity"),
        ({"category": "laptop", "quantity": 1, "min_ram_gb": -4}, "min_ram_gb"),
        ({"category": "laptop", "quantity": 1, "min_storage_gb": "1e9"}, "min_storage_gb"),
        ({"category": "laptop", "quantity": 1, "min_screen_inches": "NaN"}, "min_screen_inches"),
        ({"category": "laptop", "quantity": 1, "min_screen_inches": "13.33"}, "min_screen_inches"),
        ({"category": "laptop", "quantity": 1, "os_family": "beos"}, "os_family"),
        ({"category": "laptop", "quantity": 1, "min_grade": "D"}, "min_grade"),
        ({"category": ["laptop"], "quantity": 1}, "category"),
    ],
)
def test_a_bad_line_is_refused_by_field_and_nothing_is_written(structure_staff, line, field):
    error = refused(
        lambda: make_need(
            actor=structure_staff, lines=[{"category": "tablet", "quantity": 1}, line]
        ),
        "invalid",
        400,
    )
    assert list(error.params["fields"]) == [f"lines.1.{field}"]
    assert not Need.objects.exists() and not NeedLine.objects.exists()
    assert not Need.history.exists()


@pytest.mark.parametrize("lines", [[], "laptop", {"category": "laptop"}, None, [1, 2]])
def test_a_need_without_proper_lines_is_refused(structure_staff, lines):
    with pytest.raises(DomainError) as caught:
        needs.need_create(actor=structure_staff, lines=lines, **need_fields())
    assert caught.value.code == "invalid"
    assert not Need.objects.exists()


def test_bad_choices_are_refused_together(structure_staff):
    error = refused(
        lambda: make_need(actor=structure_staff, purpose="x", public=None, urgency=3),
        "invalid",
        400,
    )
    assert {"purpose", "public", "urgency"} <= set(error.params["fields"])


def test_at_most_twenty_lines(structure_staff):
    lines = [{"category": "laptop", "quantity": 1}] * 21
    error = refused(lambda: make_need(actor=structure_staff, lines=lines), "invalid")
    assert "lines" in error.params["fields"]


def test_workshops_and_the_fund_declare_nothing(workshop_staff, fund_reader):
    for user in (workshop_staff, fund_reader):
        refused(lambda user=user: make_need(actor=user), "action_forbidden", 403)


def test_a_structure_reader_declares_nothing(structure_org):
    reader = make_user(organisation=structure_org, role=Role.READER)
    refused(lambda: make_need(actor=reader), "action_forbidden", 403)


def test_the_coordination_declares_for_a_named_structure(coordinator, structure_org):
    need = make_need(actor=coordinator, structure=structure_org.pk)
    assert need.structure == structure_org and need.created_by == coordinator
    error = refused(lambda: make_need(actor=coordinator), "invalid")
    assert "structure" in error.params["fields"]
    workshop = make_organisation(kind=OrgKind.WORKSHOP)
    refused(lambda: make_need(actor=coordinator, structure=workshop.pk), "invalid")


# The cap of open needs


def test_the_cap_counts_open_needs_only(settings, structure_staff):
    settings.REEMPLOI_NEEDS_OPEN_CAP = 2
    first = make_need(actor=structure_staff)
    make_need(actor=structure_staff, submit=False)
    error = refused(lambda: make_need(actor=structure_staff), "too_many_open_needs", 409)
    assert "2" in str(error.message)
    needs.need_cancel(actor=structure_staff, need_id=first.pk)
    make_need(actor=structure_staff)
    assert Need.objects.count() == 3


def test_the_cap_is_per_structure(settings, structure_staff, other_structure_staff):
    settings.REEMPLOI_NEEDS_OPEN_CAP = 1
    make_need(actor=structure_staff)
    make_need(actor=other_structure_staff)
    assert Need.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_needs_declared_at_once_stay_under_the_cap(settings, structure_staff):
    settings.REEMPLOI_NEEDS_OPEN_CAP = 3
    results, errors = run_at_once(lambda i: make_need(actor=structure_staff).pk, count=8)
    assert len(results) == 3
    assert {(e.code, e.status) for e in errors} == {("too_many_open_needs", 409)}
    assert Need.objects.count() == 3 and Need.history.count() == 3


# Editing


def test_an_edit_replaces_fields_and_lines_and_bumps_the_version(structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    version = need.version
    changed = needs.need_update(
        actor=structure_staff,
        need_id=need.pk,
        version=version,
        urgency="high",
        lines=[{"category": "smartphone", "quantity": 4}],
    )
    assert changed.urgency == "high" and changed.version == version + 1
    assert list(changed.lines.values_list("category_id", "quantity")) == [("smartphone", 4)]
    assert NeedLine.history.filter(history_type="-").count() == 1


def test_an_edit_on_a_stale_version_is_refused_and_changes_nothing(structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    needs.need_update(actor=structure_staff, need_id=need.pk, version=need.version, urgency="low")
    refused(
        lambda: needs.need_update(
            actor=structure_staff, need_id=need.pk, version=need.version, urgency="high"
        ),
        "stale",
        412,
    )
    assert Need.objects.get().urgency == "low"


def test_a_decided_need_can_no_longer_be_edited(structure_staff, coordinator):
    need = accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    refused(
        lambda: needs.need_update(actor=structure_staff, need_id=need.pk, urgency="high"),
        "need_not_editable",
        409,
    )


def test_a_bad_edit_writes_nothing(structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    refused(
        lambda: needs.need_update(
            actor=structure_staff, need_id=need.pk, lines=[{"category": "laptop", "quantity": 0}]
        ),
        "invalid",
    )
    need.refresh_from_db()
    assert need.version == 1 and need.lines.count() == 1


def test_another_structures_need_is_not_found(structure_staff, other_structure_staff):
    need = make_need(actor=structure_staff)
    for call in (
        lambda: needs.need_update(actor=other_structure_staff, need_id=need.pk, urgency="low"),
        lambda: needs.need_cancel(actor=other_structure_staff, need_id=need.pk),
        lambda: needs.need_submit(actor=other_structure_staff, need_id=need.pk),
    ):
        refused(call, "not_found", 404)
    assert need_detail(other_structure_staff, need.pk) is None


# Deciding


def test_the_coordination_accepts_with_adjusted_quantities(structure_staff, coordinator):
    need = make_need(
        actor=structure_staff,
        lines=[{"category": "laptop", "quantity": 5}, {"category": "tablet", "quantity": 2}],
    )
    laptop, tablet = need.lines.order_by("id")
    accepted = needs.need_accept(
        actor=coordinator, need_id=need.pk, quantities={str(laptop.pk): 3}, note="Stock limité"
    )
    assert accepted.status == NeedStatus.ACCEPTED and accepted.decided_at is not None
    assert dict(accepted.lines.values_list("category_id", "quantity_accepted")) == {
        "laptop": 3,
        "tablet": 2,
    }
    record = accepted.history.latest("history_date")
    assert (record.history_user, record.history_change_reason) == (coordinator, "need_accept")
    assert record.history_note == "Stock limité"


@pytest.mark.parametrize(
    "quantities", [{"999999": 1}, {"LINE": 1}, {"FIRST": 6}, {"FIRST": -1}, {"FIRST": "x"}]
)
def test_accepted_quantities_are_checked(structure_staff, coordinator, quantities):
    need = make_need(actor=structure_staff, lines=[{"category": "laptop", "quantity": 5}])
    line = need.lines.get()
    quantities = {str(line.pk) if k == "FIRST" else k: v for k, v in quantities.items()}
    refused(
        lambda: needs.need_accept(actor=coordinator, need_id=need.pk, quantities=quantities),
        "invalid",
        400,
    )
    need.refresh_from_db()
    assert need.status == NeedStatus.SUBMITTED and need.lines.get().quantity_accepted is None


def test_accepting_zero_units_is_a_decline_in_disguise(structure_staff, coordinator):
    need = make_need(actor=structure_staff, lines=[{"category": "laptop", "quantity": 5}])
    line = need.lines.get()
    refused(
        lambda: needs.need_accept(actor=coordinator, need_id=need.pk, quantities={line.pk: 0}),
        "invalid",
    )


def test_a_decline_needs_a_reason_the_structure_reads(structure_staff, coordinator):
    need = make_need(actor=structure_staff)
    refused(lambda: needs.need_decline(actor=coordinator, need_id=need.pk, reason="  "), "invalid")
    declined = needs.need_decline(actor=coordinator, need_id=need.pk, reason="Hors périmètre")
    assert declined.status == NeedStatus.DECLINED and declined.reason == "Hors périmètre"
    assert need_detail(structure_staff, need.pk).reason == "Hors périmètre"


def test_structures_do_not_decide(structure_staff):
    need = make_need(actor=structure_staff)
    refused(
        lambda: needs.need_accept(actor=structure_staff, need_id=need.pk), "action_forbidden", 403
    )
    refused(
        lambda: needs.need_decline(actor=structure_staff, need_id=need.pk, reason="non"),
        "action_forbidden",
        403,
    )


def test_a_draft_cannot_be_accepted_nor_a_decided_need_decided_again(structure_staff, coordinator):
    draft = make_need(actor=structure_staff, submit=False)
    refused(
        lambda: needs.need_accept(actor=coordinator, need_id=draft.pk),
        "need_transition_not_allowed",
        409,
    )
    need = accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    refused(
        lambda: needs.need_decline(actor=coordinator, need_id=need.pk, reason="non"),
        "need_transition_not_allowed",
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_coordinators_deciding_at_once_decide_once(structure_staff, coordinator):
    need = make_need(actor=structure_staff)

    def work(i):
        if i % 2:
            return needs.need_accept(actor=coordinator, need_id=need.pk).status
        return needs.need_decline(actor=coordinator, need_id=need.pk, reason="non").status

    results, errors = run_at_once(work, count=6)
    assert len(results) == 1
    assert {e.code for e in errors} == {"need_transition_not_allowed"}
    assert (
        Need.history.filter(history_change_reason__in=["need_accept", "need_decline"]).count() == 1
    )


# Cancelling and expiring


def test_the_structure_cancels_an_accepted_need_with_its_reason(structure_staff, coordinator):
    need = accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    cancelled = needs.need_cancel(actor=structure_staff, need_id=need.pk, reason="Déjà équipés")
    assert cancelled.status == NeedStatus.CANCELLED and cancelled.reason == "Déjà équipés"
    refused(
        lambda: needs.need_cancel(actor=structure_staff, need_id=need.pk),
        "need_transition_not_allowed",
    )


def test_submitted_needs_nobody_answered_expire(settings, structure_staff, coordinator):
    settings.REEMPLOI_NEEDS_EXPIRY_DAYS = 30
    old = make_need(actor=structure_staff)
    recent = make_need(actor=structure_staff)
    answered = make_need(actor=structure_staff)
    long_ago = timezone.now() - datetime.timedelta(days=31)
    Need.objects.filter(pk__in=[old.pk, answered.pk]).update(submitted_at=long_ago)
    needs.need_accept(actor=coordinator, need_id=answered.pk)
    assert needs.needs_expire() == 1
    assert needs.needs_expire() == 0  # run twice: nothing more
    statuses = dict(Need.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: NeedStatus.EXPIRED,
        recent.pk: NeedStatus.SUBMITTED,
        answered.pk: NeedStatus.ACCEPTED,
    }
    record = Need.history.filter(id=old.pk).latest("history_date")
    assert record.history_change_reason == "need_expire" and record.history_user is None


def test_the_expiry_command_reports_what_it_closed(structure_staff, capsys):
    need = make_need(actor=structure_staff)
    Need.objects.filter(pk=need.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=400)
    )
    call_command("expire_needs")
    assert "1" in capsys.readouterr().out
    assert Need.objects.get().status == NeedStatus.EXPIRED


# Reads


def test_each_side_sees_its_share(
    structure_staff, other_structure_staff, coordinator, fund_reader, workshop_staff
):
    mine = make_need(actor=structure_staff)
    theirs = make_need(actor=other_structure_staff)
    assert set(needs_visible_to(structure_staff)) == {mine}
    assert set(needs_visible_to(coordinator)) == {mine, theirs}
    assert not needs_visible_to(fund_reader).exists()
    assert not needs_visible_to(workshop_staff).exists()


def test_the_register_filters_and_counts_units(structure_staff, other_structure_staff, coordinator):
    laptops = accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 4}, {"category": "tablet", "quantity": 1}],
        public="seniors",
    )
    make_need(actor=other_structure_staff, lines=[{"category": "smartphone", "quantity": 7}])
    everything = need_register(coordinator)
    assert register_units(everything) == needs_units(asked=12, accepted=5, served=0)
    seniors = need_register(coordinator, RegisterFilters(public="seniors"))
    assert list(seniors) == [laptops]
    by_category = need_register(coordinator, RegisterFilters(category="laptop"))
    assert list(by_category) == [laptops]
    assert register_units(by_category, category="laptop").asked == 4
    accepted = need_register(coordinator, RegisterFilters(status=NeedStatus.ACCEPTED))
    assert list(accepted) == [laptops]
    territory = laptops.structure.commune.territory_id
    assert list(need_register(coordinator, RegisterFilters(territory=territory))) != []
    assert list(need_register(coordinator, RegisterFilters(territory="T9"))) == []
    assert list(need_register(coordinator, RegisterFilters(older_than_days=1))) == []


def needs_units(**kwargs):
    from logistics.needs.selectors import Units

    return Units(**kwargs)


def test_actions_follow_the_side_and_status(structure_staff, coordinator, structure_org):
    draft = make_need(actor=structure_staff, submit=False)
    assert need_actions(structure_staff, draft) == ["submit", "cancel", "edit"]
    submitted = make_need(actor=structure_staff)
    assert need_actions(coordinator, submitted) == ["cancel", "edit", "accept", "decline"]
    reader = make_user(organisation=structure_org, role=Role.READER)
    assert need_actions(reader, submitted) == []


# Database guards


def test_the_database_refuses_more_accepted_than_asked(structure_staff):
    need = make_need(actor=structure_staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        NeedLine.objects.filter(need=need).update(quantity_accepted=3)


def test_the_database_refuses_a_gift_with_a_length(structure_staff):
    need = make_need(actor=structure_staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.filter(pk=need.pk).update(loan_weeks=4)
