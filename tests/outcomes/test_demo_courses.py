"""A fresh install's demo shows a real report: seed_demo rebuilds the stored visits, and they hold courses."""

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.http import QueryDict

from clients.models import Client
from outcomes.forms import ReportFilterForm
from outcomes.glance import GENERATION_KEY
from outcomes.models import TechniqueClient, TechniqueWeek, TherapistWeek, Visit
from outcomes.selectors import courses, techniques
from outcomes.storage import client_visits_rebuild
from sessions.models import TreatmentSession

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_visits_with_courses_in_the_default_range():
    out = io.StringIO()
    call_command("seed_demo", "--no-progress", stdout=out)
    assert "Outcomes rebuilt" in out.getvalue()
    assert Visit.objects.count() == TreatmentSession.objects.signed().count()
    filters = ReportFilterForm(QueryDict("")).filters()
    assert len(courses(filters)) >= 8
    assert techniques(filters)


def test_rebuild_outcomes_replaces_every_row():
    call_command("seed_demo", "--no-progress", "--clients", "3", stdout=io.StringIO())
    Visit.objects.filter(pk__in=Visit.objects.values("pk")[:5]).update(pain_before=10)
    before = list(Visit.objects.order_by("pk").values_list("pk", "pain_before"))
    generation = cache.get(GENERATION_KEY)
    call_command("rebuild_outcomes", stdout=io.StringIO())
    after = list(Visit.objects.order_by("pk").values_list("pk", "pain_before"))
    assert [pk for pk, _ in before] == [pk for pk, _ in after]
    assert before != after
    # The admin index's cached headline was read from the old rows: a new generation leaves it unread.
    assert cache.get(GENERATION_KEY) not in (None, generation)


def _aggregates() -> tuple:
    cells = sorted(
        TechniqueWeek.objects.values_list(
            "week", "technique_id", "phase", "therapist_id", "ms_type", "sessions", "pain_sum", "pain_squares"
        )
    )
    keys = sorted(
        TechniqueClient.objects.values_list("technique_id", "phase", "therapist_id", "client_id", "first_week", "weeks")
    )
    weeks = sorted(TherapistWeek.objects.values_list("week", "therapist_id", "sessions"))
    return cells, keys, weeks


def test_the_set_based_rebuild_equals_rewriting_each_client():
    call_command("seed_demo", "--no-progress", "--clients", "4", stdout=io.StringIO())
    rebuilt = _aggregates()
    assert all(rebuilt)
    for client_id in Client.objects.values_list("pk", flat=True):
        client_visits_rebuild(client_id)
    assert _aggregates() == rebuilt
