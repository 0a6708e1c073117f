"""The MS safety screen: what a therapist must know before and while treating a client.

Pure functions over objects that are already loaded (client, phase, technique rows): no
database queries, so the same screen runs in the session form, the admin, the caseload and
the client record, and is fast to test. ``sessions.screening`` gathers its inputs (the phase on
the session's date) for those callers. Each finding has a severity, a short stable code
and a reason in plain words that names the technique and the body region.

Severities:
- ``stop``: do not go ahead; saving needs an override reason (and only then keeps one).
- ``caution``: go ahead carefully; the therapist confirms having read it.
- ``info``: worth knowing; nothing to confirm.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils import timezone

from clients.body_regions import region_label, region_labels
from clients.models import ClearanceCondition, Client, Phase
from sessions.models import Guidance, Pressure, Technique, TechniqueUse

# Warm rooms worsen symptoms in heat-sensitive clients; most clinics run at 20-22 °C.
WARM_ROOM_C = Decimal("24")
# Below this a cold-sensitive client is likely to stiffen or feel worse.
COOL_ROOM_C = Decimal("20")
# On the 0-10 scale, 7 and above is severe pain: work must stay well within tolerance.
HIGH_PAIN = 7
# Pressures above light: too much where the client cannot feel it.
ABOVE_LIGHT = frozenset({Pressure.MODERATE, Pressure.FIRM, Pressure.DEEP})
FIRM_OR_DEEP = frozenset({Pressure.FIRM, Pressure.DEEP})


class Severity(models.TextChoices):
    STOP = "stop", "Stop"
    CAUTION = "caution", "Caution"
    INFO = "info", "Info"


_ORDER = {Severity.STOP: 0, Severity.CAUTION: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    reason: str

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label


@dataclass(frozen=True)
class PlannedUse:
    technique: Technique
    body_region: str
    pressure: str

    @classmethod
    def of(cls, use: TechniqueUse) -> "PlannedUse":
        """A saved technique row (loaded with its technique) as a planned use."""
        return cls(use.technique, use.body_region, use.pressure)


def has_stop(findings: Iterable[Finding]) -> bool:
    return any(f.severity == Severity.STOP for f in findings)


def has_caution(findings: Iterable[Finding]) -> bool:
    return any(f.severity == Severity.CAUTION for f in findings)


def kept_override_reason(findings: Iterable[Finding], reason: str) -> str:
    """The override reason to store with a session: it only means something while a stop applies."""
    return reason if has_stop(findings) else ""


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Stop first, then caution, then info; otherwise in the order the rules found them."""
    return sorted(findings, key=lambda f: _ORDER[Severity(f.severity)])


def client_alerts(
    client: Client, phase: str | None, *, relapse_reported_at: dt.datetime | None = None
) -> list[Finding]:
    """What applies to this client now, before any plan: for the caseload, the record and the form.

    ``relapse_reported_at``: when the client reported a possible relapse that no phase or "not a relapse" note
    recorded since has settled (clients/intake_review.py), or None.
    """
    findings = []
    if relapse_reported_at is not None and phase != Phase.ACUTE_FLARE:
        findings.append(
            Finding(
                Severity.STOP,
                "relapse_reported",
                f"The client reported new or worse symptoms that could be a relapse on "
                f"{timezone.localtime(relapse_reported_at):%d %b %Y}: record the phase (an acute flare, or why "
                "it is not a relapse) on the record before treating.",
            )
        )
    if phase == Phase.ACUTE_FLARE:
        findings.append(
            Finding(
                Severity.STOP,
                "acute_flare",
                "In an acute flare (relapse): massage is not advised until the flare settles.",
            )
        )
    if client.conditions_needing_clearance and client.physician_clearance_on is None:
        conditions = _join([_condition_label(c).lower() for c in client.conditions_needing_clearance])
        findings.append(
            Finding(
                Severity.STOP,
                "clearance_missing",
                f"Physician clearance missing: {conditions} on record and no physician has cleared massage yet.",
            )
        )
    if client.pressure_sore_regions:
        regions = _join([r.lower() for r in region_labels(client.pressure_sore_regions)])
        findings.append(
            Finding(
                Severity.CAUTION,
                "pressure_sores_on_record",
                f"Pressure sores on record ({regions}): never work over them or over reddened skin; "
                "gentle work nearby can help.",
            )
        )
    if client.reduced_sensation_regions:
        regions = _join([r.lower() for r in region_labels(client.reduced_sensation_regions)])
        findings.append(
            Finding(
                Severity.INFO,
                "reduced_sensation_on_record",
                f"Reduced sensation on record ({regions}): light touch only there; "
                "the client may not feel too much pressure.",
            )
        )
    if client.cold_sensitive:
        findings.append(
            Finding(
                Severity.INFO,
                "cold_sensitive",
                "Cold-sensitive: keep the room warm enough and cover the areas not being worked on.",
            )
        )
    return sort_findings(findings)


def screen_session(
    *,
    client: Client,
    phase: str | None,
    uses: Iterable[PlannedUse],
    room_temperature_c: Decimal | None = None,
    pain_before: int | None = None,
    relapse_reported_at: dt.datetime | None = None,
) -> list[Finding]:
    """Every finding for one planned or logged session, stop first."""
    uses = list(uses)
    findings = client_alerts(client, phase, relapse_reported_at=relapse_reported_at)
    findings += _technique_findings(client, uses)
    findings += _region_findings(client, uses)
    findings += _room_findings(client, room_temperature_c)
    findings += _pain_findings(pain_before, uses)
    return sort_findings(findings)


