"""API-test clients: `api(user)` with a session, `coord` with the coordinator's token."""

import pytest
from rest_framework.test import APIClient

from tests.builders import session_client, token_client


@pytest.fixture
def api():
    return session_client


@pytest.fixture
def coord(coordinator) -> APIClient:
    return token_client(coordinator)
