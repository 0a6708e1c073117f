"""The MS safety screen, rule by rule, on unsaved objects.

No test here has database access, so any query the screen made would fail the test: the screen is pure.
"""

import datetime as dt
from decimal import Decimal

import pytest

from clients.models import Client, Phase
from sessions.models import Technique
from sessions.safety import (
    COOL_ROOM_C,
    HIGH_PAIN,
    WARM_ROOM_C,
    Finding,
    PlannedUse,
    Severity,
    client_alerts,
    has_caution,
    has_stop,
    screen_session,
)

SWEDISH = Technique(name="Swedish massage", guidance="recommended", reason="Gentle flowing strokes.")
REFLEXOLOGY = Technique(name="Reflexology", guidance="recommended", light_touch=True, reason="Light pressure.")
HOT_STONE = Technique(name="Hot stone massage", guidance="avoid", uses_heat=True, reason="Heat can worsen MS symptoms.")
DEEP_TISSUE = Technique(name="Deep tissue massage", guidance="avoid", reason="Intense pressure can trigger spasms.")
WARM_COMPRESS = Technique(
    name="Warm compress", guidance="caution", uses_heat=True, reason="Only for clients who are not heat-sensitive."
)
HEATED_TOWELS = Technique(name="Heated towels", guidance="recommended", uses_heat=True, reason="Warmth.")
TRIGGER_POINT = Technique(name="Trigger point therapy", guidance="caution", reason="Focused pressure can hurt.")


def make_client(**fields) -> Client:
    fields.setdefault("heat_sensitive", False)
    return Client(first_name="Test", last_name="Client", **fields)


def screen(client=None, phase=Phase.REMISSION, uses=(), **kwargs) -> list[Finding]:
    planned = [PlannedUse(technique, region, pressure) for technique, region, pressure in uses]
    return screen_session(client=client or make_client(), phase=phase, uses=planned, **kwargs)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def only(findings, code) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, findings
    return matching[0]


# --- nothing to say ---------------------------------------------------------------


def test_recommended_light_work_for_a_client_in_remission_gives_no_findings():
    assert screen(uses=[(SWEDISH, "upper_back", "moderate"), (REFLEXOLOGY, "foot_left", "light")]) == []


def test_a_client_with_nothing_on_record_has_no_alerts():
    assert client_alerts(make_client(), Phase.REMISSION) == []
    assert client_alerts(make_client(), None) == []


# --- phase ------------------------------------------------------------------------


def test_acute_flare_on_the_session_date_is_a_stop():
    finding = only(screen(phase=Phase.ACUTE_FLARE), "acute_flare")
    assert finding.severity == Severity.STOP
    assert "acute flare" in finding.reason


@pytest.mark.parametrize("phase", [Phase.SUBACUTE, Phase.REMISSION, None])
def test_other_phases_and_no_phase_give_no_phase_finding(phase):
    assert "acute_flare" not in codes(screen(phase=phase))


# --- technique guidance -----------------------------------------------------------


def test_technique_to_avoid_is_a_stop_naming_the_technique_region_and_reason():
    finding = only(screen(uses=[(DEEP_TISSUE, "lower_back", "deep")]), "avoid_technique")
    assert finding.severity == Severity.STOP
    assert "Deep tissue massage" in finding.reason
    assert "lower back" in finding.reason
    assert "Intense pressure can trigger spasms." in finding.reason


def test_technique_to_avoid_on_several_regions_is_one_finding_naming_them_all():
    findings = screen(uses=[(DEEP_TISSUE, "thigh_left", "firm"), (DEEP_TISSUE, "thigh_right", "firm")])
    finding = only(findings, "avoid_technique")
    assert "left thigh and right thigh" in finding.reason


def test_caution_technique_at_light_pressure_is_info_with_its_reason():
    finding = only(screen(uses=[(TRIGGER_POINT, "neck", "light")]), "caution_technique")
    assert finding.severity == Severity.INFO
    assert "Focused pressure can hurt." in finding.reason


def test_caution_technique_at_firm_pressure_is_a_caution():
    finding = only(screen(uses=[(TRIGGER_POINT, "neck", "firm")]), "caution_technique")
    assert finding.severity == Severity.CAUTION
    assert "firm pressure" in finding.reason


# --- heat -------------------------------------------------------------------------


def test_heat_technique_for_a_heat_sensitive_client_is_a_stop():
    client = make_client(heat_sensitive=True)
    finding = only(screen(client, uses=[(HEATED_TOWELS, "upper_back", "light")]), "heat_technique")
    assert finding.severity == Severity.STOP
    assert "Heated towels" in finding.reason
    assert "heat-sensitive" in finding.reason


def test_heat_technique_for_a_client_who_is_not_heat_sensitive_gives_nothing():
    assert screen(make_client(heat_sensitive=False), uses=[(HEATED_TOWELS, "upper_back", "light")]) == []


def test_caution_heat_technique_for_heat_sensitive_client_is_one_stop_not_also_a_caution_note():
    findings = screen(make_client(heat_sensitive=True), uses=[(WARM_COMPRESS, "calf_left", "light")])
    assert codes(findings) == ["heat_technique"]


