"""A fresh install's demo shows a real report: seed_demo rebuilds the stored visits, and they hold courses."""

import io

import pytest
from django.core.management import call_command
from django.http import QueryDict

from outcomes.forms import ReportFilterForm
from outcomes.models import Visit
from outcomes.selectors import courses, techniques
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
    call_command("rebuild_outcomes", stdout=io.StringIO())
    after = list(Visit.objects.order_by("pk").values_list("pk", "pain_before"))
    assert [pk for pk, _ in before] == [pk for pk, _ in after]
    assert before != after
