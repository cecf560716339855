"""The transition table, checked as plain data."""

from inventory.states import (
    EXITS,
    MOVES,
    TERMINAL,
    WORKFLOW_MOVES,
    Custody,
    OrgKind,
    Status,
    actor_may,
    can_transition,
    moves_from,
    needs_target,
)


def test_every_status_is_reachable_from_registration():
    reached = {Status.REGISTERED}
    frontier = [Status.REGISTERED]
    while frontier:
        status = frontier.pop()
        for move in moves_from(status):
            if move.target not in reached:
                reached.add(move.target)
                frontier.append(move.target)
    assert reached == set(Status)


def test_terminal_statuses_have_no_way_out():
    for status in TERMINAL:
        assert moves_from(status) == []


def test_every_live_status_can_reach_an_exit():
    for status in set(Status) - TERMINAL:
        assert any(move.target in EXITS for move in moves_from(status)) or any(
            target_move.target in EXITS
            for move in moves_from(status)
            for target_move in moves_from(move.target)
        ), status


def test_the_device_life_of_the_domain_brief_is_a_path_in_the_table():
    life = [
        "send_to_workshop",
        "receive_at_workshop",
        "start_reconditioning",
        "mark_ready",
        "reserve",
        "lend",
        "return_loan",
        "send_to_workshop",
        "receive_at_workshop",
        "start_reconditioning",
        "mark_ready",
        "reserve",
        "hand_over_gift",
    ]
    status = Status.REGISTERED
    for action in life:
        assert can_transition(status, action), (status, action)
        status = MOVES[action].target
    assert status == Status.GIVEN


def test_illegal_moves_are_refused_by_the_table():
    assert not can_transition(Status.REGISTERED, "mark_ready")
    assert not can_transition(Status.READY, "lend")  # a loan starts from a reservation
    assert not can_transition(Status.GIVEN, "return_loan")
    assert not can_transition(Status.RECYCLED, "send_to_workshop")
    assert not can_transition(Status.READY, "no_such_action")


def test_moves_that_change_custody_name_the_kind_they_send_to():
    for move in MOVES.values():
        if move.custody == Custody.TARGET:
            assert move.target_kind is not None, move.action
    assert MOVES["send_to_workshop"].target_kind == OrgKind.WORKSHOP
    assert MOVES["lend"].target_kind == OrgKind.STRUCTURE
    assert MOVES["return_to_donor"].custody == Custody.DONOR


def test_roles_per_move():
    assert actor_may(OrgKind.WORKSHOP, "mark_ready")
    # A workshop lends only through the hand-over's workflow; the fund never.
    assert actor_may(OrgKind.WORKSHOP, "lend", workflow=True)
    assert not actor_may(OrgKind.WORKSHOP, "lend")
    assert not actor_may(OrgKind.FUND, "lend", workflow=True)
    assert not actor_may(OrgKind.STRUCTURE, "mark_ready")
    assert not actor_may(OrgKind.FUND, "declare_lost")
    assert not actor_may(OrgKind.DONOR, "recycle")
    assert all(actor_may(OrgKind.COORDINATOR, action, workflow=True) for action in MOVES)
    assert not actor_may(None, "reserve", workflow=True)


def test_the_allocations_own_reserving_releasing_giving_and_lending():
    assert {"reserve", "release_reservation", "hand_over_gift", "lend"} == WORKFLOW_MOVES
    for action in WORKFLOW_MOVES:
        # Nobody makes them through the generic door; the coordination through the workflow.
        assert not any(actor_may(kind, action) for kind in OrgKind)
        assert actor_may(OrgKind.COORDINATOR, action, workflow=True)


def test_needs_target_is_one_rule_for_the_screens_and_the_service():
    send = MOVES["send_to_workshop"]  # custody goes to a named workshop
    receive = MOVES["receive_at_workshop"]  # into the acting workshop, or a named one
    assert needs_target(send, OrgKind.WORKSHOP) and needs_target(send, OrgKind.COORDINATOR)
    assert not needs_target(receive, OrgKind.WORKSHOP)
    assert needs_target(receive, OrgKind.COORDINATOR)
    assert needs_target(receive, None)
    assert not needs_target(MOVES["mark_ready"], OrgKind.WORKSHOP)


def test_a_reserved_device_is_not_declared_lost_while_its_allocation_holds_it():
    # The allocation is cancelled first (its need line reopens), then the device is declared.
    assert not can_transition(Status.RESERVED, "declare_lost")
    assert can_transition(Status.READY, "declare_lost")
    assert can_transition(Status.ON_LOAN, "declare_lost")
    assert can_transition(Status.GIVEN, "declare_lost")
