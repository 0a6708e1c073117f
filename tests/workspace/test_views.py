"""The therapist's client pages through the Django test client: caseload, record, profile, phases."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, DiseasePhase, Phase
from clients.services import phase_end, phase_start
from portal.invitations import portal_invitation_send
from tests import factories
from workspace.selectors import CASELOAD_PAGE_SIZE, RECORD_PHASES_SHOWN, RECORD_SESSIONS_PAGE_SIZE, SESSION_CADENCE

TODAY = timezone.localdate


def days_ago(n: int) -> dt.date:
    return TODAY() - dt.timedelta(days=n)


def client_names(response) -> list[str]:
    return re.findall(r'class="caseload-row__name" href="[^"]+">([^<]+)</a>', response.content.decode())


def count_queries(django_client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert django_client.get(url).status_code == 200
    return len(captured)


# --- access ----------------------------------------------------------------------------------------------------

CLIENT_PAGES = ["clients:detail", "clients:edit", "clients:phase_start", "clients:phase_end"]


@pytest.mark.parametrize("name", ["clients:caseload", *CLIENT_PAGES])
def test_anonymous_people_are_sent_to_sign_in(client, client_a, name):
    url = reverse(name) if name == "clients:caseload" else reverse(name, args=[client_a.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", ["clients:caseload", *CLIENT_PAGES])
def test_client_users_cannot_open_the_therapist_pages(client, client_a, name):
    client.force_login(client_a.user)
    url = reverse(name) if name == "clients:caseload" else reverse(name, args=[client_a.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name", CLIENT_PAGES)
def test_therapist_cannot_open_another_therapists_client(client, therapist, client_b, name):
    client.force_login(therapist)
    assert client.get(reverse(name, args=[client_b.pk])).status_code == 404
    assert client.post(reverse(name, args=[client_b.pk]), {}).status_code == 404


def test_therapist_posting_a_phase_for_another_therapists_client_changes_nothing(client, therapist, client_b):
    client.force_login(therapist)
    response = client.post(
        reverse("clients:phase_start", args=[client_b.pk]),
        {"start-phase": Phase.ACUTE_FLARE, "start-started_on": TODAY().isoformat()},
    )
    assert response.status_code == 404
    assert list(DiseasePhase.objects.for_client(client_b).values_list("phase", flat=True)) == [Phase.REMISSION]


def test_caseload_lists_only_the_therapists_own_clients(client, therapist, client_a, client_b):
    client.force_login(therapist)
    response = client.get(reverse("clients:caseload"))
    assert response.status_code == 200
    assert client_names(response) == ["Alice Ashby"]
    assert "My clients" in response.content.decode()


def test_owner_sees_every_client_and_every_record(client, owner, client_a, client_b):
    client.force_login(owner)
    assert client_names(client.get(reverse("clients:caseload"))) == ["Alice Ashby", "Boris Bexley"]
    assert client.get(reverse("clients:detail", args=[client_b.pk])).status_code == 200


def test_caring_therapist_opens_the_record_and_the_profile_form(client, therapist, client_a):
    client.force_login(therapist)
    assert client.get(reverse("clients:detail", args=[client_a.pk])).status_code == 200
    assert client.get(reverse("clients:edit", args=[client_a.pk])).status_code == 200


# --- caseload --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["ashby", "ALICE", "ali", "Ally", "alice ashby"])
def test_caseload_search_matches_first_last_and_preferred_name_in_any_case(client, therapist, client_a, query):
    client_a.preferred_name = "Ally"
    client_a.save()
    factories.make_client(therapists=[therapist], first_name="Carl", last_name="Cole")
    client.force_login(therapist)
    response = client.get(reverse("clients:caseload"), {"q": query})
    assert client_names(response) == ["Alice Ashby"]


def test_caseload_search_without_a_match_says_so(client, therapist, client_a):
    client.force_login(therapist)
    response = client.get(reverse("clients:caseload"), {"q": "zebedee"})
    assert client_names(response) == []
    assert "No clients match “zebedee”." in response.content.decode()


def test_archived_clients_are_hidden_unless_asked_for(client, therapist, client_a):
    gone = factories.make_client(therapists=[therapist], first_name="Dora", last_name="Dale")
    gone.archive()
    client.force_login(therapist)
    assert client_names(client.get(reverse("clients:caseload"))) == ["Alice Ashby"]
    response = client.get(reverse("clients:caseload"), {"archived": "1"})
    assert client_names(response) == ["Alice Ashby", "Dora Dale"]
    assert "Archived</span>" in response.content.decode()


def test_caseload_is_paginated_and_keeps_the_search_in_page_links(client, therapist):
    for n in range(CASELOAD_PAGE_SIZE + 5):
        factories.make_client(therapists=[therapist], first_name="Pat", last_name=f"Page{n:02d}")
    client.force_login(therapist)
    first = client.get(reverse("clients:caseload"), {"q": "pat"})
    assert len(client_names(first)) == CASELOAD_PAGE_SIZE
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?q=pat&amp;page=2"' in first.content.decode()
    second = client.get(reverse("clients:caseload"), {"q": "pat", "page": 2})
    assert client_names(second) == [f"Pat Page{n:02d}" for n in range(CASELOAD_PAGE_SIZE, CASELOAD_PAGE_SIZE + 5)]


def test_caseload_shows_each_phase_as_a_coloured_badge_with_words(client, therapist):
    for last_name, phase in [("Flare", Phase.ACUTE_FLARE), ("Mend", Phase.SUBACUTE), ("Calm", Phase.REMISSION)]:
        factories.make_phase(factories.make_client(therapists=[therapist], last_name=last_name), phase)
    factories.make_client(therapists=[therapist], last_name="Unknown")
    client.force_login(therapist)
    html = client.get(reverse("clients:caseload")).content.decode()
    assert 'phase-badge--acute_flare" data-phase="acute_flare">Acute flare</span>' in html
    assert 'phase-badge--subacute" data-phase="subacute">Subacute (recovering)</span>' in html
    assert 'phase-badge--remission" data-phase="remission">Remission</span>' in html
    assert 'phase-badge--none" data-phase="none">No phase recorded</span>' in html


def test_caseload_shows_last_session_and_next_due_a_week_later(client, therapist, client_a):
    last = timezone.now() - dt.timedelta(days=2)
    factories.make_session(client_a, therapist, started_at=last - dt.timedelta(days=7))
    factories.make_session(client_a, therapist, started_at=last)
    client.force_login(therapist)
    html = client.get(reverse("clients:caseload")).content.decode()
    due = timezone.localdate(last) + SESSION_CADENCE
    assert f'Last session: <time datetime="{timezone.localtime(last).isoformat()}' in html
    assert f'Next due: <time datetime="{due.isoformat()}">' in html
    assert "Overdue" not in html


def test_caseload_marks_a_client_overdue_when_the_week_has_passed(client, therapist, client_a):
    factories.make_session(client_a, therapist, started_at=timezone.now() - dt.timedelta(days=10))
    client.force_login(therapist)
    assert (
        '<span class="badge due-badge--overdue">Overdue</span>'
        in client.get(reverse("clients:caseload")).content.decode()
    )


def test_caseload_without_sessions_says_none_yet(client, therapist, client_a):
    client.force_login(therapist)
    html = client.get(reverse("clients:caseload")).content.decode()
    assert "Last session: none yet" in html
    assert "Next due" not in html


def test_caseload_shows_the_safety_findings_that_apply_now(client, therapist):
    flare = factories.make_client(
        therapists=[therapist], last_name="Flare", conditions_needing_clearance=["osteoporosis"]
    )
    factories.make_phase(flare, Phase.ACUTE_FLARE, started_on=days_ago(3))
    sores = factories.make_client(therapists=[therapist], last_name="Sores", pressure_sore_regions=["lower_back"])
    client.force_login(therapist)
    html = client.get(reverse("clients:caseload")).content.decode()
    flare_row = html[html.index(f'data-client="{flare.pk}"') : html.index(f'data-client="{sores.pk}"')]
    assert 'data-code="acute_flare"' in flare_row
    assert 'data-code="clearance_missing"' in flare_row
    assert "severity-badge--stop" in flare_row
    sores_row = html[html.index(f'data-client="{sores.pk}"') :]
    assert 'data-code="pressure_sores_on_record"' in sores_row
    assert "Pressure sores on record (lower back)" in sores_row
    assert "acute_flare" not in sores_row


def _caseload_of(therapist, count: int) -> None:
    for n in range(count):
        c = factories.make_client(therapists=[therapist], pressure_sore_regions=["hip_left"])
        factories.make_phase(c, [Phase.REMISSION, Phase.SUBACUTE, Phase.ACUTE_FLARE][n % 3])
        factories.make_session(c, therapist)


def test_caseload_query_count_does_not_grow_with_the_caseload(client, therapist, django_assert_num_queries):
    _caseload_of(therapist, 3)
    client.force_login(therapist)
    small = count_queries(client, reverse("clients:caseload"))
    _caseload_of(therapist, 27)
    with django_assert_num_queries(small):
        response = client.get(reverse("clients:caseload"))
    assert len(client_names(response)) == CASELOAD_PAGE_SIZE


def test_owner_caseload_query_count_does_not_grow_with_the_practice(
    client, owner, therapist, django_assert_num_queries
):
    _caseload_of(therapist, 3)
    client.force_login(owner)
    small = count_queries(client, reverse("clients:caseload") + "?q=client&archived=1")
    _caseload_of(therapist, 27)
    with django_assert_num_queries(small):
        client.get(reverse("clients:caseload") + "?q=client&archived=1")


def clinical_queries(captured) -> list[str]:
    """Queries that read clients, phases or sessions for the page itself (not the signed-in person's own record)."""
    tables = ('"clients_client', '"clients_diseasephase"', '"treatment_sessions_')
    sqls = [q["sql"] for q in captured.captured_queries]
    return [sql for sql in sqls if any(t in sql for t in tables) and 'WHERE "clients_client"."user_id" =' not in sql]


def test_caseload_reads_the_clinical_tables_three_times_whatever_its_size(client, therapist):
    _caseload_of(therapist, 30)
    client.force_login(therapist)
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("clients:caseload"))
    # One count for the paginator, the therapist's drafts to sign, one page of clients with phase, last session and
    # latest "How I feel today" entries as subqueries.
    assert len(clinical_queries(captured)) == 3, clinical_queries(captured)


