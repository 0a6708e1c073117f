"""The client's "How I feel today" form, and its second step when a symptom is new or worse."""

from django import forms

from clients.models import SelfReport
from clients.relapse import FOLLOW_UP_FIELDS, Answer, SinceLastRelapse
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
    new_or_worse_symptom = forms.TypedChoiceField(
        label="Is any MS symptom new, or worse than usual? (optional)",
        help_text="If yes, the next screen asks a few questions that help tell a relapse from a passing flare-up.",
        choices=[("no", "No"), ("yes", "Yes")],
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
        error_messages={"invalid_choice": "Choose yes or no, or leave it."},
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
        symptom = None if existing.new_or_worse_symptom is None else ("yes" if existing.new_or_worse_symptom else "no")
        return cls(
            initial={
                "pain": existing.pain,
                "fatigue": existing.fatigue,
                "note": existing.note,
                "new_or_worse_symptom": symptom,
            }
        )


def _follow_up(label: str, choices, help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        help_text=help_text,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose one answer.", "invalid_choice": "Choose one answer."},
    )


class RelapseCheckForm(forms.Form):
    """The second step of "How I feel today" when a symptom is new or worse (clients/relapse.py, docs/relapse.md)."""

    lasted_over_24_hours = _follow_up(
        "Has it lasted more than 24 hours?",
        [(Answer.YES, "Yes"), (Answer.NO, "No, it passed within a day"), (Answer.UNSURE, "Not sure yet")],
    )
    days_since_last_relapse_began = _follow_up("When did your last relapse begin?", SinceLastRelapse.choices)
    fever_or_infection = _follow_up(
        "Do you have a fever or an infection?",
        [(Answer.YES, "Yes"), (Answer.NO, "No"), (Answer.UNSURE, "Not sure")],
        help_text="For example a cold, flu, or a urine infection (burning or needing to go often).",
    )
    explained_by_heat = _follow_up(
        "Did it come on with heat and ease when you cooled down?",
        [(Answer.YES, "Yes"), (Answer.NO, "No"), (Answer.UNSURE, "Not sure")],
        help_text="For example hot weather, a hot bath or shower, or exercise.",
    )

    @classmethod
    def for_report(cls, report: SelfReport) -> "RelapseCheckForm":
        return cls(initial={name: getattr(report, name) for name in FOLLOW_UP_FIELDS if getattr(report, name)})
