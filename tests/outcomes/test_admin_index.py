"""The owner's admin index: the practice at a glance on top, then the records, security and history in plain words."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Phase
from outcomes.glance import Headline, cached_outcomes_headline, outcomes_headline, practice_glance
from practice.dates import local_midnight
from sessions import services
from sessions.models import TreatmentSession
from sessions.safety import PlannedUse
from tests import factories
from tests.outcomes.helpers import rebuild, visit, weekly

OWN_REASON = "Cleared by her neurologist on the phone this morning."
CORRECTION_REASON = "Stones were lukewarm, the client asked for them; skin checked before and after."

# The index page: session and user (2), permissions for the sections (2), roles for the menu (1), the glance
# (4) and Django's recent actions (1); the outcomes headline from the cache (none).
INDEX_QUERIES = 10
# The first index of the day, or the first after a client's stored visits were rewritten, computes the headline.
HEADLINE_QUERIES = 1
# A Wednesday: its week runs from Monday 15 June 00:00 to Monday 22 June 00:00, local time.
NOW = local_midnight(dt.date(2026, 6, 17)) + dt.timedelta(hours=12)


def at(day: dt.date, hours: float = 0) -> dt.datetime:
    return local_midnight(day) + dt.timedelta(hours=hours)


@pytest.fixture
def practice(therapist):
    """One row on each side of every boundary the four figures have."""
    flare = factories.make_client(therapists=[therapist], last_name="Flare")
    factories.make_phase(flare, Phase.ACUTE_FLARE, started_on=dt.date(2026, 6, 1))
    ended = factories.make_client(therapists=[therapist], last_name="Ended")
    factories.make_phase(ended, Phase.ACUTE_FLARE, started_on=dt.date(2026, 5, 1), ended_on=dt.date(2026, 5, 20))
    factories.make_phase(ended, Phase.SUBACUTE, started_on=dt.date(2026, 5, 20))
    calm = factories.make_client(therapists=[therapist], last_name="Calm")
    factories.make_phase(calm, Phase.REMISSION, started_on=dt.date(2026, 1, 1))
    archived = factories.make_client(therapists=[therapist], last_name="Archived", archived_at=NOW)
    factories.make_phase(archived, Phase.ACUTE_FLARE, started_on=dt.date(2026, 6, 1))

    def session(when: dt.datetime, *, signed: bool = True, reason: str = "") -> None:
        factories.make_session(calm, therapist, started_at=when, signed=signed, safety_override_reason=reason)

    # This week: from Monday 00:00 up to, not including, the next Monday.
    session(at(dt.date(2026, 6, 14), 23.99))
    session(at(dt.date(2026, 6, 15)))
    session(at(dt.date(2026, 6, 19), 10))
    session(at(dt.date(2026, 6, 22)))
    # Drafts: one older than 7 days, one younger; an old signed session is not a draft.
    session(NOW - dt.timedelta(days=8), signed=False)
    session(NOW - dt.timedelta(days=6), signed=False)
    session(NOW - dt.timedelta(days=30))
    # Saved over a safety stop: the month's first and last moments count, the day before and an empty reason not.
    session(at(dt.date(2026, 5, 31), 23.99), reason="Client insisted after a talk with her neurologist.")
    session(at(dt.date(2026, 6, 1)), reason="Cleared by her physician on the phone this morning.")
    session(at(dt.date(2026, 6, 30), 23.99), reason="Agreed with the client, light touch only.")
    return {"flare": flare}


@pytest.mark.django_db
def test_glance_counts_each_figure_within_its_bounds(practice):
    glance = practice_glance(now=NOW)
    assert glance.clients_in_flare == 1  # the archived client's flare and the ended flare do not count
    assert glance.sessions_this_week == 2
    assert glance.overdue_drafts == 1
    assert glance.overrides_this_month == 2
    assert glance.week == (at(dt.date(2026, 6, 15)), at(dt.date(2026, 6, 22)))
    assert glance.month == (at(dt.date(2026, 6, 1)), at(dt.date(2026, 7, 1)))


@pytest.mark.django_db
def test_glance_is_four_queries(practice, django_assert_num_queries):
    with django_assert_num_queries(4):
        practice_glance(now=NOW)


def _figures(html: str) -> dict[str, tuple[int, str]]:
    found = re.findall(
        r'<a href="([^"]+)"><span class="practice-glance-count">(\d+)</span> '
        r'<span class="practice-glance-label">([^<]+)</span>',
        html,
    )
    return {label: (int(count), url.replace("&amp;", "&")) for url, count, label in found}


def _result_rows(html: str) -> int:
    table = html.split('id="result_list"', 1)[1].split("</table>", 1)[0]
    return table.count("<tr") - 1  # less the header row


@pytest.mark.django_db
def test_owner_sees_the_practice_at_a_glance_and_each_figure_opens_its_rows(client, owner, practice):
    client.force_login(owner)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("admin:index")).content.decode()
        figures = _figures(html)
        assert {label: count for label, (count, _url) in figures.items()} == {
            "clients in an acute flare now": 1,
            "sessions this week": 2,
            "drafts older than 7 days, not yet signed": 1,
            "sessions saved over a safety stop this month": 2,
        }
        for label, (count, url) in figures.items():
            listed = client.get(url)
            assert listed.status_code == 200, label
            assert _result_rows(listed.content.decode()) == count, label
    assert 'href="/admin/outcomes/">Outcomes report</a>: no client finished a course of 6 treatments' in html


@pytest.mark.django_db
def test_index_lists_records_then_security_and_history_in_plain_words(client, owner):
    client.force_login(owner)
    html = client.get(reverse("admin:index")).content.decode()
    for plain in (
        "Clients",
        "MS phases",
        "Treatment sessions",
        "Techniques",
        "Sign-in lockouts",
        "Two-factor devices: authenticator apps",
        "Two-factor devices: recovery codes",
        "Audit trail",
        "Change history: treatment sessions",
    ):
        assert f">{plain}</a>" in html, plain
    for engineers_words in ("AXES", "Access attempts", "OTP_STATIC", "OTP_TOTP", "Historical treatment sessions"):
        assert engineers_words not in html, engineers_words
    sections = [html.index(f'<span class="section">{name}</span>') for name in ("Records", "Security", "History")]
    assert sections == sorted(sections)
    assert html.index("The practice at a glance") < sections[0]


@pytest.mark.django_db
def test_sidebar_uses_the_same_sections_and_an_app_page_still_opens(client, owner):
    client.force_login(owner)
    changelist = client.get(reverse("admin:clients_client_changelist")).content.decode()
    assert ">Sign-in lockouts</a>" in changelist and "Access attempts" not in changelist
    app_page = client.get(reverse("admin:app_list", args=["clients"]))
    assert app_page.status_code == 200
    assert ">MS phases</a>" in app_page.content.decode()


@pytest.mark.django_db
def test_index_query_count_does_not_grow_with_the_practice(client, owner, therapist, practice):
    client.force_login(owner)
    client.get(reverse("admin:index"))  # warm the session and the content types
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("admin:index"))
    calm = factories.make_client(therapists=[therapist])
    for days in range(1, 40):
        factories.make_session(calm, therapist, started_at=NOW - dt.timedelta(days=days), signed=days % 2 == 0)
        factories.make_phase(factories.make_client(), Phase.ACUTE_FLARE)
    with CaptureQueriesContext(connection) as big:
        client.get(reverse("admin:index"))
    assert len(big) == len(small) == INDEX_QUERIES


@pytest.mark.django_db
def test_glance_is_shown_to_owners_only(client, practice):
    staff = factories.make_user("deskstaff", is_staff=True)  # a staff account without the owner's role
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "The practice at a glance" not in response.content.decode()


@pytest.mark.django_db
def test_glance_counts_a_stop_a_correction_was_saved_over_once(client_a, therapist):
    """As the report's therapists table: an override reason of the session's own or a correction's, once."""
    neck = [("swedish", "neck", "light")]
    corrected, both, plain = (
        factories.make_session(
            client_a, therapist, started_at=at(dt.date(2026, 6, day), 10), signed=True, uses=neck, **own_reason
        )
        for day, own_reason in ((2, {}), (3, {"safety_override_reason": OWN_REASON}), (4, {}))
    )
    with time_machine.travel(NOW, tick=False):
        assert practice_glance(now=NOW).overrides_this_month == 1
        hot_stone = [PlannedUse(factories.technique("hot-stone"), "lower_back", "light")]
        for session in (corrected, both):
            services.session_amend(
                session=session,
                author=therapist,
                reason="Forgot a row.",
                changes={},
                uses=hot_stone,
                safety_override_reason=CORRECTION_REASON,
            )
        services.session_amend(session=plain, author=therapist, reason="Typo", changes={"pain_after": 2})
        assert practice_glance(now=NOW).overrides_this_month == 2


