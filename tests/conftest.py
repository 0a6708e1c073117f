from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group

from practice.roles import OWNER
from sessions.models import Technique
from tests import factories

BROWSER_TESTS = Path(__file__).parent / "browser"
BROWSER_FIXTURES = {"tablet_browser", "phone_browser"}


def pytest_collection_modifyitems(config, items) -> None:
    # pytest reads ``pytestmark`` only from test modules, not from a conftest: mark the browser tests here
    # (everything under tests/browser/, and any test elsewhere that drives a browser) so that
    # ``-m "not browser"`` deselects them.
    for item in items:
        in_browser_tests = BROWSER_TESTS in Path(str(item.fspath)).parents
        if in_browser_tests or BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


def _uses_transactions(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _catalogue_and_roles(request):
    """Data migrations seed techniques, roles and the validated instruments; a transactional test's flush removes
    them, so restore."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    request.getfixturevalue("transactional_db" if _uses_transactions(request) else "db")
    instruments = django_apps.get_model("measures", "Instrument").objects
    if Technique.objects.exists() and Group.objects.filter(name=OWNER).exists() and instruments.exists():
        return
    import_module("sessions.migrations.0002_seed_techniques").seed(django_apps, None)
    import_module("practice.migrations.0001_roles").create_roles(django_apps, None)
    if not instruments.exists():
        import_module("measures.migrations.0002_seed_instruments").seed(django_apps, None)


@pytest.fixture
def owner(db):
    return factories.make_owner()


@pytest.fixture
def therapist(db):
    return factories.make_therapist("maria")


@pytest.fixture
def other_therapist(db):
    return factories.make_therapist("james")


@pytest.fixture
def client_a(db, therapist):
    """A client in remission cared for by ``therapist``, with a portal account."""
    user = factories.make_user("client_a")
    client = factories.make_client(therapists=[therapist], first_name="Alice", last_name="Ashby", user=user)
    factories.make_phase(client)
    return client


@pytest.fixture
def client_b(db, other_therapist):
    """A client cared for by ``other_therapist`` only."""
    user = factories.make_user("client_b")
    client = factories.make_client(therapists=[other_therapist], first_name="Boris", last_name="Bexley", user=user)
    factories.make_phase(client)
    return client