# --- client record ---------------------------------------------------------------------------------------------


def test_record_shows_profile_body_map_phases_and_links(client, therapist, client_a):
    client_a.diagnosis_year = 2015
    client_a.edss = Decimal("3.5")
    client_a.conditions_needing_clearance = ["arthritis"]
    client_a.physician_clearance_on = days_ago(30)
    client_a.reduced_sensation_regions = ["hand_left"]
    client_a.pressure_sore_regions = ["lower_back"]
    client_a.goals = ["fatigue"]
    client_a.save()
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert '<h1 class="h3 mb-0">Alice Ashby</h1>' in html
    assert '<dd class="col-sm-7">3.5</dd>' in html
    assert '<dd class="col-sm-7">Arthritis</dd>' in html
    assert '<dd class="col-sm-7">Less fatigue</dd>' in html
    assert "Maria" in html  # cared for by
    assert re.search(r'class="body-map__region is-reduced"[^>]*data-region="hand_left"', html)
    assert re.search(r'class="body-map__region is-sore"[^>]*data-region="lower_back"', html)
    assert 'role="img"' in html
    assert f'href="/clients/{client_a.pk}/sessions/new/"' in html
    assert f'href="/clients/{client_a.pk}/trends/"' in html
    assert f'href="{reverse("clients:edit", args=[client_a.pk])}"' in html
    assert f'action="{reverse("clients:phase_start", args=[client_a.pk])}"' in html
    assert f'action="{reverse("clients:phase_end", args=[client_a.pk])}"' in html


