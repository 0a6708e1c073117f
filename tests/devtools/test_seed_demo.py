import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from clients.models import Client, DiseasePhase, Phase
from devtools import demo
from measures.models import QuestionnaireResponse
from sessions.models import TechniqueUse, TreatmentSession


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--no-progress", *args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple]:
    return list(
        TreatmentSession.objects.order_by("client__email", "started_at").values_list(
            "client__email", "started_at", "pain_before", "pain_after", "fatigue_before", "fatigue_after"
        )
    )


@pytest.mark.django_db
class TestSeedDemo:
    def test_builds_a_believable_practice_and_prints_sign_in_details(self):
        output = seed()
        assert "Sign in at http://127.0.0.1:8000/accounts/login/" in output
        assert demo.DEMO_PASSWORD in output
        assert Client.objects.count() == 12
        assert User.objects.get(username="owner").is_staff
        assert User.objects.filter(groups__name="Therapist").count() == 2
        alex = User.objects.get(username=demo.CLIENT_USERNAME)
        assert alex.client_profile.email == demo.demo_email(0)
        assert set(Client.objects.values_list("ms_type", flat=True)) >= {"rrms", "spms"}
        # One to three years of mostly weekly sessions per client.
        for client in Client.objects.all():
            count = client.sessions.count()
            assert 30 <= count <= 160, (client, count)
        assert TechniqueUse.objects.count() >= TreatmentSession.objects.count()

    @pytest.mark.parametrize(("username", "home"), [("owner", "/admin/"), ("maria", "/clients/"), ("alex", "/portal/")])
    def test_printed_demo_accounts_sign_in_with_the_printed_password(self, client, username, home):
        seed()
        response = client.post("/accounts/login/", {"username": username, "password": demo.DEMO_PASSWORD}, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == home

    def test_phase_histories_include_flares_and_are_valid(self):
        seed()
        assert DiseasePhase.objects.filter(phase=Phase.ACUTE_FLARE).values("client").distinct().count() >= 6
        for phase in DiseasePhase.objects.all():
            phase.full_clean()
        current = dict(Client.objects.with_current_phase().values_list("email", "current_phase"))
        assert current[demo.demo_email(0)] == Phase.REMISSION
        assert current[demo.demo_email(1)] == Phase.ACUTE_FLARE
        assert current[demo.demo_email(2)] == Phase.SUBACUTE

    def test_scores_are_valid_and_move_with_the_phases(self):
        seed()
        for session in TreatmentSession.objects.all()[:200]:
            session.full_clean()
        by_phase = {}
        for phase, pain in TreatmentSession.objects.with_phase().values_list("phase_on_date", "pain_before"):
            by_phase.setdefault(phase, []).append(pain)
        mean = {phase: sum(values) / len(values) for phase, values in by_phase.items() if values}
        assert mean[Phase.SUBACUTE] > mean[Phase.REMISSION]
        assert Phase.ACUTE_FLARE not in mean  # no massage during a flare

    def test_questionnaires_at_the_first_session_and_every_4_weeks_show_scores(self):
        result = demo.build_demo(clients=4, seed=7, today=dt.date(2026, 6, 1))
        assert result.questionnaires_created == QuestionnaireResponse.objects.count() > 0
        for client in Client.objects.all():
            sessions = list(client.sessions.order_by("started_at").values_list("started_at", flat=True))
            filled = list(client.questionnaire_responses.order_by("started_at"))
            assert filled[0].started_at == sessions[0]
            days = [timezone.localdate(questionnaire.started_at) for questionnaire in filled]
            gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
            # Every 4 weeks at the first session due; longer only where sessions paused (a flare, missed weeks).
            assert min(gaps) >= 28 and sorted(gaps)[len(gaps) // 2] <= 35, gaps
            for questionnaire in filled:
                questionnaire.full_clean()
                assert questionnaire.is_submitted and questionnaire.entered_in == "session"
                assert questionnaire.score == questionnaire.instrument.score(questionnaire.answers)
                assert questionnaire.entered_by in client.therapists.all()
        # The scores follow fatigue: they are not all the same.
        assert len(set(QuestionnaireResponse.objects.values_list("score", flat=True))) > 3

    def test_running_twice_creates_nothing_new(self):
        seed()
        before = (
            Client.objects.count(),
            TreatmentSession.objects.count(),
            User.objects.count(),
            QuestionnaireResponse.objects.count(),
        )
        output = seed()
        assert (
            Client.objects.count(),
            TreatmentSession.objects.count(),
            User.objects.count(),
            QuestionnaireResponse.objects.count(),
        ) == before
        assert "12 clients already there" in output

    def test_same_seed_gives_the_same_practice(self):
        today = dt.date(2026, 6, 1)
        with transaction.atomic():
            demo.build_demo(clients=4, seed=7, today=today)
            first = snapshot()
            transaction.set_rollback(True)
        demo.build_demo(clients=4, seed=7, today=today)
        assert snapshot() == first
        assert first

    def test_large_data_sets_use_the_requested_size(self):
        seed("--clients", "30", "--years", "2")
        assert Client.objects.count() == 30
        per_client = TreatmentSession.objects.count() / 30
        assert 60 <= per_client <= 105

    @pytest.mark.parametrize("args", [["--clients", "0"], ["--years", "0"], ["--years", "50"]])
    def test_bad_arguments_are_refused(self, args):
        with pytest.raises(CommandError):
            seed(*args)
