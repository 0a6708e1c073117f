"""The therapist's trend page for one client, and the same data as CSV."""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.selectors import client_for_user
from measures.selectors import scores_for_client
from practice import audit
from practice.access import clinician_required
from sessions.trends.chart import chart_data
from sessions.trends.export import trend_csv_bytes
from sessions.trends.queries import trend_report
from sessions.trends.questionnaires import questionnaire_charts, with_questionnaire_rows
from sessions.trends.ranges import TrendRange, TrendRangeForm, resolve_range
from sessions.trends.report import TrendReport

# Longer data tables start collapsed so the chart and numbers stay in view.
TABLE_OPEN_UP_TO = 15
# The session table lists the last this many sessions (a year of weekly ones) unless all are asked for
# (``?table=all``, also the print view): ten years would be 520 rows, half of the page's bytes, that the
# chart and the CSV already hold.
TABLE_ROWS_SHOWN = 52


def full_table_requested(params: QueryDict) -> bool:
    """Whether the page is asked for with every session in its table (``table=all``)."""
    return params.get("table") == "all"


def trend_context(
    report: TrendReport,
    *,
    audience: str,
    range_form: TrendRangeForm,
    trend_range: TrendRange,
    csv_url: str = "",
    full_table: bool = False,
) -> dict[str, Any]:
    """What the trend includes (sessions/includes/trend_*.html) need; the portal builds its page with it too.

    ``audience`` is "therapist" or "client" and only changes wording. ``csv_url`` is the download address
    without the range; the range's query is added here. ``full_table`` lists every session in the table,
    else the last TABLE_ROWS_SHOWN with a link to them all (``table_all_href``).
    """
    range_query = trend_range.as_query()
    query = urlencode(range_query)
    truncated = not full_table and report.session_count > TABLE_ROWS_SHOWN
    all_query = urlencode({**range_query, "table": "all"})
    return {
        "report": report,
        "chart": chart_data(report),
        "audience": audience,
        "range_form": range_form,
        "trend_range": trend_range,
        "csv_href": f"{csv_url}?{query}" if csv_url else "",
        "table_open": report.session_count <= TABLE_OPEN_UP_TO,
        "table_sessions": report.sessions[-TABLE_ROWS_SHOWN:] if truncated else report.sessions,
        "table_truncated": truncated,
        "table_all_href": f"?{all_query}#trend-sessions" if truncated else "",
        "print_href": f"?{all_query}&print=1" if truncated else "",
        "today": timezone.localdate(),
    }


def _client_and_report(request: HttpRequest, client_id: int) -> tuple[Client, TrendRangeForm, TrendRange, TrendReport]:
    client = client_for_user(request, client_id)
    form, trend_range = resolve_range(request.GET, today=timezone.localdate())
    report = trend_report(client, start=trend_range.start, end=trend_range.end)
    return client, form, trend_range, report


@clinician_required
def trend_page(request: HttpRequest, client_id: int) -> HttpResponse:
    client, form, trend_range, report = _client_and_report(request, client_id)
    full_table = full_table_requested(request.GET)
    context = trend_context(
        report,
        audience="therapist",
        range_form=form,
        trend_range=trend_range,
        csv_url=reverse("trends:csv", args=[client.pk]),
        full_table=full_table,
    )
    context["client"] = client
    context["questionnaire_charts"] = questionnaire_charts(client, start=trend_range.start, end=trend_range.end)
    # The print view (the Print button of a page that lists only the last sessions): prints on opening.
    context["autoprint"] = full_table and request.GET.get("print") == "1"
    audit.record(request, audit.READ, object_type="trends", object_id=client.pk, client_id=client.pk)
    return render(request, "sessions/trends.html", context)


@clinician_required
def trend_csv(request: HttpRequest, client_id: int) -> HttpResponse:
    """The page's sessions as CSV; columns documented in docs/trends-csv.md. No names in the file name."""
    client = client_for_user(request, client_id)
    _form, trend_range = resolve_range(request.GET, today=timezone.localdate())
    # Written from the rows in one pass: the page's summaries are not in the file (sessions/trends/export.py).
    content = trend_csv_bytes(client, start=trend_range.start, end=trend_range.end)
    content = with_questionnaire_rows(content, scores_for_client(client, start=trend_range.start, end=trend_range.end))
    filename = f"client-{client.pk}-trends-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    audit.record(request, audit.EXPORT, object_type="trends_csv", object_id=client.pk, client_id=client.pk)
    return response
