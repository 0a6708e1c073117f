"""``{% corrected shown "pain_after" %}``: a session's value as corrected, marked "corrected" with the original a click
away (``sessions.corrections.CorrectedSession.marked``)."""

from django import template
from django.utils.safestring import SafeString

from sessions.corrections import CorrectedSession

register = template.Library()


@register.simple_tag
def corrected(shown: CorrectedSession, name: str, text: str | None = None) -> SafeString:
    # text="" marks a value shown beside it (a link, say) without repeating it.
    return shown.marked(name, None if text is None else str(text))