def test_record_shows_the_safety_alerts(client, therapist, client_a):
    client_a.conditions_needing_clearance = ["heart_disease"]
    client_a.save()
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert 'data-code="clearance_missing"' in html
    assert "Physician clearance missing: heart disease on record" in html


def test_record_without_alerts_says_none_apply(client, therapist, client_a):
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert "No safety alerts apply now." in html


def test_record_lists_phases_newest_first(client, therapist, client_a):
    DiseasePhase.objects.filter(client=client_a).update(started_on=days_ago(20))
    factories.make_phase(client_a, Phase.ACUTE_FLARE, started_on=days_ago(60), ended_on=days_ago(40))
    factories.make_phase(client_a, Phase.SUBACUTE, started_on=days_ago(40), ended_on=days_ago(20))
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    timeline = html[html.index('class="phase-timeline"') :]
    order = [timeline.index(f'data-phase="{p}"') for p in ("remission", "subacute", "acute_flare")]
    assert order == sorted(order)
    assert "<strong>to now</strong>" in timeline


def test_record_lists_the_newest_phases_and_every_phase_on_request(client, therapist, client_a):
    """Ten years of relapses are dozens of episodes: the newest RECORD_PHASES_SHOWN, the rest one click away."""
    DiseasePhase.objects.filter(client=client_a).update(started_on=days_ago(10))
    total = RECORD_PHASES_SHOWN + 3
    for n in range(1, total):  # the open remission above, and older closed ones, 10 days each
        factories.make_phase(client_a, Phase.SUBACUTE, started_on=days_ago(10 + 10 * n), ended_on=days_ago(10 * n))
    client.force_login(therapist)
    url = reverse("clients:detail", args=[client_a.pk])

    html = client.get(url).content.decode()
    assert html.count("data-phase-id=") == RECORD_PHASES_SHOWN
    assert "<strong>to now</strong>" in html
    assert 'href="?phases=all#phases">Show every phase</a>' in html

    everything = client.get(url, {"phases": "all"}).content.decode()
    assert everything.count("data-phase-id=") == total
    assert "Show every phase" not in everything
    oldest = DiseasePhase.objects.filter(client=client_a).order_by("started_on").first()
    assert f'data-phase-id="{oldest.pk}"' in everything and f'data-phase-id="{oldest.pk}"' not in html


