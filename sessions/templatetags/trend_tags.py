from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

# One row of the trend page's session table. Built in Python rather than with a template loop:
# a ten-year history has 520 rows of 11 cells, and the template engine made this table most of
# the page's server time. format_html escapes every value.
_ROW = (
    '<tr><th scope="row" class="text-nowrap">{}{}</th>'
    '<td class="trend-phase-cell trend-phase-{}">{}</td>'
    "<td>{}</td><td>{}</td><td>{}</td>"
    '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td>'
    '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td></tr>'
)
_DRAFT = format_html(' <span class="badge text-bg-secondary">{}</span>', "draft")
_AMENDED = format_html(' <span class="badge text-bg-light">{}</span>', "amended")
_NONE = SafeString("")


@register.simple_tag
def trend_session_rows(rows: list[dict]) -> SafeString:
    """The ``<tr>`` elements of the session table, from ``sessions.trend_views.table_rows``."""
    return format_html_join(
        "\n",
        _ROW,
        (
            (
                row["when"],
                (_DRAFT if row["draft"] else _NONE) + (_AMENDED if row["amended"] else _NONE),
                row["phase"],
                row["phase_label"],
                row["minutes"],
                row["setting"],
                row["techniques"],
                row["pain_before"],
                row["pain_after"],
                row["pain_change"],
                row["fatigue_before"],
                row["fatigue_after"],
                row["fatigue_change"],
            )
            for row in rows
        ),
    )
