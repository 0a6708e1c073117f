"""The client's "How I feel today" form."""

from django import forms

from clients.models import SelfReport
from clients.scores import SCORE_CHOICES


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
