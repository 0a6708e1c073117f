"""Days and moments in the practice's time zone."""

import datetime as dt

from django.utils import timezone


def local_midnight(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the practice's time zone (aware)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
