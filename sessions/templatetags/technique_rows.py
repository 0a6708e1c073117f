"""The technique rows of the session forms: their selects drawn in Python.

A session form draws four rows of three selects (the blank rows and the template a script copies for another
row), each once per page. Through crispy-forms' field template each select took 0.2 ms besides drawing the
select itself. ``row_select`` draws the markup crispy-bootstrap5's ``field.html`` draws for a select (the label,
the select with Bootstrap's classes, the errors, any help text); tests/sessions/test_technique_rows.py checks
that the two agree.
"""

from django import template
from django.forms import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_REQUIRED = mark_safe('<span class="asteriskField">*</span>')


@register.filter
def row_select(field: BoundField) -> SafeString:
    """``field`` (a select) as ``{{ field|as_crispy_field }}`` draws it with the bootstrap5 pack."""
    required = field.field.required
    parts: list[str] = [format_html('<div id="div_{}" class="mb-3">', field.auto_id)]
    if field.label:
        parts.append(
            format_html(
                '<label for="{}" class="form-label{}">{}{}</label>',
                field.id_for_label,
                " requiredField" if required else "",
                field.label,
                _REQUIRED if required else "",
            )
        )
    # Django's BoundField adds aria-invalid and aria-describedby (the errors' id) to the select when it has errors.
    parts.append(
        field.as_widget(attrs={"class": "select form-select is-invalid" if field.errors else "select form-select"})
    )
    if field.errors:
        parts.append(format_html('<div id="{}_error" class="invalid-feedback">', field.auto_id))
        for number, error in enumerate(field.errors, start=1):
            parts.append(format_html('<p id="error_{}_{}"><strong>{}</strong></p>', number, field.auto_id, error))
        parts.append("</div>")
    if field.help_text:
        parts.append(
            format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, mark_safe(field.help_text))
        )
    parts.append("</div>")
    return mark_safe("".join(parts))  # each part escaped by format_html or drawn by Django's widget
