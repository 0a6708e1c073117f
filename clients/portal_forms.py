"""The client's "How I feel today" form, and the one write it makes."""

import datetime as dt

from django import forms
from django.db import transaction
from django.utils import timezone

from clients.models import Client, SelfReport

SCORE_CHOICES = [(n, str(n)) for n in range(11)]


class ScoreField(forms.TypedChoiceField):
    """A 0-10 rating drawn as eleven large buttons (radio inputs under the hood, so keyboards work)."""

    def __init__(self, *, what: str, **kwargs):
        message = f"Choose a number for your {what} today, from 0 to 10."
        super().__init__(
            choices=SCORE_CHOICES,
            coerce=int,
            widget=forms.RadioSelect(attrs={"class": "btn-check"}),
            error_messages={"required": message, "invalid_choice": message},
            **kwargs,
        )


class SelfReportForm(forms.Form):
    pain = ScoreField(
        what="pain",
        label="Pain today",
        help_text="0 means no pain, 10 the worst pain you can imagine.",
    )
    fatigue = ScoreField(
        what="fatigue",
        label="Fatigue (tiredness) today",
        help_text="0 means not tired at all, 10 the worst fatigue you can imagine.",
    )
    note = forms.CharField(
        label="Anything you want to add (optional)",
        required=False,
        max_length=SelfReport._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example what helped, or what made it harder.",
    )

    @classmethod
    def for_today(cls, existing: SelfReport | None) -> "SelfReportForm":
        """An unbound form, filled in with today's entry if the client already made one."""
        if existing is None:
            return cls()
        return cls(initial={"pain": existing.pain, "fatigue": existing.fatigue, "note": existing.note})


def self_report_record(
    *, client: Client, pain: int, fatigue: int, note: str = "", recorded_on: dt.date | None = None
) -> tuple[SelfReport, bool]:
    """Save how the client feels on a day; a second entry the same day replaces the first. Returns (entry, created)."""
    recorded_on = recorded_on or timezone.localdate()
    with transaction.atomic():
        return SelfReport.objects.update_or_create(
            client=client,
            recorded_on=recorded_on,
            defaults={"pain": pain, "fatigue": fatigue, "note": note.strip()},
        )


def todays_self_report(client: Client) -> SelfReport | None:
    # order_by("pk"): the model's default ordering goes through the client's name, a needless join.
    return SelfReport.objects.for_client(client).filter(recorded_on=timezone.localdate()).order_by("pk").first()
