"""The MS phase badge: ``{% load phases %}{% phase_badge phase label %}``.

A tag rather than an included template: the caseload and the record draw one per row, and an include per row
costs a template context of its own each time.
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def phase_badge(phase: str | None, label: str) -> SafeString:
    """A badge in the phase's colour (phase-badge--none without a phase), saying ``label``."""
    code = phase or "none"
    return format_html('<span class="badge phase-badge phase-badge--{}" data-phase="{}">{}</span>', code, code, label)
