"""``{% practice_glance %}``: the practice at a glance, at the top of the owner's admin index."""

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse

from clients.models import Client, Phase
from outcomes.glance import cached_outcomes_headline, practice_glance
from practice.roles import is_owner
from sessions.drafts import DRAFT_OVERDUE_DAYS
from sessions.models import TreatmentSession

register = template.Library()

OUTCOMES_REPORT = "/admin/outcomes/"


@register.inclusion_tag("outcomes/includes/practice_glance.html", takes_context=True)
def practice_glance_figures(context: template.Context) -> dict[str, Any]:
    """Each figure with the admin list that shows its rows, and the outcomes headline with the report's link;
    nothing for anyone but an owner."""
    request = context.get("request")
    if request is None or not is_owner(request.user):
        return {"figures": []}
    glance = practice_glance()
    clients = _changelist(Client)
    sessions = _changelist(TreatmentSession)
    figures: list[tuple[int, str, str, dict[str, str]]] = [
        (glance.clients_in_flare, "clients in an acute flare now", clients, {"current_phase": Phase.ACUTE_FLARE}),
        (
            glance.sessions_this_week,
            "sessions this week",
            sessions,
            {"started_at__gte": glance.week[0].isoformat(), "started_at__lt": glance.week[1].isoformat()},
        ),
        (
            glance.overdue_drafts,
            f"drafts older than {DRAFT_OVERDUE_DAYS} days, not yet signed",
            sessions,
            {"to_sign": "oldest", "started_at__lt": glance.overdue_before.isoformat(timespec="seconds")},
        ),
        (
            glance.overrides_this_month,
            "sessions saved over a safety stop this month",
            sessions,
            {
                "over_stop": "yes",
                "started_at__gte": glance.month[0].isoformat(),
                "started_at__lt": glance.month[1].isoformat(),
            },
        ),
    ]
    return {
        "figures": [
            {"count": count, "label": label, "url": f"{url}?{urlencode(query)}"} for count, label, url, query in figures
        ],
        "outcomes_url": _outcomes_report(),
        "headline": cached_outcomes_headline(),
    }


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _outcomes_report() -> str:
    # The report's own URL name, once the outcomes app declares it; its stable address until then.
    try:
        return reverse("outcomes:report")
    except NoReverseMatch:
        return OUTCOMES_REPORT
