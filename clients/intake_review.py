"""The therapist's side of the client's intake: the review that takes answers into the record, and reported relapses.

The review (``intake_differences``, ``intake_accept``): each answer the record also holds is shown beside the
record's value; the therapist ticks the differences to accept, nothing by default. Accepted values are written to
the Client in one transaction, its change history naming the intake ("Accepted from intake #12"), and the intake
becomes reviewed (who, when, which answers: ``clients.intake.intake_review``). Nothing the client types reaches
the record any other way.

A reported relapse is a check-in that read as a possible relapse (``SelfReport.relapse_reported_at``: when it
first did, kept if the answers change) or an intake answering yes to new or worse symptoms, in the last
RELAPSE_WINDOW. It stays a stop (sessions/safety.py ``relapse_reported``) until the therapist records the phase
after it: a ``DiseasePhase`` recorded later (an acute flare, or whatever phase it is),
or a ``RelapseDismissal``: "not a relapse", with why. A later report is a stop again. The facts are read with
the client in one query (``with_relapse_facts``) and judged by the pure ``unsettled_relapse_report``.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, OuterRef, QuerySet, Subquery, Value, When
from django.utils import timezone

from clients.body_regions import region_labels
from clients.intake import YES_NO_FIELDS, intake_review
from clients.models import (
    INTAKE_PROFILE_FIELDS,
    ClearanceCondition,
    Client,
    DiseasePhase,
    Goal,
    Intake,
    IntakeStatus,
    MSType,
    RelapseDismissal,
    SelfReport,
)
from clients.relapse import Triage

RELAPSE_WINDOW = dt.timedelta(days=30)
DISMISSAL_REASON_MIN_LENGTH = 15

ClientsT = TypeVar("ClientsT", bound=QuerySet[Client])


# The review -------------------------------------------------------------------------------------------------

# Contacts: each part of the answer and the Client field it sets.
CONTACTS = {
    "neurologist_contact": {"name": "neurologist_name", "phone": "neurologist_phone"},
    "emergency_contact": {
        "name": "emergency_contact_name",
        "relationship": "emergency_contact_relationship",
        "phone": "emergency_contact_phone",
    },
}
LABELS = {
    "ms_type": "MS type",
    "diagnosis_year": "Year of diagnosis",
    "heat_sensitive": "Heat-sensitive",
    "cold_sensitive": "Cold-sensitive",
    "conditions_needing_clearance": "Conditions needing a physician's clearance",
    "reduced_sensation_regions": "Regions with reduced sensation",
    "pressure_sore_regions": "Regions with pressure sores",
    "goals": "What massage should help with",
    "neurologist_contact": "Neurologist",
    "emergency_contact": "Emergency contact",
    "new_or_worse_symptoms_30_days": "New or worse symptoms in the last 30 days",
    "medications": "Medications",
    "recent_injury_or_surgery": "Recent injury or surgery",
    "pregnant": "Pregnant",
}
REGION_FIELDS = ("reduced_sensation_regions", "pressure_sore_regions")
# Answers that say "I don't know": never offered over what the record holds.
_NO_ANSWER = (None, "", MSType.UNKNOWN)


@dataclass(frozen=True)
class Difference:
    """One answer beside the record: ``offered`` when it differs and may be accepted."""

    field: str
    label: str
    said: Any
    recorded: Any
    offered: bool

    @property
    def is_regions(self) -> bool:
        return self.field in REGION_FIELDS

    @property
    def said_nothing(self) -> bool:
        """The client gave no answer to take ("I don't know", "I'm not sure", left empty): nothing to accept."""
        return _said_nothing(self.said)

    @property
    def said_text(self) -> str:
        return answer_text(self.field, self.said)

    @property
    def recorded_text(self) -> str:
        return answer_text(self.field, self.recorded)


# Intake answers the record holds under the same name, then the contacts.
REVIEWABLE = INTAKE_PROFILE_FIELDS + tuple(CONTACTS)


def _recorded(client: Client, field: str) -> Any:
    if field in CONTACTS:
        return {part: getattr(client, name) for part, name in CONTACTS[field].items()}
    return getattr(client, field)


def _same(field: str, said: Any, recorded: Any) -> bool:
    if isinstance(said, list) and isinstance(recorded, list):
        return set(said) == set(recorded)
    return said == recorded


def intake_differences(intake: Intake, client: Client) -> list[Difference]:
    """Every reviewable answer of the intake beside the record's value, in the intake's order."""
    rows = []
    for field in REVIEWABLE:
        if field not in intake.answers:
            continue
        said, recorded = intake.answers[field], _recorded(client, field)
        offered = not _said_nothing(said) and not _same(field, said, recorded)
        rows.append(Difference(field, LABELS[field], said, recorded, offered))
    return rows


def _said_nothing(said: Any) -> bool:
    return said in _NO_ANSWER or (isinstance(said, dict) and not any(said.values()))


def intake_only_answers(intake: Intake) -> list[tuple[str, str]]:
    """What the intake says that the record does not hold (medications, pregnancy, ...), to read."""
    fields = ("new_or_worse_symptoms_30_days", "medications", "recent_injury_or_surgery", "pregnant")
    return [(LABELS[f], answer_text(f, intake.answers[f])) for f in fields if f in intake.answers]


def answer_text(field: str, value: Any) -> str:
    """An answer or a record value in words."""
    # None is "I'm not sure" for a yes / no question; a question not reached has no key at all.
    if value is None and field in YES_NO_FIELDS:
        return "Not sure"
    if value is None or value == "":
        return "Not answered" if value is None else "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field == "ms_type":
        return MSType(value).label if value in MSType.values else str(value)
    if field in REGION_FIELDS:
        return ", ".join(region_labels(value)) or "None"
    if field in ("conditions_needing_clearance", "goals"):
        labels = dict(ClearanceCondition.choices if field != "goals" else Goal.choices)
        return ", ".join(str(labels.get(code, code)) for code in value) or "None"
    if isinstance(value, dict):
        return " · ".join(part for part in value.values() if part) or "—"
    return str(value)


def intake_accept(*, intake: Intake, reviewed_by: User, accepted_fields: Iterable[str]) -> Intake:
    """Take the accepted answers into the client's health profile and mark the intake reviewed, in one transaction.

    Only offered differences can be accepted (ValidationError otherwise, nothing saved). The client's change
    history names the intake; an intake reviewed with nothing accepted leaves the record as it was.
    """
    accepted = list(dict.fromkeys(accepted_fields))
    with transaction.atomic():
        # Lock the intake: two therapists reviewing at once must not both apply it.
        locked = Intake.objects.select_for_update().select_related("client").get(pk=intake.pk)
        if locked.status != IntakeStatus.SUBMITTED:
            raise ValidationError("This intake has been reviewed already.", code="not_submitted")
        client = locked.client
        client.ensure_editable()
        offered = {row.field: row for row in intake_differences(locked, client) if row.offered}
        unknown = sorted(set(accepted) - set(offered))
        if unknown:
            raise ValidationError(
                f"These answers are not differences to accept: {', '.join(unknown)}.", code="not_offered"
            )
        if accepted:
            for field in accepted:
                _apply(client, field, offered[field].said)
            client.full_clean()
            client._change_reason = f"Accepted from intake #{locked.pk}"  # type: ignore[attr-defined]  # history
            client._history_user = reviewed_by  # type: ignore[attr-defined]  # django-simple-history reads it
            client.save()
        reviewed = intake_review(intake=locked, reviewed_by=reviewed_by, accepted_fields=accepted)
    return reviewed


def _apply(client: Client, field: str, value: Any) -> None:
    if field in CONTACTS:
        for part, name in CONTACTS[field].items():
            setattr(client, name, value.get(part, ""))
    else:
        setattr(client, field, list(value) if isinstance(value, list) else value)


# Reported relapses ------------------------------------------------------------------------------------------


def with_relapse_facts(clients: ClientsT, *, now: dt.datetime | None = None) -> ClientsT:
    """Annotate what ``unsettled_relapse_report`` needs: the newest reports in the window and the newest settling.

    Four correlated subqueries, each a probe of an index led by the client: no extra query per page.
    """
    now = now or timezone.now()
    since_day = timezone.localdate(now) - RELAPSE_WINDOW
    # When the check-in first read as a possible relapse, not updated_at: re-saving the day is no new report, and a
    # changed answer leaves the report to be settled (clients/services.py ``_reports_relapse``).
    check_ins = SelfReport.objects.filter(
        client=OuterRef("pk"), relapse_reported_at__isnull=False, recorded_on__gte=since_day
    ).order_by("-relapse_reported_at")
    intakes = Intake.objects.filter(
        client=OuterRef("pk"),
        status__in=[IntakeStatus.SUBMITTED, IntakeStatus.REVIEWED],
        submitted_at__gte=now - RELAPSE_WINDOW,
        answers__new_or_worse_symptoms_30_days=True,
    ).order_by("-submitted_at")
    phases = DiseasePhase.objects.filter(client=OuterRef("pk")).order_by("-created_at")
    dismissals = RelapseDismissal.objects.filter(client=OuterRef("pk")).order_by("-dismissed_at")
    return clients.annotate(
        relapse_check_in_at=Subquery(check_ins.values("relapse_reported_at")[:1]),
        relapse_intake_at=Subquery(intakes.values("submitted_at")[:1]),
        phase_recorded_at=Subquery(phases.values("created_at")[:1]),
        relapse_dismissed_at=Subquery(dismissals.values("dismissed_at")[:1]),
    )


def with_check_in_triage(clients: ClientsT, *, now: dt.datetime | None = None) -> ClientsT:
    """Annotate ``check_in_triage`` (in words: "possible relapse", ...) and ``check_in_triage_on`` (its day).

    The newest check-in of the last RELAPSE_WINDOW whose new or worse symptom was classified (clients/relapse.py),
    whatever the classification: the therapist sees what the client was told. Two probes of the client's
    check-ins by day (self_report_one_per_day): no extra query.
    """
    since_day = timezone.localdate(now or timezone.now()) - RELAPSE_WINDOW
    classified = (
        SelfReport.objects.filter(client=OuterRef("pk"), recorded_on__gte=since_day)
        .exclude(triage="")
        .order_by("-recorded_on")
    )
    words = Case(*(When(triage=value, then=Value(str(label).lower())) for value, label in Triage.choices))
    return clients.annotate(
        check_in_triage=Subquery(classified.annotate(words=words).values("words")[:1]),
        check_in_triage_on=Subquery(classified.values("recorded_on")[:1]),
    )


def unsettled_relapse_report(
    *,
    check_in_at: dt.datetime | None,
    intake_at: dt.datetime | None,
    phase_recorded_at: dt.datetime | None,
    dismissed_at: dt.datetime | None,
) -> dt.datetime | None:
    """When the newest relapse report was made, if no phase or dismissal was recorded after it; else None. Pure."""
    reports = [t for t in (check_in_at, intake_at) if t is not None]
    if not reports:
        return None
    reported = max(reports)
    settled = [t for t in (phase_recorded_at, dismissed_at) if t is not None]
    return reported if not settled or max(settled) < reported else None


def relapse_reported_at(client: Client) -> dt.datetime | None:
    """The unsettled relapse report of a client annotated by ``with_relapse_facts``, or None."""
    return unsettled_relapse_report(
        check_in_at=getattr(client, "relapse_check_in_at", None),
        intake_at=getattr(client, "relapse_intake_at", None),
        phase_recorded_at=getattr(client, "phase_recorded_at", None),
        dismissed_at=getattr(client, "relapse_dismissed_at", None),
    )


def relapse_dismiss(*, client: Client, dismissed_by: User, reason: str) -> RelapseDismissal:
    """Record that the relapse reports so far are not a relapse, and why (a sentence)."""
    client.ensure_editable()
    text = " ".join(reason.split())
    if len(text) < DISMISSAL_REASON_MIN_LENGTH:
        raise ValidationError(
            {"reason": "Say in a sentence why this is not a relapse (for example, what the MS team said)."},
            code="short_reason",
        )
    dismissal = RelapseDismissal(client=client, reason=text, dismissed_by=dismissed_by)
    dismissal.full_clean()
    dismissal.save()
    return dismissal