def test_record_lists_sessions_newest_first_with_links_and_pages(client, therapist, client_a):
    now = timezone.now()
    sessions = [
        factories.make_session(client_a, therapist, started_at=now - dt.timedelta(days=n + 1))
        for n in range(RECORD_SESSIONS_PAGE_SIZE + 3)
    ]
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    shown = [int(pk) for pk in re.findall(r'<tr data-session="(\d+)">', html)]
    assert shown == [s.pk for s in sessions[:RECORD_SESSIONS_PAGE_SIZE]]
    assert f'href="/sessions/{sessions[0].pk}/"' in html
    assert f"{RECORD_SESSIONS_PAGE_SIZE + 3} in all, newest first" in html
    older = client.get(reverse("clients:detail", args=[client_a.pk]), {"page": 2}).content.decode()
    assert [int(pk) for pk in re.findall(r'<tr data-session="(\d+)">', older)] == [s.pk for s in sessions[-3:]]


def test_record_shows_state_phase_scores_and_override_reason_of_sessions(client, therapist, client_a):
    factories.make_session(client_a, therapist, signed=True)
    factories.make_session(
        client_a,
        therapist,
        started_at=timezone.now() - dt.timedelta(hours=2),
        safety_override_reason="Neurologist confirmed the flare had settled.",
    )
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert 'text-bg-success">Signed</span>' in html
    assert 'text-bg-secondary">Draft</span>' in html
    assert "5 → 3" in html and "5 → …" in html
    assert "Neurologist confirmed the flare had settled." in html


