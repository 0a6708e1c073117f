"""The range a trend report covers, as chosen on the page: presets, a custom range and its form.

A view reads the range from its GET parameters, then loads the report for it:

    form, trend_range = resolve_range(request.GET, today=timezone.localdate())
    report = trend_report(client, start=trend_range.start, end=trend_range.end)
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

RANGE_CHOICES = [
    ("3m", "Last 3 months"),
    ("1y", "Last year"),
    ("all", "All time"),
    ("custom", "Custom"),
]
DEFAULT_RANGE = "1y"
MIN_YEAR, MAX_YEAR = 1900, 2200


@dataclass(frozen=True)
class TrendRange:
    """The range a report covers: inclusive dates, None meaning open on that side."""

    key: str
    start: dt.date | None
    end: dt.date | None

    @property
    def label(self) -> str:
        if self.key != "custom":
            return dict(RANGE_CHOICES)[self.key]
        if self.start and self.end:
            return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"
        if self.start:
            return f"From {self.start:%-d %b %Y}"
        return f"Up to {self.end:%-d %b %Y}"

    def as_query(self) -> dict[str, str]:
        """GET parameters that select this range again (for the CSV link)."""
        query = {"range": self.key}
        if self.key == "custom":
            query.update(
                start=self.start.isoformat() if self.start else "", end=self.end.isoformat() if self.end else ""
            )
        return query


class TrendRangeForm(forms.Form):
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False, widget=forms.RadioSelect, label="Show")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_start(self) -> dt.date | None:
        return _plausible(self.cleaned_data["start"])

    def clean_end(self) -> dt.date | None:
        return _plausible(self.cleaned_data["end"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if data.get("range") == "custom" and "start" not in self.errors and "end" not in self.errors:
            if start is None and end is None:
                self.add_error("start", "Choose a start date, an end date or both for a custom range.")
            elif start and end and start > end:
                self.add_error("end", "The end date must be on or after the start date.")
        return data


def _plausible(day: dt.date | None) -> dt.date | None:
    # Far-off years are typing slips, and date arithmetic at year 9999 would overflow.
    if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
        raise forms.ValidationError(f"Choose a date between {MIN_YEAR} and {MAX_YEAR}.")
    return day


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _months_before(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def preset_range(key: str, today: dt.date) -> TrendRange:
    """The preset range ``key`` (3m, 1y or all) ending ``today``."""
    if key == "3m":
        return TrendRange(key, _months_before(today, 3), today)
    if key == "1y":
        return TrendRange(key, _years_before(today, 1), today)
    if key == "all":
        return TrendRange(key, None, None)
    raise ValueError(f"Unknown range {key!r}.")


def resolve_range(params: Mapping[str, str], *, today: dt.date) -> tuple[TrendRangeForm, TrendRange]:
    """The range asked for in GET parameters (range=3m|1y|all|custom, start, end).

    An invalid custom range leaves its errors on the returned form and falls back to DEFAULT_RANGE,
    so the page still shows something and says why.
    """
    data = {key: params.get(key, "") for key in ("range", "start", "end")}
    key = data["range"] if data["range"] in dict(RANGE_CHOICES) else DEFAULT_RANGE
    if key != "custom":
        # Dates only matter to a custom range: stale or garbled ones beside a preset are ignored.
        form = TrendRangeForm({"range": key})
        form.is_valid()
        return form, preset_range(key, today)
    form = TrendRangeForm(data)
    if not form.is_valid():
        return form, preset_range(DEFAULT_RANGE, today)
    return form, TrendRange(key, form.cleaned_data["start"], form.cleaned_data["end"])
