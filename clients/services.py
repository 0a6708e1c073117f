"""Writes to a client's record: starting and ending disease phases, and how the client feels today."""

import datetime as dt
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Client, DiseasePhase, Phase, SelfReport
from clients.relapse import FOLLOW_UP_FIELDS, Triage, classify_relapse


def phase_start(*, client: Client, phase: str, started_on: dt.date, recorded_by: User, notes: str = "") -> DiseasePhase:
    """Start a new phase; the open one, if any, ends on the new start date (episodes may be adjacent).

    Raises ValidationError, with nothing saved, when the new phase would overlap an episode.
    """
    client.ensure_editable()
    with transaction.atomic():
        # Lock the client so two people starting a phase at once cannot both close the same open phase.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        current = DiseasePhase.objects.for_client(client).current().first()
        if current is not None:
            _close_for(current, phase=phase, started_on=started_on)
        new = DiseasePhase(client=client, phase=phase, started_on=started_on, notes=notes, recorded_by=recorded_by)
        new.full_clean()
        new.save()
    return new


def _close_for(current: DiseasePhase, *, phase: str, started_on: dt.date) -> None:
    since = f"{current.started_on:%d %b %Y}"
    if current.phase == phase:
        raise ValidationError(
            {"phase": f"The client is already in {Phase(phase).label.lower()}, since {since}."}, code="same_phase"
        )
    if started_on <= current.started_on:
        raise ValidationError(
            {
                "started_on": f"The current {current.get_phase_display().lower()} phase started on {since}; "
                "a new phase must start after that day."
            },
            code="overlap",
        )
    current.ended_on = started_on
    current.full_clean()
    current.save(update_fields=["ended_on"])


def phase_end(*, phase: DiseasePhase, ended_on: dt.date) -> DiseasePhase:
    """End the open phase on ``ended_on`` (the first day it no longer applies)."""
    phase.client.ensure_editable()
    if phase.ended_on is not None:
        raise ValidationError("This phase has already ended.", code="ended")
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": "A phase cannot end in the future."}, code="future")
    phase.ended_on = ended_on
    try:
        phase.full_clean()
    except ValidationError:
        phase.ended_on = None
        raise
    phase.save(update_fields=["ended_on"])
    return phase


def self_report_record(
    *,
    client: Client,
    pain: int,
    fatigue: int,
    note: str = "",
    recorded_on: dt.date | None = None,
    relapse_answers: Mapping[str, str] | None = None,
    new_or_worse_symptom: bool | None = None,
) -> tuple[SelfReport, bool]:
    """Save how the client feels on a day; a second entry the same day replaces the first. Returns (entry, created).

    When a symptom is new or worse, ``relapse_answers`` holds the follow-up answers (clients/relapse.py
    FOLLOW_UP_FIELDS) and the entry's triage is classified from them; otherwise they are cleared. The entry's
    ``relapse_reported_at`` is set when its triage becomes a possible relapse and is never cleared here.
    """
    recorded_on = recorded_on or timezone.localdate()
    with transaction.atomic():
        # Lock the day's entry: whether this save reports a relapse depends on what the entry said before.
        stored = (
            SelfReport.objects.select_for_update()
            .filter(client=client, recorded_on=recorded_on)
            .values("new_or_worse_symptom", "triage", *FOLLOW_UP_FIELDS)
            .first()
        ) or {}
        if new_or_worse_symptom and relapse_answers is None and stored.get("new_or_worse_symptom"):
            # Saving the day's scores again keeps the follow-up answers already given for the same symptom.
            relapse_answers = {field: stored[field] for field in FOLLOW_UP_FIELDS}
        follow_up = {field: "" for field in FOLLOW_UP_FIELDS}
        if new_or_worse_symptom:
            follow_up |= {field: (relapse_answers or {}).get(field, "") for field in FOLLOW_UP_FIELDS}
        triage = classify_relapse(new_or_worse_symptom=new_or_worse_symptom, **follow_up)
        values = {"pain": pain, "fatigue": fatigue, "note": note.strip(), "new_or_worse_symptom": new_or_worse_symptom}
        values |= follow_up | {"triage": triage}
        # Left out otherwise, so that update_or_create keeps the stored time (a settled report stays settled).
        if _reports_relapse(was=stored.get("triage", ""), triage=triage):
            values["relapse_reported_at"] = timezone.now()
        return SelfReport.objects.update_or_create(client=client, recorded_on=recorded_on, defaults=values)


def self_report_relapse_check(*, report: SelfReport, answers: Mapping[str, str]) -> SelfReport:
    """Save the answers to the new-or-worse-symptom questions on the day's entry, and classify them."""
    if not report.new_or_worse_symptom:
        raise ValidationError("These questions are for a symptom that is new or worse.", code="no_symptom")
    was = report.triage
    for field in FOLLOW_UP_FIELDS:
        setattr(report, field, answers.get(field, ""))
    report.triage = classify_relapse(
        new_or_worse_symptom=True, **{field: getattr(report, field) for field in FOLLOW_UP_FIELDS}
    )
    saved = [*FOLLOW_UP_FIELDS, "triage", "updated_at"]
    if _reports_relapse(was=was, triage=report.triage):
        report.relapse_reported_at = timezone.now()
        saved.append("relapse_reported_at")
    report.full_clean()
    report.save(update_fields=saved)
    return report


def _reports_relapse(*, was: str, triage: str) -> bool:
    """A check-in reports a relapse when its triage becomes a possible relapse; saving one again reports nothing.

    The time stays when the answers later change: the therapist settles a report by recording the phase, and
    the client's change of mind the same day does not settle it (clients/intake_review.py).
    """
    return triage == Triage.POSSIBLE_RELAPSE and was != Triage.POSSIBLE_RELAPSE
