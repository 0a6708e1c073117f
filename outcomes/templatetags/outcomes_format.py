"""How the outcomes report writes its numbers: one decimal, signed changes, percentages, intervals."""

from django import template

from outcomes.statistics import Interval

register = template.Library()
NOTHING = "—"


@register.filter
def score(value: float | None) -> str:
    return NOTHING if value is None else f"{value:.1f}"


@register.filter
def change(value: float | None) -> str:
    return NOTHING if value is None else f"{value:+.1f}".replace("-", "−")


@register.filter
def percent(value: float | None) -> str:
    return NOTHING if value is None else f"{value * 100:.0f}%"


@register.filter
def interval(value: Interval | None) -> str:
    if value is None:
        return NOTHING
    return f"{change(value.low)} to {change(value.high)}"


@register.filter
def percent_interval(value: Interval | None) -> str:
    if value is None:
        return NOTHING
    return f"{value.low * 100:.0f}% to {value.high * 100:.0f}%"