def test_hot_stone_for_heat_sensitive_client_is_both_avoid_and_heat_stop():
    findings = screen(make_client(heat_sensitive=True), uses=[(HOT_STONE, "upper_back", "light")])
    assert codes(findings) == ["avoid_technique", "heat_technique"]
    assert all(f.severity == Severity.STOP for f in findings)


def test_warm_room_for_a_heat_sensitive_client_is_a_caution():
    client = make_client(heat_sensitive=True)
    finding = only(screen(client, room_temperature_c=Decimal("25.5")), "warm_room")
    assert finding.severity == Severity.CAUTION
    assert "25.5 °C" in finding.reason


def test_room_at_the_warm_threshold_is_fine():
    assert screen(make_client(heat_sensitive=True), room_temperature_c=WARM_ROOM_C) == []


def test_warm_room_for_a_client_who_is_not_heat_sensitive_gives_nothing():
    assert screen(make_client(heat_sensitive=False), room_temperature_c=Decimal("27")) == []


def test_unknown_room_temperature_gives_no_room_finding():
    assert screen(make_client(heat_sensitive=True, cold_sensitive=False), room_temperature_c=None) == []


# --- cold -------------------------------------------------------------------------


def test_cold_sensitive_client_gets_an_info_alert():
    finding = only(client_alerts(make_client(cold_sensitive=True), Phase.REMISSION), "cold_sensitive")
    assert finding.severity == Severity.INFO


def test_cool_room_for_a_cold_sensitive_client_is_a_caution():
    findings = screen(make_client(cold_sensitive=True), room_temperature_c=COOL_ROOM_C - 1)
    assert only(findings, "cool_room").severity == Severity.CAUTION


def test_cool_room_for_a_client_who_is_not_cold_sensitive_gives_nothing():
    assert screen(make_client(cold_sensitive=False), room_temperature_c=Decimal("17")) == []


# --- reduced sensation ------------------------------------------------------------


def test_light_pressure_on_a_reduced_sensation_region_is_fine():
    client = make_client(reduced_sensation_regions=["foot_left"])
    findings = screen(client, uses=[(SWEDISH, "foot_left", "light"), (REFLEXOLOGY, "foot_left", "light")])
    assert codes(findings) == ["reduced_sensation_on_record"]


def test_moderate_pressure_on_a_reduced_sensation_region_is_a_caution():
    client = make_client(reduced_sensation_regions=["calf_right"])
    finding = only(screen(client, uses=[(SWEDISH, "calf_right", "moderate")]), "pressure_on_reduced_sensation")
    assert finding.severity == Severity.CAUTION
    assert "Swedish massage at moderate pressure on the right calf" in finding.reason


@pytest.mark.parametrize("pressure", ["firm", "deep"])
def test_firm_or_deep_pressure_on_a_reduced_sensation_region_is_a_stop(pressure):
    client = make_client(reduced_sensation_regions=["calf_right"])
    finding = only(screen(client, uses=[(SWEDISH, "calf_right", pressure)]), "pressure_on_reduced_sensation")
    assert finding.severity == Severity.STOP
    assert f"{pressure} pressure" in finding.reason


def test_firm_pressure_elsewhere_than_the_reduced_sensation_region_is_fine():
    client = make_client(reduced_sensation_regions=["calf_right"])
    assert "pressure_on_reduced_sensation" not in codes(screen(client, uses=[(SWEDISH, "calf_left", "firm")]))


def test_heat_on_a_reduced_sensation_region_is_a_stop_even_for_a_client_who_is_not_heat_sensitive():
    client = make_client(heat_sensitive=False, reduced_sensation_regions=["hand_left"])
    finding = only(screen(client, uses=[(HEATED_TOWELS, "hand_left", "light")]), "heat_on_reduced_sensation")
    assert finding.severity == Severity.STOP
    assert "burn" in finding.reason


def test_reduced_sensation_on_record_is_an_info_alert_naming_the_regions():
    finding = only(
        client_alerts(make_client(reduced_sensation_regions=["foot_left", "foot_right"]), None),
        "reduced_sensation_on_record",
    )
    assert finding.severity == Severity.INFO
    assert "left foot and right foot" in finding.reason


# --- pressure sores ---------------------------------------------------------------


@pytest.mark.parametrize("technique", [SWEDISH, REFLEXOLOGY])
def test_any_work_on_a_pressure_sore_region_is_a_stop(technique):
    client = make_client(pressure_sore_regions=["hip_left"])
    finding = only(screen(client, uses=[(technique, "hip_left", "light")]), "pressure_sore_region")
    assert finding.severity == Severity.STOP
    assert f"{technique.name} on the left hip" in finding.reason


@pytest.mark.parametrize("region", ["chest_left", "chest_right", "abdomen"])
def test_the_front_torso_regions_follow_the_same_rules(region):
    client = make_client(pressure_sore_regions=[region], reduced_sensation_regions=[region])
    findings = screen(client, uses=[(SWEDISH, region, "firm")])
    assert {"pressure_sore_region", "pressure_on_reduced_sensation"} <= set(codes(findings))
    assert has_stop(findings)


