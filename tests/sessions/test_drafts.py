"""How old a draft is: calendar days in the practice's time zone, one answer for the caseload and the admin."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sessions.drafts import DRAFT_OVERDUE_DAYS, draft_age_days, draft_age_label, overdue_before

LONDON = ZoneInfo("Europe/London")


def at(day: int, hour: int, minute: int = 0, *, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("started_at", "now", "days"),
    [
        (at(28, 23), at(29, 8), 1),  # yesterday evening, seen this morning: a day old, though not 24 hours
        (at(29, 0, 5), at(29, 23, 55), 0),  # earlier today: from today, though nearly 24 hours
        (at(26, 10), at(29, 9), 3),
        # Days, not 24-hour periods, across the clocks going back (25 October 2026 has 25 hours in London).
        (at(24, 23, month=10), at(26, 0, 30, month=10), 2),
        # The practice's day, not UTC's: 00:30 in London in summer is 23:30 the day before in UTC.
        (at(1, 0, 30, month=7), at(1, 22, month=7), 0),
    ],
)
def test_a_drafts_age_counts_calendar_days_in_the_practices_time_zone(started_at, now, days, settings):
    assert settings.TIME_ZONE == "Europe/London"
    with time_machine.travel(now, tick=False):
        assert draft_age_days(started_at) == days


def test_a_given_day_is_used_instead_of_today():
    assert draft_age_days(at(20, 12), today=dt.date(2026, 11, 29)) == 9


@pytest.mark.parametrize(("days", "words"), [(0, "from today"), (1, "1 day old"), (9, "9 days old")])
def test_a_drafts_age_in_words(days, words):
    assert draft_age_label(days) == words


@pytest.mark.parametrize(
    ("started_at", "overdue"),
    [
        (at(22, 8), False),  # 7 calendar days old at 09:00 on the 29th: shown as "7 days old", not overdue yet
        (at(21, 23, 59), True),  # 8 days old: overdue, however few hours past the 7 x 24
        (at(22, 0, 0), False),  # the first moment of the 7th day back
    ],
)
def test_overdue_means_older_than_seven_calendar_days_as_the_age_is_shown(started_at, overdue, settings):
    settings.TIME_ZONE = "Europe/London"
    with time_machine.travel(at(29, 9), tick=False):
        assert (started_at < overdue_before()) is overdue
        assert (draft_age_days(started_at) > DRAFT_OVERDUE_DAYS) is overdue
