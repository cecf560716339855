"""Persona fixtures: one organisation of each kind and a user in each."""

import pytest
from django.test import Client

from inventory.models import Role
from inventory.states import OrgKind
from tests.builders import make_device, make_organisation, make_user


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2's deliberate slowness would dominate the suite's time; tests don't need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
def device(coordinator, donor_org):
    return make_device(actor=coordinator, donor=donor_org)


@pytest.fixture
def login():
    """A client signed in as the given user."""

    def client_for(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return client_for
