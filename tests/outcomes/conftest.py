import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _no_cached_headline():
    """The admin index keeps the outcomes headline in the (per-process) cache: each test starts without one."""
    cache.clear()
    yield
    cache.clear()
