"""The one-page summary for the neurologist: what it says, its small charts, its PDF, and the portal's view of it.

``client_summary`` gathers the page from the modules that own each part: the trend report (sessions/trends:
the last 3 months for the charts, all time for how the client responded to each technique), the safety
screen's client alerts (sessions/safety.py), the phase timeline and, when the measures app has them, the
validated questionnaires' scores (MFIS-5; any instrument seeded later). The charts are inline SVG drawn from the
trend chart's own data (``chart_data``), so the PDF needs no script. The PDF is rendered on the server by
WeasyPrint with a URL fetcher that serves our static files and refuses everything else: building it never sends
a request to any host.
"""

import datetime as dt
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clients.models import Client, DiseasePhase, phase_label
from measures.scoring import format_number
from portal import fhir
from practice import audit
from practice.access import client_required
from sessions.safety import Finding, client_alerts
from sessions.trends.chart import chart_data
from sessions.trends.queries import trend_report
from sessions.trends.ranges import preset_range
from sessions.trends.report import MEANINGFUL_CHANGE, ChangeSummary, TrendReport

# How many techniques the page lists (most used first): more would not fit on one A4 page.
TECHNIQUES_SHOWN = 6
# The charts' drawing box, in SVG user units; CSS scales them to the column.
CHART_WIDTH, CHART_HEIGHT = 320, 96
CHART_LEFT, CHART_BOTTOM, CHART_TOP = 18, 14, 4
# WeasyPrint resolves relative addresses against this; no request is ever sent to it (see StaticOnlyFetcher).
PDF_BASE_URL = "https://summary.invalid/"


# --- the small charts ------------------------------------------------------------------------------------------


# Phase shading, as SVG presentation attributes: WeasyPrint draws inline SVG without the page's stylesheet.
BAND_COLOURS = {"acute_flare": "#f6d5d8", "subacute": "#fbecc2", "remission": "#d7ebe0"}


@dataclass(frozen=True)
class ChartBand:
    x: float
    width: float
    phase: str
    label: str

    @property
    def colour(self) -> str:
        return BAND_COLOURS.get(self.phase, "#eceff1")


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: int
    when: str


@dataclass(frozen=True)
class SmallChart:
    """One score (pain or fatigue) over the period: before-scores joined by a line, after-scores as rings."""

    title: str
    width: int
    height: int
    bands: tuple[ChartBand, ...]
    before: tuple[ChartPoint, ...]
    after: tuple[ChartPoint, ...]
    gridlines: tuple[tuple[float, int], ...]  # (y, score)
    ticks: tuple[tuple[float, str], ...]  # (x, month label)
    plot_left: int = CHART_LEFT
    plot_right: int = CHART_WIDTH

    @property
    def line(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.before)

    @property
    def description(self) -> str:
        if not self.before:
            return f"{self.title}: no sessions in this period."
        first, last = self.before[0], self.before[-1]
        return (
            f"{self.title} before each session, {len(self.before)} sessions: "
            f"{first.value} on {first.when}, {last.value} on {last.when}."
        )


def small_chart(data: dict[str, Any], score: str, title: str, start: dt.date, end: dt.date) -> SmallChart:
    """A small chart of ``score`` ("pain" or "fatigue") from ``chart_data(report)``: phases shaded behind."""
    low = data["range"]["min"]
    high = data["range"]["max"]
    span = max(high - low, 1) if low is not None and high is not None else 1
    plot_width = CHART_WIDTH - CHART_LEFT
    plot_height = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP

    def x_of(ms: int) -> float:
        return CHART_LEFT + (ms - (low or 0)) / span * plot_width

    def y_of(value: int) -> float:
        return CHART_TOP + (10 - value) / 10 * plot_height

    bands = tuple(
        ChartBand(x_of(b["x0"]), max(x_of(b["x1"]) - x_of(b["x0"]), 0.5), b["phase"], b["label"]) for b in data["bands"]
    )
    before = tuple(
        ChartPoint(x_of(s["x"]), y_of(s[f"{score}_before"]), s[f"{score}_before"], s["when"]) for s in data["sessions"]
    )
    after = tuple(
        ChartPoint(x_of(s["x"]), y_of(s[f"{score}_after"]), s[f"{score}_after"], s["when"])
        for s in data["sessions"]
        if s[f"{score}_after"] is not None
    )
    ticks = []
    month = start.replace(day=1)
    while month <= end:
        if month >= start and low is not None:
            moment = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
            ticks.append((x_of(int(moment.timestamp() * 1000)), f"{month:%b}"))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return SmallChart(
        title=title,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        bands=bands,
        before=before,
        after=after,
        gridlines=tuple((y_of(value), value) for value in (0, 5, 10)),
        ticks=tuple(ticks),
    )


