"""The techniques table's stored parts: corrected technique rows, weekly cells, clients' weeks, edge days."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outcomes.models import TechniqueClient, TechniqueWeek, VisitTechnique, week_of
from outcomes.receivers import repair_after_questionnaire
from outcomes.selectors import Filters, techniques, whole_weeks
from outcomes.storage import client_questionnaires_refresh, client_visits_rebuild
from sessions import services
from sessions.safety import PlannedUse
from tests import factories
from tests.outcomes.helpers import rebuild, visit

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2025, 3, 3)


def rows_by_technique(filters: Filters) -> dict:
    return {(r.technique_id, r.phase): (r.sessions, r.clients) for r in techniques(filters)}


def test_corrected_technique_rows_replace_the_signed_ones(therapist):
    client = factories.make_client(therapists=[therapist])
    session = visit(client, therapist, MONDAY, uses=[("swedish", "neck", "light"), ("swedish", "feet", "light")])
    rebuild(client)
    swedish, reflexology = factories.technique("swedish"), factories.technique("reflexology")
    assert set(VisitTechnique.objects.values_list("technique_id", flat=True)) == {swedish.pk}

    services.session_amend(
        session=session,
        author=therapist,
        reason="Wrong technique recorded",
        changes={},
        uses=[PlannedUse(reflexology, "neck", "light")],
    )

    assert set(VisitTechnique.objects.values_list("technique_id", flat=True)) == {reflexology.pk}
    assert set(TechniqueWeek.objects.values_list("technique_id", "sessions")) == {(reflexology.pk, 1)}
    assert set(TechniqueClient.objects.values_list("technique_id", "weeks")) == {(reflexology.pk, "1")}
    everything = Filters(start=None, end=None, treatments=4)
    assert rows_by_technique(everything) == {(reflexology.pk, ""): (1, 1)}


def test_whole_weeks_and_edge_days():
    wednesday, sunday_after_next = MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=13)
    first, last, edges = whole_weeks(wednesday, sunday_after_next)
    assert (first, last) == (week_of(MONDAY) + 1, week_of(MONDAY) + 1)
    assert edges == [(wednesday, MONDAY + dt.timedelta(days=6))]
    # Under a whole week: everything is edge.
    assert whole_weeks(wednesday, wednesday)[2] == [(wednesday, wednesday)]


def test_clients_counted_once_across_weeks_edges_and_therapists(therapist, other_therapist):
    """Week 1 (Mon 3 Mar) Wednesday, week 2 whole, week 4 Monday; a range from Tuesday of week 1 to week 4's
    Monday reads week 1 and 4 as edge days and week 2-3 as whole weeks."""
    ann = factories.make_client(therapists=[therapist, other_therapist])
    bob = factories.make_client(therapists=[therapist])
    swedish = [("swedish", "neck", "light")]
    visit(ann, therapist, MONDAY + dt.timedelta(days=2), uses=swedish, pain=(6, 4))
    visit(ann, other_therapist, MONDAY + dt.timedelta(days=8), uses=swedish, pain=(6, 5))
    visit(ann, therapist, MONDAY + dt.timedelta(days=21), uses=swedish, pain=(5, 5))
    visit(bob, therapist, MONDAY + dt.timedelta(days=22), uses=swedish, pain=(7, 4))  # after the range
    visit(bob, therapist, MONDAY + dt.timedelta(days=1), uses=swedish, pain=(7, 4))
    rebuild(ann, bob)
    key = (factories.technique("swedish").pk, "")
    tuesday = MONDAY + dt.timedelta(days=1)
    filters = Filters(start=tuesday, end=MONDAY + dt.timedelta(days=21), treatments=4)
    assert rows_by_technique(filters) == {key: (4, 2)}
    [row] = techniques(filters)
    assert row.pain_mean == pytest.approx((-2 - 1 + 0 - 3) / 4)
    # The gap week between Ann's visits: a range over only week 3 finds nobody.
    gap = Filters(start=MONDAY + dt.timedelta(days=14), end=MONDAY + dt.timedelta(days=20), treatments=4)
    assert rows_by_technique(gap) == {}
    # One therapist: Ann's visits with the other do not count.
    mine = Filters(start=tuesday, end=MONDAY + dt.timedelta(days=21), treatments=4, therapist=therapist.pk)
    assert rows_by_technique(mine) == {key: (3, 2)}
    assert TechniqueClient.objects.get(client=ann, therapist=therapist).weeks == "1001"


def test_a_changed_ms_type_moves_the_clients_cells(therapist):
    client = factories.make_client(therapists=[therapist], ms_type="rrms")
    visit(client, therapist, MONDAY, uses=[("swedish", "neck", "light")])
    rebuild(client)
    client.ms_type = "spms"
    client.save()
    assert list(TechniqueWeek.objects.values_list("ms_type", "sessions")) == [("spms", 1)]
    spms = Filters(start=None, end=None, treatments=4, ms_type="spms")
    assert rows_by_technique(spms) == {(factories.technique("swedish").pk, ""): (1, 1)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises every writer; no row locks")
def test_a_rebuild_and_a_re_pairing_lock_the_client_first(therapist):
    """A session signed and a questionnaire submitted at the same moment must not each read what the other is
    replacing: both writers of a client's stored rows take the client's row lock before reading anything."""
    person = factories.make_client(therapists=[therapist])
    visit(person, therapist, dt.date(2025, 3, 3))
    for write in (client_visits_rebuild, client_questionnaires_refresh):
        with CaptureQueriesContext(connection) as queries:
            write(person.pk)
        first = next(q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"])
        assert first.endswith("FOR UPDATE") and '"clients_client"' in first, write


def test_only_the_reported_instrument_is_paired_again(therapist, django_assert_num_queries):
    """Another instrument's questionnaire costs the visits nothing (the instrument is loaded where it was scored)."""
    from tests.measures.helpers import make_instrument, submitted

    person = factories.make_client(therapists=[therapist])
    other = make_instrument()
    response = submitted(person, other, [1] * len(other.items), by=therapist, days_ago=1)
    with django_assert_num_queries(0):
        repair_after_questionnaire(type(response), response)
