"""Migrating to stored questionnaire pairings (outcomes 0005) pairs the visits already stored, as the storage does."""

import pytest
from django.core.management import call_command

from outcomes.models import Visit
from outcomes.questionnaires import pre_post_summary
from outcomes.selectors import Filters, courses
from outcomes.storage import client_visits_rebuild
from tests.outcomes import test_questionnaire_summary as worked


@pytest.mark.django_db(transaction=True)
def test_the_migration_pairs_the_stored_visits_like_the_storage(client_a, client_b, therapist, other_therapist):
    people = worked.practice.__wrapped__(client_a, client_b, therapist, other_therapist)
    expected = sorted(Visit.objects.values_list("pk", "questionnaire_id", "questionnaire_score"))
    assert sum(1 for _, paired, _ in expected if paired) >= 6  # not vacuous: both ends of A, B and C at least

    call_command("migrate", "outcomes", "0004", verbosity=0)
    call_command("migrate", "outcomes", verbosity=0)

    assert sorted(Visit.objects.values_list("pk", "questionnaire_id", "questionnaire_score")) == expected
    for person in people:  # and the storage agrees with itself afterwards
        client_visits_rebuild(person.pk)
    assert sorted(Visit.objects.values_list("pk", "questionnaire_id", "questionnaire_score")) == expected
    summary = pre_post_summary(courses(Filters(start=None, end=None, treatments=4)))
    assert (summary.courses, summary.clients) == (5, 3)
