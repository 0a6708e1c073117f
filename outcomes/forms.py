"""The report's filters, from GET parameters: a bad value gets a message on its field and the default."""

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from clients.models import MSType, Phase
from outcomes.courses import TREATMENTS_DEFAULT, TREATMENTS_MAX, TREATMENTS_MIN
from outcomes.selectors import Filters
from practice.roles import THERAPIST

NO_PHASE = "none"


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months, ending today."""
    try:
        start = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 1, day=28)
    return start + dt.timedelta(days=1), today


def default_filters(today: dt.date) -> Filters:
    """The report's filters when none is given: the last 12 months, courses of TREATMENTS_DEFAULT treatments."""
    start, end = default_range(today)
    return Filters(start=start, end=end, treatments=TREATMENTS_DEFAULT)


class ReportFilterForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    ms_type = forms.ChoiceField(required=False, label="MS type", choices=[("", "All"), *MSType.choices])
    phase = forms.ChoiceField(
        required=False,
        label="Phase at the start",
        choices=[("", "All"), *Phase.choices, (NO_PHASE, "No phase recorded")],
    )
    therapist = forms.TypedChoiceField(required=False, label="Therapist", coerce=int, empty_value=None)
    treatments = forms.TypedChoiceField(
        required=False,
        label="Treatments in a course",
        coerce=int,
        empty_value=None,
        choices=[(n, str(n)) for n in range(TREATMENTS_MIN, TREATMENTS_MAX + 1)],
    )

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        self.today = timezone.localdate()
        start, end = default_range(self.today)
        data = data.copy()
        # Absent means the default range; present but empty means open on that side ("all time").
        data.setdefault("start", start.isoformat())
        data.setdefault("end", end.isoformat())
        data.setdefault("treatments", str(TREATMENTS_DEFAULT))
        super().__init__(data, *args, **kwargs)
        # Today's therapists, plus the user asked for: a course's first visit may have been logged by the owner or
        # by a therapist who has since left, and the filter must reach them (and show them selected). One query
        # either way; a value that is no user's id is not among the choices and gets the field's message.
        wanted = Q(groups__name=THERAPIST)
        asked = self.data.get("therapist", "")
        if asked.isascii() and asked.isdigit() and len(asked) < 19:  # an id a 64-bit integer holds
            wanted |= Q(pk=int(asked))
        therapists = User.objects.filter(wanted).distinct().order_by("first_name", "last_name", "username")
        therapist_field = self.fields["therapist"]
        assert isinstance(therapist_field, forms.TypedChoiceField)
        therapist_field.choices = [("", "All")] + [
            (user.pk, user.get_full_name() or user.username) for user in therapists
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date is before the start date; showing the last 12 months.")
        return cleaned

    def filters(self) -> Filters:
        """The filters to report with: each field's valid value, or its default where the value was bad."""
        self.is_valid()
        cleaned = self.cleaned_data
        default_start, default_end = default_range(self.today)
        bad = set(self.errors)
        start: dt.date | None = default_start
        end: dt.date | None = default_end
        if not bad & {"start", "end"}:
            start, end = cleaned.get("start"), cleaned.get("end")
        return Filters(
            start=start,
            end=end,
            treatments=TREATMENTS_DEFAULT if "treatments" in bad else cleaned.get("treatments") or TREATMENTS_DEFAULT,
            ms_type="" if "ms_type" in bad else cleaned.get("ms_type", ""),
            phase="" if "phase" in bad else cleaned.get("phase", ""),
            therapist=None if "therapist" in bad else cleaned.get("therapist"),
        )
