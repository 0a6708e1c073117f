"""A session as corrected: its signed values with every amendment applied, for every page, file and report.

The signed row never changes (PostgreSQL triggers refuse it); an amendment stores what changed, by field, in
``SessionAmendment.changes`` (``sessions.models``: AMENDABLE_FIELDS, ``started_at`` included; TECHNIQUE_USES for
the technique rows; OVERRIDE_REASON when a corrected plan meets a safety stop). Everything that shows a session
reads it through here, so each shows the same corrected values and can say which were corrected:

- ``corrected(session) -> CorrectedSession``: one session. ``c.pain_after``, ``c.started_at``, ``c.uses`` are the
  corrected values; ``c.is_corrected("pain_after")`` and ``c.original("pain_after")`` say whether and from what.
  Reads the session's prefetched amendments when there are some, else one query.
- ``corrected_list(sessions)``: many, from ``TreatmentSession.objects.with_corrections()`` or
  ``with_corrections(queryset)`` (one query for all the
  amendments); the phase on a corrected date costs one more query for the whole list, only when a date was
  corrected.
- ``corrected_values(session) -> dict``: the corrected AMENDABLE_FIELDS (``started_at`` included) and
  TECHNIQUE_USES (rows as stored). For code that keeps figures derived from sessions (the outcomes report reads
  the corrected ``started_at`` here, or applies ``sessions.models.apply_amendments`` to ``values()`` rows).
- ``change_rows(changes)``: one amendment in words, ``(field label, from, to)``, for the session page and the admin.
- ``c.marked(name)``, ``c.marked_before_after("pain")``: a corrected value in words, marked "corrected" with the
  signed original a click away (the admin's lists, the client's admin page).
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst

from clients.body_regions import region_label
from clients.models import DiseasePhase, PhaseTimeline
from clients.selectors import phase_on
from sessions.models import (
    AMENDABLE_FIELDS,
    OVERRIDE_REASON,
    TECHNIQUE_USES,
    Pressure,
    ScoreChanges,
    SessionAmendment,
    Setting,
    Technique,
    TechniqueUse,
    TreatmentSession,
    TreatmentSessionQuerySet,
)
from sessions.safety import Finding, PlannedUse
from sessions.screening import screen_planned_session

# The words the therapist's form uses for each field; the rest take the model's verbose name.
FIELD_LABELS = {
    "started_at": "Date and time",
    "duration_minutes": "Duration (minutes)",
    "room_temperature_c": "Room temperature (°C)",
    "subjective": "S: what the client reports",
    "objective": "O: what you observed",
    "assessment": "A: your assessment",
    "plan": "P: plan",
    "client_summary": "Summary for the client",
    TECHNIQUE_USES: "Techniques",
    OVERRIDE_REASON: "Why go ahead despite the safety stop",
}


class CorrectedUse:
    """One technique row as it stands after the corrections (a signed row, or one from an amendment)."""

    def __init__(self, technique_id: int, technique: str, body_region: str, pressure: str):
        self.technique_id = technique_id
        self.technique = technique  # the technique's name
        self.body_region = body_region
        self.pressure = pressure

    @classmethod
    def of(cls, use: TechniqueUse) -> "CorrectedUse":
        return cls(use.technique_id, use.technique.name, use.body_region, use.pressure)

    @classmethod
    def stored(cls, row: Mapping[str, Any]) -> "CorrectedUse":
        return cls(int(row["technique"]), str(row["technique_name"]), str(row["body_region"]), str(row["pressure"]))

    def as_stored(self) -> dict[str, Any]:
        return {
            "technique": self.technique_id,
            "technique_name": self.technique,
            "body_region": self.body_region,
            "pressure": self.pressure,
        }

    @property
    def body_region_label(self) -> str:
        return region_label(self.body_region)

    @property
    def pressure_label(self) -> str:
        return _label(Pressure, self.pressure)

    def __str__(self) -> str:
        return f"{self.technique} on {self.body_region_label.lower()} ({self.pressure_label.lower()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CorrectedUse) and self.as_stored() == other.as_stored()

    def __hash__(self) -> int:
        return hash((self.technique_id, self.body_region, self.pressure))


class CorrectedSession(ScoreChanges):
    """A session as corrected. Attributes not corrected here (client, therapist, status...) are the session's own.

    Only the fields asked for are read, so a session loaded with ``defer()`` (the portal's) stays as loaded.
    """

    def __init__(self, session: TreatmentSession, amendments_oldest_first: Iterable[Mapping[str, Any]]):
        self.session = session
        # The latest correction of each field; the signed row holds the original.
        self.changes: dict[str, Any] = {}
        # How many corrections stand: a correction form opened before another one was saved would undo it unseen.
        self.amendments = 0
        for changes in amendments_oldest_first:
            self.changes.update(changes)
            self.amendments += 1
        self._phase: str | None = None
        self._phase_known = "started_at" not in self.changes and hasattr(session, "phase_on_date")
        if self._phase_known:
            self._phase = session.phase_on_date  # type: ignore[attr-defined]  # with_phase()

    def __getattr__(self, name: str) -> Any:
        # Called only for what the instance does not hold itself: the session's fields, corrected where amended.
        if name.startswith("_") or name in ("session", "changes"):
            raise AttributeError(name)
        if name in AMENDABLE_FIELDS or name == OVERRIDE_REASON:
            if name in self.changes:
                return _field_value(name, self.changes[name]["to"])
        return getattr(self.session, name)

    @property
    def pk(self) -> int:
        return self.session.pk

    @property
    def corrected_fields(self) -> list[str]:
        return list(self.changes)

    @property
    def any_corrected(self) -> bool:
        return bool(self.changes)

    def is_corrected(self, name: str) -> bool:
        return name in self.changes

    def original(self, name: str) -> Any:
        """The signed original's value of ``name`` (its technique rows for TECHNIQUE_USES)."""
        if name == TECHNIQUE_USES:
            return self.signed_uses
        return getattr(self.session, name)

    @property
    def signed_uses(self) -> list[CorrectedUse]:
        return [CorrectedUse.of(use) for use in self.session.technique_uses.all()]

    @property
    def uses(self) -> list[CorrectedUse]:
        """The technique rows as corrected (the signed rows, prefetched or one query, when never corrected)."""
        if TECHNIQUE_USES in self.changes:
            return [CorrectedUse.stored(row) for row in self.changes[TECHNIQUE_USES]["to"]]
        return self.signed_uses

    @property
    def technique_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(use.technique for use in self.uses))

    @property
    def local_started_at(self) -> dt.datetime:
        return timezone.localtime(self.started_at)

    @property
    def phase(self) -> str | None:
        """The client's phase on the (corrected) session date; one query unless ``corrected_list`` found it."""
        if not self._phase_known:
            self.set_phase(phase_on(self.session.client, timezone.localdate(self.started_at)))
        return self._phase

    def set_phase(self, phase: str | None) -> None:
        self._phase, self._phase_known = phase, True

    def display(self, name: str) -> str:
        """The corrected value of ``name`` in words."""
        value = self.uses if name == TECHNIQUE_USES else getattr(self, name)
        return display_value(name, jsonable_value(name, value))

    def original_display(self, name: str) -> str:
        return display_value(name, jsonable_value(name, self.original(name)))

    def correction_rows(self, names: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """(label, signed original, corrected) in words for each corrected field (of ``names``, if given)."""
        wanted = self.changes if names is None else [name for name in names if name in self.changes]
        return [(field_label(name), self.original_display(name), self.display(name)) for name in wanted]

    def marked(self, name: str, text: str | None = None) -> SafeString:
        """``text`` (default: the corrected value in words), marked "corrected" with the original a click away."""
        shown = self.display(name) if text is None else text
        if name not in self.changes:
            return format_html("{}", shown)
        return corrected_mark(shown, [(field_label(name), self.original_display(name))])

    def marked_before_after(self, score: str) -> str:
        """``score`` ("pain" or "fatigue") before and after, as corrected ("6 → 3"), marked "corrected" with the
        signed pair a click away when either was corrected: the admin's lists show scores this way."""
        names = (f"{score}_before", f"{score}_after")
        text = before_after(getattr(self, names[0]), getattr(self, names[1]))
        if not any(self.is_corrected(name) for name in names):
            return text
        original = before_after(self.original(names[0]), self.original(names[1]))
        return corrected_mark(text, [(score.capitalize(), original)])


def with_corrections(sessions: QuerySet[TreatmentSession]) -> QuerySet[TreatmentSession]:
    """``sessions`` with their amendments prefetched (``TreatmentSessionQuerySet.with_corrections``)."""
    return TreatmentSessionQuerySet.with_corrections(sessions)  # type: ignore[arg-type]  # same rows, any queryset


def corrected(session: TreatmentSession) -> CorrectedSession:
    """``session`` as corrected: its prefetched amendments (``with_corrections()``) if any, else one query."""
    cache = getattr(session, "_prefetched_objects_cache", {})
    if "amendments" in cache:
        changes: Iterable[Mapping[str, Any]] = [amendment.changes for amendment in cache["amendments"]]
    else:
        rows = SessionAmendment.objects.filter(session=session).order_by("created_at", "pk")
        changes = list(rows.values_list("changes", flat=True))
    return CorrectedSession(session, changes)


def screen_saved_correction(c: CorrectedSession) -> list[Finding]:
    """The safety screen of a session as corrected: its corrected rows, date, room and pain before."""
    if c.is_corrected(TECHNIQUE_USES):
        techniques = Technique.objects.in_bulk([use.technique_id for use in c.uses])
        planned = [PlannedUse(techniques[u.technique_id], u.body_region, u.pressure) for u in c.uses]
    else:
        planned = [PlannedUse.of(use) for use in c.session.technique_uses.all()]
    return screen_planned_session(
        client=c.session.client,
        when=c.started_at,
        uses=planned,
        room_temperature_c=c.room_temperature_c,
        pain_before=c.pain_before,
        phase=c.phase,
    )


def corrected_list(sessions: Iterable[TreatmentSession]) -> list[CorrectedSession]:
    """Each session as corrected, from ``with_corrections()``; with a corrected date, the phase on it (one query)."""
    result = [corrected(session) for session in sessions]
    moved = [c for c in result if c.is_corrected("started_at")]
    if moved:
        client_ids = {c.session.client_id for c in moved}
        phases = DiseasePhase.objects.filter(client_id__in=client_ids).only(
            "client_id", "phase", "started_on", "ended_on"
        )
        by_client: dict[int, list[DiseasePhase]] = {}
        for phase in phases.order_by("started_on"):
            by_client.setdefault(phase.client_id, []).append(phase)
        for c in moved:
            episode = PhaseTimeline(by_client.get(c.session.client_id, [])).phase_on(timezone.localdate(c.started_at))
            c.set_phase(episode.phase if episode else None)
    return result


def corrected_values(session: TreatmentSession) -> dict[str, Any]:
    """The session's AMENDABLE_FIELDS (``started_at`` too) as corrected, and TECHNIQUE_USES as stored rows."""
    c = corrected(session)
    values = {name: getattr(c, name) for name in AMENDABLE_FIELDS}
    values[TECHNIQUE_USES] = [use.as_stored() for use in c.uses]
    return values


def field_label(name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    try:
        field = TreatmentSession._meta.get_field(name)
    except Exception:  # noqa: BLE001  # a key from an older amendment: show it as it is
        return name
    return str(capfirst(getattr(field, "verbose_name", name)))


def jsonable_value(name: str, value: Any) -> Any:
    if name == TECHNIQUE_USES:
        return [use.as_stored() if isinstance(use, CorrectedUse) else use for use in value]
    return value


def display_value(name: str, value: Any) -> str:
    """A value of ``name`` as an amendment stores it (or the session holds it), in words."""
    if value in (None, "") or value == []:
        return "—"
    if name == TECHNIQUE_USES:
        return "; ".join(str(CorrectedUse.stored(row)) for row in value)
    if name == "setting":
        return _label(Setting, str(value))
    if name == "room_temperature_c":
        return f"{value} °C"
    if name == "started_at":
        when = _field_value(name, value) if isinstance(value, str) else value
        return date_format(timezone.localtime(when), "D j M Y, H:i")
    return str(value)


def change_rows(changes: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """One amendment's ``changes`` in words: (field label, from, to)."""
    return [
        (field_label(name), display_value(name, change.get("from")), display_value(name, change.get("to")))
        for name, change in changes.items()
    ]


def before_after(before: int | None, after: int | None) -> str:
    """A score before and after the session, in one narrow column: "6 → 3" ("6 → –" until it is recorded)."""
    return f"{'–' if before is None else before} → {'–' if after is None else after}"


def corrected_mark(text: str, originals: Sequence[tuple[str, str]]) -> SafeString:
    """``text`` with a "corrected" disclosure that opens on the signed originals: words, not colour alone."""
    items = format_html_join("", "<li>{}: {}</li>", originals)
    return format_html(
        '{} <details class="corrected" data-corrected><summary>corrected</summary>'
        '<span class="corrected__original">Signed original:</span><ul class="mb-0">{}</ul></details>',
        text,
        items,
    )


def _field_value(name: str, stored: Any) -> Any:
    field = TreatmentSession._meta.get_field(name)
    assert isinstance(field, models.Field)  # amendable fields are the session's own columns
    return field.to_python(stored)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value
