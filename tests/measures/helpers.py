"""Instruments and questionnaires for the measures tests."""

import datetime as dt

from django.utils import timezone

from measures.models import EnteredIn, Instrument, QuestionnaireResponse
from measures.services import questionnaire_answer, questionnaire_start, questionnaire_submit

OPTIONS = [{"value": v, "label": label} for v, label in enumerate(["None", "Some", "A lot"])]


def make_instrument(code: str = "tri3", **fields) -> Instrument:
    """A test-only instrument: three items, 0-2 each, summed to 0-6, MCID 2."""
    fields.setdefault("name", "Three-item test scale")
    fields.setdefault("short_name", "TRI-3")
    fields.setdefault("recall_period", "the past week")
    fields.setdefault(
        "items", [{"link_id": f"{code}-{n}", "text": f"Test question {n}.", "options": OPTIONS} for n in (1, 2, 3)]
    )
    fields.setdefault("scoring", "sum")
    fields.setdefault("score_min", 0)
    fields.setdefault("score_max", 6)
    fields.setdefault("mcid", 2)
    fields.setdefault("source", "Made up for the tests.")
    return Instrument.objects.create(code=code, **fields)


def mfis5() -> Instrument:
    return Instrument.objects.get(code="mfis5")


def submitted(
    client,
    instrument: Instrument,
    values,
    *,
    by,
    days_ago: int = 0,
    at: dt.datetime | None = None,
    entered_in=EnteredIn.PORTAL,
):
    """A submitted questionnaire with ``values`` in item order: through the services today, or created as it
    was stored ``days_ago`` days ago or ``at`` a moment (a submitted row cannot be changed afterwards, not even to
    backdate it)."""
    if days_ago or at:
        moment = at or timezone.now() - dt.timedelta(days=days_ago)
        answers = {item["link_id"]: value for item, value in zip(instrument.items, values, strict=True)}
        return QuestionnaireResponse.objects.create(
            client=client,
            instrument=instrument,
            status="submitted",
            started_at=moment,
            submitted_at=moment,
            answers=answers,
            score=instrument.score(answers),
            entered_by=by,
            entered_in=entered_in,
        )
    response = questionnaire_start(client=client, instrument=instrument, entered_by=by, entered_in=entered_in)
    for item, value in zip(instrument.items, values, strict=True):
        questionnaire_answer(response=response, link_id=item["link_id"], value=value)
    return questionnaire_submit(response=response)


def ensure_instruments() -> None:
    """The seeded instruments, restored where a transactional test's flush removed them (browser tests)."""
    if not Instrument.objects.filter(code="mfis5").exists():
        from importlib import import_module

        from django.apps import apps

        import_module("measures.migrations.0002_seed_instruments").seed(apps, None)


def corrected(client, therapist, values=(3, 3, 3, 3, 3), *, reason: str = "Meant Rarely for question 2."):
    """A questionnaire the client submitted in the portal, then corrected by ``therapist`` (question 2 to 1)."""
    from measures.services import questionnaire_amend

    instrument = mfis5()
    response = submitted(client, instrument, list(values), by=client.user)
    questionnaire_amend(response=response, author=therapist, reason=reason, answers={instrument.items[1]["link_id"]: 1})
    return response
