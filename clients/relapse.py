"""Relapse or pseudo-relapse: what the daily check-in asks when a symptom is new or worse, and how it is read.

One pure function, :func:`classify_relapse`, turns the client's answers into a prompt, never a diagnosis:

- ``possible_relapse``: every criterion of a relapse is met: the new or worse symptom has lasted more than
  24 hours, began 30 days or more after the last relapse began, and neither fever/infection nor heat explains
  it. The client is told to contact their MS team; the therapist sees a stop until a phase is recorded.
- ``likely_pseudo_relapse``: something points away from a relapse: the symptom passed within a day, or a
  fever, an infection or heat explains it. Heat, infection and stress cause pseudo-relapses that pass once
  the trigger is gone.
- ``unclear``: neither (an answer is "not sure", or the symptom began within 30 days of the last relapse,
  when it may belong to that relapse rather than start a new one).
- blank: no new or worse symptom, so nothing to classify.

The criteria and their sources are in docs/relapse.md; tests/clients/test_relapse.py holds the table.
The answers are stored on ``clients.SelfReport`` (the choices below are its field choices).
"""

from django.db import models


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNSURE = "unsure", "Not sure"


class SinceLastRelapse(models.TextChoices):
    """How long ago the client's last relapse began (never having had one counts as 30 days or more)."""

    THIRTY_OR_MORE = "30_or_more", "30 days or more ago, or never"
    UNDER_THIRTY = "under_30", "Less than 30 days ago"
    DONT_KNOW = "dont_know", "I don't know"


class Triage(models.TextChoices):
    POSSIBLE_RELAPSE = "possible_relapse", "Possible relapse"
    LIKELY_PSEUDO_RELAPSE = "likely_pseudo_relapse", "Likely pseudo-relapse"
    UNCLEAR = "unclear", "Unclear"


# The SelfReport fields asked only when a symptom is new or worse, in the order the check-in asks them.
FOLLOW_UP_FIELDS = ("lasted_over_24_hours", "days_since_last_relapse_began", "fever_or_infection", "explained_by_heat")


def classify_relapse(
    *,
    new_or_worse_symptom: bool | None,
    lasted_over_24_hours: str = "",
    days_since_last_relapse_began: str = "",
    fever_or_infection: str = "",
    explained_by_heat: str = "",
) -> str:
    """The triage of one check-in: a ``Triage`` value, or "" when no symptom is new or worse.

    A missing answer counts as "not sure". Evidence of a pseudo-relapse wins over uncertainty elsewhere:
    a symptom that passed within a day is not a relapse by definition, and a trigger that explains it makes
    a pseudo-relapse the likelier reading. A possible relapse needs every criterion answered so.
    """
    if not new_or_worse_symptom:
        return ""
    if fever_or_infection == Answer.YES or explained_by_heat == Answer.YES or lasted_over_24_hours == Answer.NO:
        return Triage.LIKELY_PSEUDO_RELAPSE
    if (
        lasted_over_24_hours == Answer.YES
        and days_since_last_relapse_began == SinceLastRelapse.THIRTY_OR_MORE
        and fever_or_infection == Answer.NO
        and explained_by_heat == Answer.NO
    ):
        return Triage.POSSIBLE_RELAPSE
    return Triage.UNCLEAR


# What the client reads after saving a check-in with that triage. Plain words; never a diagnosis.
CLIENT_MESSAGES = {
    Triage.POSSIBLE_RELAPSE: (
        "What you describe could be a relapse. Please contact your MS team (your MS nurse or neurologist) "
        "today, and tell your therapist before your next massage. This is not a diagnosis: only your MS team "
        "can tell."
    ),
    Triage.LIKELY_PSEUDO_RELAPSE: (
        "This sounds more like a pseudo-relapse: symptoms that flare with heat, a fever, an infection or "
        "stress usually settle within a day once the cause is gone. If it has not settled by then, if it is "
        "severe, or if you are worried, contact your MS team. This is not a diagnosis."
    ),
    Triage.UNCLEAR: (
        "From these answers we cannot tell whether this is a relapse. If the symptom lasts more than 24 "
        "hours, if it is severe, or if you are worried, contact your MS team. This is not a diagnosis."
    ),
}


def client_message(triage: str) -> str:
    """The plain message for a triage value ("" for none)."""
    return CLIENT_MESSAGES.get(Triage(triage), "") if triage in Triage.values else ""