def test_pressure_sores_on_record_are_a_caution_even_when_the_plan_avoids_them():
    client = make_client(pressure_sore_regions=["hip_left"])
    findings = screen(client, uses=[(SWEDISH, "hip_right", "light")])
    assert codes(findings) == ["pressure_sores_on_record"]
    assert findings[0].severity == Severity.CAUTION
    assert "left hip" in findings[0].reason


# --- physician clearance ----------------------------------------------------------


def test_listed_condition_without_physician_clearance_is_a_stop():
    client = make_client(conditions_needing_clearance=["osteoporosis", "edema"])
    finding = only(client_alerts(client, Phase.REMISSION), "clearance_missing")
    assert finding.severity == Severity.STOP
    assert "osteoporosis and edema" in finding.reason


def test_listed_condition_with_physician_clearance_is_fine():
    client = make_client(conditions_needing_clearance=["osteoporosis"], physician_clearance_on=dt.date(2024, 1, 5))
    assert client_alerts(client, Phase.REMISSION) == []


def test_clearance_date_without_listed_conditions_is_fine():
    assert client_alerts(make_client(physician_clearance_on=dt.date(2024, 1, 5)), None) == []


# --- pain before ------------------------------------------------------------------


def test_high_pain_before_is_a_caution_to_keep_pressure_within_tolerance():
    finding = only(screen(pain_before=HIGH_PAIN, uses=[(SWEDISH, "neck", "light")]), "high_pain_before")
    assert finding.severity == Severity.CAUTION
    assert f"{HIGH_PAIN}/10" in finding.reason
    assert "tolerance" in finding.reason


def test_pain_below_the_threshold_gives_nothing():
    assert screen(pain_before=HIGH_PAIN - 1, uses=[(SWEDISH, "neck", "firm")]) == []


def test_high_pain_with_firm_pressure_asks_to_lighten_and_names_the_rows():
    finding = only(screen(pain_before=9, uses=[(SWEDISH, "upper_back", "firm")]), "high_pain_before")
    assert "lighten the pressure" in finding.reason
    assert "Swedish massage on the upper back" in finding.reason


# --- combinations and ordering -----------------------------------------------------


def test_several_findings_are_sorted_stop_then_caution_then_info():
    client = make_client(
        heat_sensitive=True, cold_sensitive=True, pressure_sore_regions=["hip_left"], reduced_sensation_regions=["neck"]
    )
    findings = screen(
        client,
        phase=Phase.ACUTE_FLARE,
        uses=[(SWEDISH, "upper_back", "light")],
        room_temperature_c=Decimal("26"),
        pain_before=8,
    )
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["stop", "caution", "info"].index)
    assert severities[0] == Severity.STOP
    assert set(codes(findings)) == {
        "acute_flare",
        "pressure_sores_on_record",
        "warm_room",
        "high_pain_before",
        "reduced_sensation_on_record",
        "cold_sensitive",
    }


def test_screen_includes_the_client_alerts():
    client = make_client(conditions_needing_clearance=["cancer"], pressure_sore_regions=["hip_left"])
    alerts = client_alerts(client, Phase.ACUTE_FLARE)
    findings = screen(client, phase=Phase.ACUTE_FLARE, uses=[(SWEDISH, "neck", "light")])
    assert all(alert in findings for alert in alerts)


def test_client_alerts_are_sorted_with_stop_first():
    client = make_client(cold_sensitive=True, pressure_sore_regions=["hip_left"])
    findings = client_alerts(client, Phase.ACUTE_FLARE)
    assert [f.severity for f in findings] == [Severity.STOP, Severity.CAUTION, Severity.INFO]


def test_has_stop_and_has_caution():
    stop = Finding(Severity.STOP, "acute_flare", "x")
    caution = Finding(Severity.CAUTION, "warm_room", "x")
    info = Finding(Severity.INFO, "cold_sensitive", "x")
    assert has_stop([info, stop])
    assert not has_stop([caution, info])
    assert not has_stop([])
    assert has_caution([caution])
    assert not has_caution([stop, info])


def test_every_finding_has_a_known_severity_a_code_and_a_sentence():
    client = make_client(
        heat_sensitive=True,
        pressure_sore_regions=["hip_left"],
        reduced_sensation_regions=["foot_left"],
        conditions_needing_clearance=["arthritis"],
    )
    findings = screen(
        client,
        phase=Phase.ACUTE_FLARE,
        uses=[(HOT_STONE, "foot_left", "firm"), (SWEDISH, "hip_left", "light"), (TRIGGER_POINT, "neck", "deep")],
        room_temperature_c=Decimal("30"),
        pain_before=10,
    )
    assert len(findings) >= 10
    for finding in findings:
        assert finding.severity in Severity.values
        assert finding.code and finding.code == finding.code.lower()
        assert finding.reason.endswith(".")