def _technique_findings(client: Client, uses: list[PlannedUse]) -> list[Finding]:
    """Per technique (once, however many regions it is used on): its guidance and its heat."""
    findings = []
    for technique, technique_uses in _by_technique(uses):
        regions = _join([region_label(u.body_region).lower() for u in technique_uses])
        if technique.guidance == Guidance.AVOID:
            findings.append(
                Finding(
                    Severity.STOP,
                    "avoid_technique",
                    f"{technique.name} ({regions}) is a technique to avoid in MS: {technique.reason}",
                )
            )
        heat_for_sensitive = technique.uses_heat and client.heat_sensitive
        if heat_for_sensitive:
            findings.append(
                Finding(
                    Severity.STOP,
                    "heat_technique",
                    f"{technique.name} ({regions}) uses heat and this client is heat-sensitive: "
                    "heat can make MS symptoms worse.",
                )
            )
        if technique.guidance == Guidance.CAUTION and not heat_for_sensitive:
            firm = [u for u in technique_uses if u.pressure in FIRM_OR_DEEP]
            if firm:
                findings.append(
                    Finding(
                        Severity.CAUTION,
                        "caution_technique",
                        f"{technique.name} at {_pressures(firm)} pressure ({regions}) needs great care in MS: "
                        f"{technique.reason}",
                    )
                )
            else:
                findings.append(
                    Finding(
                        Severity.INFO,
                        "caution_technique",
                        f"{technique.name} ({regions}) is used with caution in MS: {technique.reason}",
                    )
                )
    return findings


def _region_findings(client: Client, uses: list[PlannedUse]) -> list[Finding]:
    """Per technique row: pressure sores and reduced sensation in the region worked on."""
    sores = set(client.pressure_sore_regions or [])
    reduced = set(client.reduced_sensation_regions or [])
    findings = []
    for use in uses:
        technique, region = use.technique, region_label(use.body_region)
        pressure = Pressure(use.pressure).label.lower() if use.pressure in Pressure.values else use.pressure
        if use.body_region in sores:
            findings.append(
                Finding(
                    Severity.STOP,
                    "pressure_sore_region",
                    f"{technique.name} on the {region.lower()}: there is a pressure sore there. "
                    "Never massage over pressure sores or reddened skin; work nearby instead.",
                )
            )
        if use.body_region not in reduced:
            continue
        if use.pressure in FIRM_OR_DEEP:
            findings.append(
                Finding(
                    Severity.STOP,
                    "pressure_on_reduced_sensation",
                    f"{technique.name} at {pressure} pressure on the {region.lower()}, where sensation is reduced: "
                    "the client may not feel harm. Use light touch only there.",
                )
            )
        elif use.pressure in ABOVE_LIGHT:
            findings.append(
                Finding(
                    Severity.CAUTION,
                    "pressure_on_reduced_sensation",
                    f"{technique.name} at {pressure} pressure on the {region.lower()}, where sensation is reduced: "
                    "the client may not feel too much pressure. Light touch is advised there.",
                )
            )
        if technique.uses_heat:
            findings.append(
                Finding(
                    Severity.STOP,
                    "heat_on_reduced_sensation",
                    f"{technique.name} on the {region.lower()}, where sensation is reduced: "
                    "the client may not feel a burn.",
                )
            )
    return findings


def _room_findings(client: Client, room_temperature_c: Decimal | None) -> list[Finding]:
    if room_temperature_c is None:
        return []
    temperature = f"{Decimal(room_temperature_c).normalize():f} °C"
    if client.heat_sensitive and room_temperature_c > WARM_ROOM_C:
        return [
            Finding(
                Severity.CAUTION,
                "warm_room",
                f"The room is warm ({temperature}) and this client is heat-sensitive: "
                f"cool it to {WARM_ROOM_C} °C or below, or watch closely for worse symptoms.",
            )
        ]
    if client.cold_sensitive and room_temperature_c < COOL_ROOM_C:
        return [
            Finding(
                Severity.CAUTION,
                "cool_room",
                f"The room is cool ({temperature}) and this client is cold-sensitive: "
                "warm it or keep the client covered.",
            )
        ]
    return []


def _pain_findings(pain_before: int | None, uses: list[PlannedUse]) -> list[Finding]:
    if pain_before is None or pain_before < HIGH_PAIN:
        return []
    firm = [u for u in uses if u.pressure in FIRM_OR_DEEP]
    if firm:
        rows = _join([f"{u.technique.name} on the {region_label(u.body_region).lower()}" for u in firm])
        reason = (
            f"Pain before the session is high ({pain_before}/10) and the plan uses {_pressures(firm)} pressure "
            f"({rows}): lighten the pressure and keep it well within the client's tolerance."
        )
    else:
        reason = (
            f"Pain before the session is high ({pain_before}/10): keep pressure within the client's tolerance "
            "and check in often."
        )
    return [Finding(Severity.CAUTION, "high_pain_before", reason)]


def _by_technique(uses: list[PlannedUse]) -> list[tuple[Technique, list[PlannedUse]]]:
    """Uses grouped by technique, in first-use order."""
    grouped: dict = {}
    for use in uses:
        # Unsaved techniques (tests, previews) have no pk and are unhashable; group them by identity.
        key = use.technique.pk if use.technique.pk is not None else id(use.technique)
        grouped.setdefault(key, (use.technique, []))[1].append(use)
    return list(grouped.values())


def _pressures(uses: list[PlannedUse]) -> str:
    labels = []
    for use in uses:
        label = Pressure(use.pressure).label.lower()
        if label not in labels:
            labels.append(label)
    return " and ".join(labels)


def _condition_label(code: str) -> str:
    try:
        return ClearanceCondition(code).label
    except ValueError:
        return code


def _join(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " and " + unique[-1]
