from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# One row of the trend page's session table. Built in Python rather than with a template loop,
# and with html.escape rather than format_html: a ten-year history has 520 rows of 11 cells, and
# each of those was several times slower. Every value goes through escape() below.
_ROW = (
    '<tr><th scope="row" class="text-nowrap">{}{}</th>'
    '<td class="trend-phase-cell trend-phase-{}">{}</td>'
    "<td>{}</td><td>{}</td><td>{}</td>"
    '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td>'
    '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td></tr>'
)
_DRAFT = ' <span class="badge text-bg-secondary">draft</span>'
_AMENDED = ' <span class="badge text-bg-light">amended</span>'
_CELLS = (
    "phase",
    "phase_label",
    "minutes",
    "setting",
    "techniques",
    "pain_before",
    "pain_after",
    "pain_change",
    "fatigue_before",
    "fatigue_after",
    "fatigue_change",
)


@register.simple_tag
def trend_session_rows(rows: list[dict]) -> SafeString:
    """The ``<tr>`` elements of the session table, from ``sessions.trend_views.table_rows``."""
    return mark_safe(
        "\n".join(
            _ROW.format(
                escape(str(row["when"])),
                (_DRAFT if row["draft"] else "") + (_AMENDED if row["amended"] else ""),
                *(escape(str(row[cell])) for cell in _CELLS),
            )
            for row in rows
        )
    )
