"""The token check reads the user's scope (membership and organisation) in its own query, and
the web's session backend with the user: the scope must be the one a separate read gives, for
every kind of account, and an account that may not sign in gets nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from api.authentication import TokenAuthentication
from inventory.login import MembershipBackend
from inventory.models import Role
from inventory.selectors import user_scope
from inventory.states import OrgKind
from tests.builders import make_organisation, make_user, token_client


@pytest.fixture
def accounts(coordinator, workshop_staff, structure_staff, fund_reader, workshop_org):
    closed = make_organisation(kind=OrgKind.WORKSHOP, name="Atelier fermé", is_active=False)
    boss = get_user_model().objects.create_superuser(username="boss", password="x" * 12)
    return [
        coordinator,
        workshop_staff,
        structure_staff,
        fund_reader,
        make_user(organisation=workshop_org, role=Role.READER),
        make_user(organisation=closed),  # an organisation closed since: no scope
        make_user(),  # no membership at all
        boss,  # a superuser with no membership acts as the coordination
    ]


def fresh_scope(user):
    return user_scope(get_user_model().objects.get(pk=user.pk))


def test_the_token_gives_the_scope_a_separate_read_gives_in_one_query(accounts):
    scopes = set()
    for user in accounts:
        key = Token.objects.create(user=user).key
        with CaptureQueriesContext(connection) as captured:
            authenticated, _token = TokenAuthentication().authenticate_credentials(key)
            scope = user_scope(authenticated)
        assert len(captured) == 1, [q["sql"] for q in captured.captured_queries]
        assert scope == fresh_scope(user)
        scopes.add((scope.kind, scope.can_write))
    # The accounts did differ: coordinator, workshop, structure, fund, read-only, none.
    assert len(scopes) >= 5


def test_the_session_backend_gives_the_scope_a_separate_read_gives_in_one_query(accounts):
    for user in accounts:
        with CaptureQueriesContext(connection) as captured:
            signed_in = MembershipBackend().get_user(user.pk)
            scope = user_scope(signed_in)
        assert len(captured) == 1
        assert signed_in == user and scope == fresh_scope(user)


def test_an_account_that_may_not_sign_in_gets_nothing(coordinator):
    key = Token.objects.create(user=coordinator).key
    coordinator.is_active = False
    coordinator.save()
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(key)
    assert token_client(coordinator).get("/api/devices/").status_code == 401
    assert MembershipBackend().get_user(coordinator.pk) is None
    assert MembershipBackend().get_user(10**9) is None
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials("0" * 40)


def test_a_membership_changed_between_requests_is_seen_at_the_next_one(
    coordinator, workshop_org, device
):
    client = token_client(coordinator)
    assert client.get(f"/api/devices/{device.pk}/").status_code == 200
    membership = coordinator.membership
    membership.organisation = workshop_org  # moved to a workshop: the device is out of sight
    membership.save()
    assert client.get(f"/api/devices/{device.pk}/").status_code == 404
