"""The therapist's trend page for one client, and the same data as CSV."""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.selectors import client_for_user
from practice import audit
from practice.access import clinician_required
from practice.spreadsheets import csv_response
from sessions.trends.chart import chart_data
from sessions.trends.export import CSV_COLUMNS, csv_rows
from sessions.trends.queries import trend_report
from sessions.trends.ranges import TrendRange, TrendRangeForm, resolve_range
from sessions.trends.report import TrendReport

# Longer data tables start collapsed so the chart and numbers stay in view.
TABLE_OPEN_UP_TO = 15


def trend_context(
    report: TrendReport, *, audience: str, range_form: TrendRangeForm, trend_range: TrendRange, csv_url: str = ""
) -> dict[str, Any]:
    """What the trend includes (sessions/includes/trend_*.html) need; the portal builds its page with it too.

    ``audience`` is "therapist" or "client" and only changes wording. ``csv_url`` is the download address
    without the range; the range's query is added here.
    """
    query = urlencode(trend_range.as_query())
    return {
        "report": report,
        "chart": chart_data(report),
        "audience": audience,
        "range_form": range_form,
        "trend_range": trend_range,
        "csv_href": f"{csv_url}?{query}" if csv_url else "",
        "table_open": report.session_count <= TABLE_OPEN_UP_TO,
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
    context = trend_context(
        report,
        audience="therapist",
        range_form=form,
        trend_range=trend_range,
        csv_url=reverse("trends:csv", args=[client.pk]),
    )
    context["client"] = client
    audit.record(request, audit.READ, object_type="trends", object_id=client.pk, client_id=client.pk)
    return render(request, "sessions/trends.html", context)


@clinician_required
def trend_csv(request: HttpRequest, client_id: int) -> HttpResponse:
    """The page's sessions as CSV; columns documented in docs/trends-csv.md. No names in the file name."""
    client, _form, _trend_range, report = _client_and_report(request, client_id)
    filename = f"client-{client.pk}-trends-{timezone.localdate():%Y-%m-%d}.csv"
    response = csv_response(filename, CSV_COLUMNS, csv_rows(report))
    audit.record(request, audit.EXPORT, object_type="trends_csv", object_id=client.pk, client_id=client.pk)
    return response
