import json
from collections.abc import Iterable
from html import escape
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from sessions.trends.report import MonthCount, SessionPoint

register = template.Library()

# One row of the trend page's session table. Built in one pass in Python, with html.escape,
# rather than with a template loop or format_html: a ten-year history has 520 rows of 11 cells,
# and each of those ways was several times slower.
_ROW = (
    '<tr><th scope="row" class="text-nowrap">{}{}</th>'
    '<td class="trend-phase-cell trend-phase-{}">{}</td>'
    "<td>{}</td><td>{}</td><td>{}</td>"
    '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td>'
    '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td></tr>'
)
_DRAFT = ' <span class="badge text-bg-secondary">draft</span>'
_AMENDED = ' <span class="badge text-bg-light">amended</span>'
_MISSING = "–"


# As django.utils.html.json_script escapes: the JSON cannot close the script element.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _score(value: int | None) -> str:
    return _MISSING if value is None else str(value)


def _signed(change: int | None) -> str:
    if change is None:
        return _MISSING
    return f"+{change}" if change > 0 else str(change)


def session_row(s: SessionPoint) -> str:
    # Technique names are the only free text (owners name techniques); the rest are numbers, dates
    # and this code's own labels, and escaping those too was a measurable part of the table.
    badges = ("" if s.signed else _DRAFT) + (_AMENDED if s.amended else "")
    return _ROW.format(
        f"{s.started_at:%-d %b %Y, %H:%M}",
        badges,
        s.phase or "none",
        escape(s.phase_label),
        s.duration_minutes,
        escape(s.setting_label),
        escape(", ".join(s.techniques)),
        s.pain_before,
        _score(s.pain_after),
        _signed(s.pain_change),
        s.fatigue_before,
        _score(s.fatigue_after),
        _signed(s.fatigue_change),
    )


@register.simple_tag
def trend_session_rows(sessions: Iterable[SessionPoint]) -> SafeString:
    """The ``<tr>`` elements of the trend page's session table, oldest first."""
    return mark_safe("\n".join(map(session_row, sessions)))


@register.simple_tag
def trend_chart_data(chart: dict[str, Any]) -> SafeString:
    """The chart's data for trends.js, as ``json_script`` writes it but without spaces: a tenth of the page."""
    text = json.dumps(chart, cls=DjangoJSONEncoder, separators=(",", ":")).translate(_JSON_ESCAPES)
    return format_html('<script id="trend-data" type="application/json">{}</script>', mark_safe(text))


@register.simple_tag
def trend_month_rows(months: Iterable[MonthCount]) -> SafeString:
    """The ``<tr>`` elements of the sessions-per-month table: ten years are 120 rows of labels and counts."""
    return mark_safe(
        "\n".join(f'<tr><th scope="row">{m.label}</th><td class="text-end">{m.sessions}</td></tr>' for m in months)
    )