@pytest.fixture
def courses(client_a, client_b, therapist, other_therapist):
    """Two courses of 6 treatments in the 12 months to NOW: A's pain 7 -> 4 (better), fatigue 7 -> 7; B's pain
    5 -> 6, fatigue 8 -> 5 (better). A third client's course ended before the 12 months began."""
    first = dt.date(2026, 1, 5)
    weekly(client_a, therapist, first, 6, pain=(7, 5), fatigue=(7, 6))
    visit(client_a, therapist, first + dt.timedelta(days=42), pain=(4, 3), fatigue=(7, 6))
    weekly(client_b, other_therapist, first, 6, pain=(5, 5), fatigue=(8, 7))
    visit(client_b, other_therapist, first + dt.timedelta(days=42), pain=(6, 6), fatigue=(5, 5))
    earlier = factories.make_client(therapists=[therapist])
    weekly(earlier, therapist, dt.date(2025, 3, 3), 7, pain=(8, 2), fatigue=(8, 2))
    rebuild(client_a, client_b, earlier)


HEADLINE = (
    'href="/admin/outcomes/">Outcomes report</a>: 2 clients finished a course of 6 treatments in the last 12 months;'
    " pain lower by 2 points or more for 1 (50%), fatigue for 1 (50%).</p>"
)


