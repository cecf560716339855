"""Logistics tests: a clean cache, where the forms keep their replay keys."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def clean_cache(db):
    # The form's replay key lives in the cache: one test's keys must not answer the next.
    cache.clear()
    yield
    cache.clear()