def test_record_offers_a_portal_invitation_only_to_clients_without_an_account(client, therapist, client_a):
    without = factories.make_client(therapists=[therapist], email="new.client@example.org")
    client.force_login(therapist)
    invite = reverse("portal:invite", args=[without.pk])
    assert f'action="{invite}"' in client.get(reverse("clients:detail", args=[without.pk])).content.decode()
    html = client.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert "Invite to the portal" not in html


def test_record_offers_no_invitation_that_would_be_refused(client, therapist):
    # The one rule (portal_invitation_possible): no e-mail address, no invitation to offer.
    no_email = factories.make_client(therapists=[therapist], email="")
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[no_email.pk])).content.decode()
    assert "Invite to the portal" not in html


def test_record_offers_to_resend_a_pending_invitation(client, therapist, owner):
    pending = factories.make_client(therapists=[therapist], email="pending@example.org")
    portal_invitation_send(client=pending, invited_by=owner, site_url="http://testserver")
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[pending.pk])).content.decode()
    assert f'action="{reverse("portal:invite", args=[pending.pk])}"' in html


def test_record_of_an_archived_client_stays_reachable(client, therapist, client_a):
    client_a.archive()
    client.force_login(therapist)
    response = client.get(reverse("clients:detail", args=[client_a.pk]))
    assert response.status_code == 200
    assert "Archived</span>" in response.content.decode()


def test_record_of_a_client_without_phase_offers_no_end_form(client, therapist):
    fresh = factories.make_client(therapists=[therapist])
    client.force_login(therapist)
    html = client.get(reverse("clients:detail", args=[fresh.pk])).content.decode()
    assert "No phases recorded yet." in html
    assert reverse("clients:phase_end", args=[fresh.pk]) not in html


def test_record_query_count_does_not_grow_with_sessions(client, therapist, client_a, django_assert_num_queries):
    for _ in range(3):
        factories.make_session(client_a, therapist, uses=[("swedish", "arm_left", "light")])
    client.force_login(therapist)
    url = reverse("clients:detail", args=[client_a.pk])
    small = count_queries(client, url)
    for _ in range(27):
        factories.make_session(client_a, therapist, uses=[("swedish", "arm_left", "light")])
    factories.make_phase(client_a, Phase.SUBACUTE, started_on=days_ago(200), ended_on=days_ago(150))
    with django_assert_num_queries(small):
        client.get(url)


def test_record_reads_client_phases_sessions_and_therapists_once_each(client, therapist, client_a):
    for _ in range(30):
        factories.make_session(client_a, therapist)
    client.force_login(therapist)
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("clients:detail", args=[client_a.pk]))
    # Client, phases, session count, one page of sessions with their therapists, their amendments (shown as
    # corrected), the client's therapists.
    assert len(clinical_queries(captured)) == 6, clinical_queries(captured)


# --- editing the health profile --------------------------------------------------------------------------------