@pytest.mark.django_db
def test_owner_sees_the_outcomes_headline_the_report_gives_and_it_is_cached(
    client, owner, courses, django_assert_num_queries
):
    client.force_login(owner)
    with time_machine.travel(NOW, tick=False):
        client.get(reverse("admin:practice_auditevent_changelist"))  # warm the session and the content types
        with django_assert_num_queries(INDEX_QUERIES + HEADLINE_QUERIES):
            first = client.get(reverse("admin:index")).content.decode()
        with django_assert_num_queries(INDEX_QUERIES):
            again = client.get(reverse("admin:index")).content.decode()
        report = client.get(reverse("outcomes:report")).content.decode()  # its defaults: the last 12 months, 6
    assert HEADLINE in first and HEADLINE in again
    assert outcomes_headline(NOW.date()) == Headline(
        start=dt.date(2025, 6, 18),
        end=dt.date(2026, 6, 17),
        treatments=6,
        clients=2,
        pain_improved=1,
        pain_share=0.5,
        fatigue_improved=1,
        fatigue_share=0.5,
    )
    assert "2 clients finished a course." in report
    assert "Pain was lower by 2 points or more for 1 (50%),\n    fatigue for 1 (50%)." in report


@pytest.mark.django_db
def test_the_cached_headline_is_forgotten_once_a_correction_is_committed(
    client, owner, client_a, therapist, courses, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with time_machine.travel(NOW, tick=False):
        assert cached_outcomes_headline().fatigue_improved == 1
        baseline = TreatmentSession.objects.filter(client=client_a).order_by("started_at").first()
        with django_capture_on_commit_callbacks(execute=False) as waiting:
            services.session_amend(session=baseline, author=therapist, reason="Misread", changes={"fatigue_before": 9})
        # Rewritten but not yet committed: the cached figures stand (another request still sees the old rows).
        assert cached_outcomes_headline().fatigue_improved == 1
        for callback in waiting:
            callback()
        # A's fatigue now 9 -> 7: better by 2, as B's.
        assert cached_outcomes_headline().fatigue_improved == 2
        html = client.get(reverse("admin:index")).content.decode()
    assert "fatigue for 2 (100%)." in html
