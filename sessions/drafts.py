"""How old an unsigned draft is: one answer for the therapist's "Your drafts to sign" (workspace) and the owner's
sessions list (the admin), which sits below the workspace and so cannot borrow its answer."""

import datetime as dt

from django.utils import timezone

from practice.dates import local_midnight

# A draft older than this many days, counted as its age is shown (calendar days), is overdue for signing.
DRAFT_OVERDUE_DAYS = 7


def draft_age_days(started_at: dt.datetime, *, today: dt.date | None = None) -> int:
    """Calendar days from the session's day to ``today`` (default: today), both in the practice's time zone.

    By day, not by 24 hours: a note is best signed the day it is written, so a session yesterday at 23:00 is a
    day old at 08:00 this morning. 0 is a draft from today.
    """
    return ((today or timezone.localdate()) - timezone.localdate(started_at)).days


def draft_age_label(days: int) -> str:
    """An age from ``draft_age_days`` in words: "from today", "1 day old", "9 days old"."""
    if days < 1:
        return "from today"
    return f"{days} day{'' if days == 1 else 's'} old"


def overdue_before(today: dt.date | None = None) -> dt.datetime:
    """Drafts begun before this moment are overdue: more than DRAFT_OVERDUE_DAYS calendar days old (today's
    ``draft_age_days`` above it), so the overdue count and the age shown never disagree."""
    return local_midnight((today or timezone.localdate()) - dt.timedelta(days=DRAFT_OVERDUE_DAYS))