# --- the summary -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureLine:
    """One instrument's scores: first and latest, their change, and whether it passes the MCID."""

    name: str
    first: str
    latest: str
    change: str
    verdict: str


@dataclass(frozen=True)
class Summary:
    client: Client
    today: dt.date
    ms_type: str
    current_phase: str
    current_phase_since: dt.date | None
    period_start: dt.date
    period_end: dt.date
    recent_sessions: int
    charts: tuple[SmallChart, ...]
    recent: TrendReport
    techniques: tuple[ChangeSummary, ...]
    technique_count: int
    all_sessions: int
    first_session: dt.date | None
    findings: tuple[Finding, ...]
    safety: tuple[tuple[str, str], ...]
    therapists: tuple[tuple[str, str], ...]  # (name, e-mail)
    measures: tuple[MeasureLine, ...] = field(default=())
    measures_available: bool = False

    @property
    def meaningful_change(self) -> int:
        return MEANINGFUL_CHANGE


def _safety_lines(client: Client) -> tuple[tuple[str, str], ...]:
    """What the screen knows about the client beyond its alerts: heat, cold and the physician's clearance."""
    if client.physician_clearance_on:
        clearance = f"Cleared by a physician on {client.physician_clearance_on:%-d %b %Y}"
    elif client.conditions_needing_clearance:
        clearance = "Needed, not yet given"
    else:
        clearance = "Not needed (no listed condition)"
    return (
        ("Heat-sensitive", "Yes" if client.heat_sensitive else "No"),
        ("Cold-sensitive", "Yes" if client.cold_sensitive else "No"),
        ("Physician clearance", clearance),
    )


def _measure_lines(client: Client) -> tuple[MeasureLine, ...]:
    """Each validated questionnaire answered (MFIS-5, any instrument seeded later): first and latest score, and the
    change against the instrument's MCID where one is published. One query."""
    if not fhir.measures_installed():
        return ()
    from measures.selectors import scores_for_client

    by_instrument: dict[str, list[Any]] = {}
    for score in scores_for_client(client):  # oldest first
        by_instrument.setdefault(score.instrument_code, []).append(score)
    return tuple(_measure_line(scores) for _code, scores in sorted(by_instrument.items()))


def _measure_line(scores: list[Any]) -> MeasureLine:
    first, latest = scores[0], scores[-1]
    change = latest.score - first.score
    if len(scores) < 2:
        verdict = "one score so far"
    elif first.mcid is None:
        verdict = "no published MCID"
    elif abs(change) >= first.mcid:
        better = (change < 0) == first.higher_is_worse
        verdict = f"{'better' if better else 'worse'} by at least the MCID ({format_number(first.mcid)})"
    else:
        verdict = f"within the MCID ({format_number(first.mcid)})"
    return MeasureLine(
        name=first.short_name,
        first=f"{first.score} ({first.completed_on:%-d %b %Y})",
        latest=f"{latest.score} ({latest.completed_on:%-d %b %Y})" if len(scores) > 1 else "",
        change=f"{change:+d}" if len(scores) > 1 else "",
        verdict=verdict,
    )