def profile_data(client_obj: Client, **changes) -> dict:
    data = {
        "first_name": client_obj.first_name,
        "last_name": client_obj.last_name,
        "ms_type": client_obj.ms_type,
        "heat_sensitive": "on",
        "edss": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_therapist_saves_the_health_profile(client, therapist, client_a):
    client.force_login(therapist)
    response = client.post(
        reverse("clients:edit", args=[client_a.pk]),
        profile_data(
            client_a,
            preferred_name="Ally",
            ms_type="rrms",
            diagnosis_year="2012",
            edss="3.5",
            heat_sensitive=None,
            cold_sensitive="on",
            conditions_needing_clearance=["arthritis", "edema"],
            physician_clearance_on=days_ago(10).isoformat(),
            reduced_sensation_regions=["hand_left", "foot_right"],
            pressure_sore_regions=["lower_back"],
            goals=["pain", "sleep"],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client_a.pk])
    client_a.refresh_from_db()
    assert client_a.preferred_name == "Ally"
    assert client_a.edss == Decimal("3.5")
    assert (client_a.heat_sensitive, client_a.cold_sensitive) == (False, True)
    assert client_a.conditions_needing_clearance == ["arthritis", "edema"]
    assert client_a.reduced_sensation_regions == ["hand_left", "foot_right"]
    assert client_a.pressure_sore_regions == ["lower_back"]
    assert client_a.goals == ["pain", "sleep"]
    assert "profile is saved" in client.get(response["Location"]).content.decode()


def test_profile_form_offers_regions_conditions_and_goals_as_checkboxes_and_edss_as_a_select(
    client, therapist, client_a
):
    client_a.edss = Decimal("3.0")
    client_a.reduced_sensation_regions = ["calf_right"]
    client_a.save()
    client.force_login(therapist)
    html = client.get(reverse("clients:edit", args=[client_a.pk])).content.decode()
    for field in ("reduced_sensation_regions", "pressure_sore_regions", "conditions_needing_clearance", "goals"):
        assert re.search(rf'<input type="checkbox"[^>]*name="{field}"', html), field
    assert re.search(
        r'<input type="checkbox"[^>]*name="reduced_sensation_regions" value="calf_right"[^>]*checked', html
    )
    assert '<select name="edss"' in html
    assert '<option value="3.0" selected>3.0</option>' in html
    assert '<option value="0.5"' not in html


def test_edss_of_half_a_point_is_refused_with_a_message_and_nothing_saved(client, therapist, client_a):
    client.force_login(therapist)
    response = client.post(
        reverse("clients:edit", args=[client_a.pk]), profile_data(client_a, edss="0.5", phone="01234")
    )
    assert response.status_code == 200
    assert "0.5 is not a score on the EDSS scale" in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    client_a.refresh_from_db()
    assert (client_a.edss, client_a.phone) == (None, "")


def test_future_year_of_diagnosis_is_refused_on_its_field(client, therapist, client_a):
    client.force_login(therapist)
    response = client.post(
        reverse("clients:edit", args=[client_a.pk]), profile_data(client_a, diagnosis_year=str(TODAY().year + 1))
    )
    assert response.status_code == 200
    assert response.context["form"].errors["diagnosis_year"] == ["The year of diagnosis cannot be in the future."]
    client_a.refresh_from_db()
    assert client_a.diagnosis_year is None


def test_unknown_body_region_and_missing_name_are_refused(client, therapist, client_a):
    client.force_login(therapist)
    response = client.post(
        reverse("clients:edit", args=[client_a.pk]),
        profile_data(client_a, first_name="", reduced_sensation_regions=["tail"]),
    )
    errors = response.context["form"].errors
    assert "first_name" in errors
    assert "Select a valid choice. tail is not one of the available choices." in errors["reduced_sensation_regions"]
    client_a.refresh_from_db()
    assert client_a.first_name == "Alice"


def test_only_owners_choose_the_therapists(client, therapist, other_therapist, owner, client_a):
    client.force_login(therapist)
    assert 'name="therapists"' not in client.get(reverse("clients:edit", args=[client_a.pk])).content.decode()
    client.post(
        reverse("clients:edit", args=[client_a.pk]), profile_data(client_a, therapists=[str(other_therapist.pk)])
    )
    assert list(client_a.therapists.all()) == [therapist]

    client.force_login(owner)
    html = client.get(reverse("clients:edit", args=[client_a.pk])).content.decode()
    assert 'name="therapists"' in html
    assert owner.username not in re.findall(r'name="therapists"[^>]*>\s*<label[^>]*>([^<]+)', html)
    response = client.post(
        reverse("clients:edit", args=[client_a.pk]),
        profile_data(client_a, therapists=[str(therapist.pk), str(other_therapist.pk)]),
    )
    assert response.status_code == 302
    assert set(client_a.therapists.all()) == {therapist, other_therapist}


def test_owner_cannot_assign_someone_who_is_not_a_therapist(client, owner, client_a):
    client.force_login(owner)
    response = client.post(
        reverse("clients:edit", args=[client_a.pk]), profile_data(client_a, therapists=[str(owner.pk)])
    )
    assert response.status_code == 200
    assert "therapists" in response.context["form"].errors


# --- phases ----------------------------------------------------------------------------------------------------


def start(client, client_obj, phase: str, started_on: dt.date, notes: str = ""):
    return client.post(
        reverse("clients:phase_start", args=[client_obj.pk]),
        {"start-phase": phase, "start-started_on": started_on.isoformat(), "start-notes": notes},
    )


def end(client, client_obj, ended_on: dt.date):
    return client.post(reverse("clients:phase_end", args=[client_obj.pk]), {"end-ended_on": ended_on.isoformat()})


def phases_of(client_obj: Client) -> list[tuple[str, dt.date, dt.date | None]]:
    return list(
        DiseasePhase.objects.for_client(client_obj)
        .order_by("started_on")
        .values_list("phase", "started_on", "ended_on")
    )


def test_starting_a_phase_ends_the_open_one_on_the_same_day(client, therapist, client_a):
    client.force_login(therapist)
    response = start(client, client_a, Phase.ACUTE_FLARE, days_ago(2), notes="New weakness in the left leg")
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client_a.pk])
    assert phases_of(client_a) == [
        (Phase.REMISSION, days_ago(90), days_ago(2)),
        (Phase.ACUTE_FLARE, days_ago(2), None),
    ]
    new = DiseasePhase.objects.get(client=client_a, ended_on__isnull=True)
    assert (new.recorded_by, new.notes) == (therapist, "New weakness in the left leg")
    assert "Acute flare recorded from" in client.get(response["Location"]).content.decode()


def test_first_phase_of_a_client_is_simply_started(client, therapist):
    fresh = factories.make_client(therapists=[therapist])
    client.force_login(therapist)
    assert start(client, fresh, Phase.SUBACUTE, TODAY()).status_code == 302
    assert phases_of(fresh) == [(Phase.SUBACUTE, TODAY(), None)]


def test_phase_starting_before_the_current_one_is_refused_and_nothing_saved(client, therapist, client_a):
    client.force_login(therapist)
    before = phases_of(client_a)
    response = start(client, client_a, Phase.ACUTE_FLARE, days_ago(100))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["started_on"] == [
        f"The current remission phase started on {days_ago(90):%d %b %Y}; a new phase must start after that day."
    ]
    assert "Nothing was saved" in response.content.decode()
    assert phases_of(client_a) == before


def test_phase_overlapping_a_past_episode_is_refused_with_the_model_message(client, therapist):
    past = factories.make_client(therapists=[therapist])
    factories.make_phase(past, Phase.ACUTE_FLARE, started_on=days_ago(50), ended_on=days_ago(30))
    client.force_login(therapist)
    response = start(client, past, Phase.REMISSION, days_ago(40))
    assert response.status_code == 200
    message = (
        f"This phase overlaps the acute flare phase from {days_ago(50):%d %b %Y} to {days_ago(30):%d %b %Y}. "
        "End that phase first, or choose other dates."
    )
    assert response.context["form"].non_field_errors() == [message]
    assert message in response.content.decode()
    assert phases_of(past) == [(Phase.ACUTE_FLARE, days_ago(50), days_ago(30))]


def test_phase_starting_in_the_future_is_refused_and_the_open_one_stays_open(client, therapist, client_a):
    client.force_login(therapist)
    before = phases_of(client_a)
    response = start(client, client_a, Phase.ACUTE_FLARE, TODAY() + dt.timedelta(days=1))
    assert response.context["form"].errors["started_on"] == ["A phase cannot start in the future."]
    assert phases_of(client_a) == before


def test_starting_the_phase_the_client_is_already_in_is_refused(client, therapist, client_a):
    client.force_login(therapist)
    response = start(client, client_a, Phase.REMISSION, days_ago(1))
    assert response.context["form"].errors["phase"] == [
        f"The client is already in remission, since {days_ago(90):%d %b %Y}."
    ]
    assert len(phases_of(client_a)) == 1