def client_summary(client: Client, *, today: dt.date | None = None) -> Summary:
    """Everything on the one-page summary of ``client``, in a fixed number of queries."""
    today = today or timezone.localdate()
    window = preset_range("3m", today)
    assert window.start is not None and window.end is not None  # a preset of 3 months has both ends
    recent = trend_report(client, start=window.start, end=window.end, signed_only=True)
    overall = trend_report(client, start=None, end=None, signed_only=True)
    current = DiseasePhase.objects.for_client(client).current().only("phase", "started_on").first()
    data = chart_data(recent)
    charts = (
        small_chart(data, "pain", "Pain (0-10)", window.start, window.end),
        small_chart(data, "fatigue", "Fatigue (0-10)", window.start, window.end),
    )
    therapists = tuple(
        (t.get_full_name() or t.get_username(), t.email)
        for t in client.therapists.order_by("first_name", "username").only(
            "first_name", "last_name", "username", "email"
        )
    )
    return Summary(
        client=client,
        today=today,
        ms_type=client.get_ms_type_display(),
        current_phase=phase_label(current.phase if current else None),
        current_phase_since=current.started_on if current else None,
        period_start=window.start,
        period_end=window.end,
        recent_sessions=recent.session_count,
        charts=charts,
        recent=recent,
        techniques=overall.by_technique[:TECHNIQUES_SHOWN],
        technique_count=len(overall.by_technique),
        all_sessions=overall.session_count,
        first_session=overall.sessions[0].date if overall.sessions else None,
        findings=tuple(client_alerts(client, current.phase if current else None)),
        safety=_safety_lines(client),
        therapists=therapists,
        measures=_measure_lines(client),
        measures_available=fhir.measures_installed(),
    )


# --- the PDF -------------------------------------------------------------------------------------------------------


def _weasyprint() -> Any:
    # Imported when a PDF is asked for: WeasyPrint loads Pango at import, which the rest of the site never needs.
    import weasyprint  # type: ignore[import-untyped]

    return weasyprint


def static_file(url: str) -> Path | None:
    """The file of one of our static addresses (``/static/...`` under PDF_BASE_URL), or None for any other URL."""
    parts = urlsplit(url)
    base = urlsplit(PDF_BASE_URL)
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(prefix):
        return None
    relative = parts.path[len(prefix) :]
    if not relative or ".." in relative.split("/"):
        return None
    found = finders.find(relative)
    if isinstance(found, list):
        found = found[0] if found else None
    if found is None and settings.STATIC_ROOT:
        candidate = Path(settings.STATIC_ROOT) / relative
        found = str(candidate) if candidate.is_file() else None
    return Path(found) if found else None


class RefusedFetch(ValueError):
    """WeasyPrint asked for something other than one of our static files."""


def static_only_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves our static files and refuses every other URL (no network, no disk)."""
    weasyprint = _weasyprint()
    base: Any = weasyprint.urls.URLFetcher

    class StaticOnlyFetcher(base):
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = static_file(url)
            if path is None:
                raise RefusedFetch(f"Only the practice's static files are used in a PDF, not {url[:80]}")
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return weasyprint.urls.URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type})

    return StaticOnlyFetcher()


def render_pdf(html: str) -> bytes:
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=static_only_fetcher())
    return document.write_pdf()


def summary_pdf(summary: Summary) -> bytes:
    return render_pdf(render_to_string("summary/pdf.html", {"summary": summary}))


def pdf_response(summary: Summary, filename: str) -> HttpResponse:
    response = HttpResponse(summary_pdf(summary), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def summary_filename(client: Client, today: dt.date) -> str:
    # No names in file names (as for the trend CSV): they end up in download folders and e-mail subjects.
    return f"client-{client.pk}-summary-{today:%Y-%m-%d}.pdf"


# --- the portal's views --------------------------------------------------------------------------------------------


def _portal_client(request: HttpRequest) -> Client:
    return request.user.client_profile  # type: ignore[union-attr]  # client_required lets only clients through


@require_GET
@never_cache
@client_required
def portal_summary(request: HttpRequest) -> HttpResponse:
    client = _portal_client(request)
    summary = client_summary(client)
    audit.record(request, audit.READ, object_type="summary", object_id=client.pk, client_id=client.pk)
    context = {"summary": summary, "pdf_href": reverse("portal:summary_pdf"), "audience": "client"}
    return render(request, "summary/page.html", context)


@require_GET
@never_cache
@client_required
def portal_summary_pdf(request: HttpRequest) -> HttpResponse:
    client = _portal_client(request)
    summary = client_summary(client)
    response = pdf_response(summary, f"my-summary-{summary.today:%Y-%m-%d}.pdf")
    audit.record(request, audit.EXPORT, object_type="summary_pdf", object_id=client.pk, client_id=client.pk)
    return response