def test_phase_form_refuses_a_missing_date_and_an_unknown_phase(client, therapist, client_a):
    client.force_login(therapist)
    response = client.post(
        reverse("clients:phase_start", args=[client_a.pk]), {"start-phase": "relapse", "start-started_on": ""}
    )
    errors = response.context["form"].errors
    assert errors["started_on"] == ["This field is required."]
    assert errors["phase"] == ["Select a valid choice. relapse is not one of the available choices."]


def test_phase_start_page_shows_the_form_on_its_own(client, therapist, client_a):
    client.force_login(therapist)
    html = client.get(reverse("clients:phase_start", args=[client_a.pk])).content.decode()
    assert 'name="start-phase"' in html
    assert f'value="{TODAY().isoformat()}"' in html
    assert "It ends on the day the new phase starts." in html


def test_ending_the_current_phase(client, therapist, client_a):
    client.force_login(therapist)
    response = end(client, client_a, days_ago(1))
    assert response.status_code == 302
    assert phases_of(client_a) == [(Phase.REMISSION, days_ago(90), days_ago(1))]
    assert "The remission phase ended on" in client.get(response["Location"]).content.decode()


def test_ending_a_phase_on_or_before_its_start_is_refused(client, therapist, client_a):
    client.force_login(therapist)
    response = end(client, client_a, days_ago(90))
    assert response.status_code == 200
    assert response.context["form"].errors["ended_on"] == ["A phase must end after the day it started."]
    assert phases_of(client_a) == [(Phase.REMISSION, days_ago(90), None)]


def test_ending_a_phase_in_the_future_is_refused(client, therapist, client_a):
    client.force_login(therapist)
    response = end(client, client_a, TODAY() + dt.timedelta(days=3))
    assert response.context["form"].errors["ended_on"] == ["A phase cannot end in the future."]
    assert phases_of(client_a) == [(Phase.REMISSION, days_ago(90), None)]


def test_ending_when_no_phase_is_open_says_so(client, therapist):
    fresh = factories.make_client(therapists=[therapist])
    client.force_login(therapist)
    response = end(client, fresh, TODAY())
    assert response.status_code == 302
    assert "has no current phase to end" in client.get(response["Location"]).content.decode()


# --- archived means read-only ------------------------------------------------------------------------------


@pytest.mark.parametrize("owner_asks", [False, True])
def test_an_archived_clients_profile_and_phases_cannot_be_changed(client, therapist, owner, client_a, owner_asks):
    client_a.archive()
    client.force_login(owner if owner_asks else therapist)
    before = (Client.objects.get(pk=client_a.pk).first_name, client_a.phases.count())
    edit = client.post(reverse("clients:edit", args=[client_a.pk]), {"first_name": "Changed", "last_name": "X"})
    start = client.post(
        reverse("clients:phase_start", args=[client_a.pk]),
        {"start-phase": "subacute", "start-started_on": timezone.localdate().isoformat()},
    )
    end = client.post(
        reverse("clients:phase_end", args=[client_a.pk]), {"end-ended_on": timezone.localdate().isoformat()}
    )
    for response in (edit, start, end):
        assert response.status_code == 302 and response.url == reverse("clients:detail", args=[client_a.pk])
    assert (Client.objects.get(pk=client_a.pk).first_name, client_a.phases.count()) == before
    assert client_a.phases.current().exists()
    record = client.get(reverse("clients:detail", args=[client_a.pk]), follow=True).content.decode()
    assert "read-only until an owner restores them" in record
    assert "Start phase" not in record and "Edit profile" not in record


def test_the_services_refuse_an_archived_client_too(therapist, client_a):
    client_a.archive()
    with pytest.raises(ValidationError, match="archived"):
        phase_start(client=client_a, phase="subacute", started_on=timezone.localdate(), recorded_by=therapist)
    with pytest.raises(ValidationError, match="archived"):
        phase_end(phase=client_a.phases.current().get(), ended_on=timezone.localdate())
