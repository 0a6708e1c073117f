"""The owner's outcomes report and its CSV files, inside the admin (owners only, audited as report reads)."""

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from outcomes import chart, questionnaires, selectors
from outcomes.forms import ReportFilterForm
from outcomes.selectors import CourseRow, Filters, MeasureSummary, TechniqueRow, TherapistRow
from practice import audit
from practice.models import AuditAction
from practice.roles import is_owner
from practice.spreadsheets import csv_response

SUMMARY_COLUMNS = (
    "measure",
    "clients",
    "baseline_mean",
    "baseline_sd",
    "follow_up_mean",
    "follow_up_sd",
    "mean_change",
    "change_ci_low",
    "change_ci_high",
    "improved",
    "improved_share",
    "improved_ci_low",
    "improved_ci_high",
    "worsened",
    "worsened_share",
    "immediate_change",
)
COURSE_COLUMNS = (
    "client_id",
    "therapist_id",
    "course_start",
    "follow_up_on",
    "phase_at_start",
    "ms_type",
    "pain_baseline",
    "pain_follow_up",
    "pain_change",
    "fatigue_baseline",
    "fatigue_follow_up",
    "fatigue_change",
    "immediate_pain_change",
    "immediate_fatigue_change",
)
TECHNIQUE_COLUMNS = (
    "technique_id",
    "phase",
    "sessions",
    "clients",
    "pain_change_mean",
    "pain_change_ci_low",
    "pain_change_ci_high",
    "fatigue_change_mean",
    "fatigue_change_ci_low",
    "fatigue_change_ci_high",
    "few",
)
THERAPIST_COLUMNS = ("therapist_id", "sessions", "overrides", "override_share", "overdue_drafts")
# Decimal places in the CSV files: enough to reproduce every figure the page rounds.
PLACES = 4


def owner_report(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin's own sign-in and two-factor checks, then owners only (a 403, as other owner-only admin pages)."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_owner(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(require_GET(checked))


def _filters(request: HttpRequest) -> tuple[ReportFilterForm, Filters]:
    form = ReportFilterForm(request.GET)
    return form, form.filters()


def _audit(request: HttpRequest, name: str, filters: Filters) -> None:
    # The report's name and its filters: dates, codes and ids, never a score or a name.
    audit.record(request, AuditAction.REPORT_READ, object_type=name, object_id=filters.describe())


@owner_report
def report(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    courses, questionnaire = questionnaires.report_courses(filters)
    phases = selectors.by_phase(courses)
    bars = chart.improved_bars(phases)
    _audit(request, "outcomes_report", filters)
    context = {
        **admin.site.each_context(request),
        "title": "Outcomes: what the scores say",
        "form": form,
        "filters": filters,
        "overall": selectors.group_summary("", "All courses", courses),
        "questionnaire": questionnaire,
        "by_phase": phases,
        "by_ms_type": selectors.by_ms_type(courses),
        "panels": [chart.panel(measure, courses) for measure in selectors.MEASURES],
        "bars": bars,
        "bars_height": chart.bars_height(bars),
        "techniques": selectors.techniques(filters),
        "therapists": selectors.therapists(filters),
        "few_sessions": selectors.FEW_SESSIONS,
        "query": request.GET.urlencode(),
        "chart": chart,
    }
    return TemplateResponse(request, "outcomes/report.html", context)


@owner_report
def summary_csv(request: HttpRequest) -> HttpResponse:
    _, filters = _filters(request)
    overall = selectors.group_summary("", "", selectors.courses(filters))
    _audit(request, "outcomes_summary_csv", filters)
    return csv_response("outcomes-summary.csv", SUMMARY_COLUMNS, _summary_rows((overall.pain, overall.fatigue)))


@owner_report
def courses_csv(request: HttpRequest) -> HttpResponse:
    _, filters = _filters(request)
    rows = selectors.courses(filters)
    _audit(request, "outcomes_courses_csv", filters)
    return csv_response("outcomes-courses.csv", COURSE_COLUMNS, _course_rows(rows))


@owner_report
def techniques_csv(request: HttpRequest) -> HttpResponse:
    _, filters = _filters(request)
    rows = selectors.techniques(filters)
    _audit(request, "outcomes_techniques_csv", filters)
    return csv_response("outcomes-techniques.csv", TECHNIQUE_COLUMNS, _technique_rows(rows))


@owner_report
def therapists_csv(request: HttpRequest) -> HttpResponse:
    _, filters = _filters(request)
    rows = selectors.therapists(filters)
    _audit(request, "outcomes_therapists_csv", filters)
    return csv_response("outcomes-therapists.csv", THERAPIST_COLUMNS, _therapist_rows(rows))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, PLACES)


def _summary_rows(summaries: Iterable[MeasureSummary]) -> Iterable[dict[str, Any]]:
    for s in summaries:
        yield {
            "measure": s.measure,
            "clients": s.clients,
            "baseline_mean": _round(s.baseline_mean),
            "baseline_sd": _round(s.baseline_sd),
            "follow_up_mean": _round(s.follow_up_mean),
            "follow_up_sd": _round(s.follow_up_sd),
            "mean_change": _round(s.mean_change),
            "change_ci_low": _round(s.change_ci.low) if s.change_ci else None,
            "change_ci_high": _round(s.change_ci.high) if s.change_ci else None,
            "improved": s.improved,
            "improved_share": _round(s.improved_share),
            "improved_ci_low": _round(s.improved_ci.low) if s.improved_ci else None,
            "improved_ci_high": _round(s.improved_ci.high) if s.improved_ci else None,
            "worsened": s.worsened,
            "worsened_share": _round(s.worsened_share),
            "immediate_change": _round(s.immediate_change),
        }


def _course_rows(courses: Iterable[CourseRow]) -> Iterable[dict[str, Any]]:
    for c in courses:
        yield {
            "client_id": c.client_id,
            "therapist_id": c.therapist_id,
            "course_start": c.course_start.isoformat(),
            "follow_up_on": c.follow_up_on.isoformat(),
            "phase_at_start": c.phase_at_start,
            "ms_type": c.ms_type,
            "pain_baseline": c.pain_baseline,
            "pain_follow_up": c.pain_follow_up,
            "pain_change": c.pain_change,
            "fatigue_baseline": c.fatigue_baseline,
            "fatigue_follow_up": c.fatigue_follow_up,
            "fatigue_change": c.fatigue_change,
            "immediate_pain_change": _round(c.immediate_pain_change),
            "immediate_fatigue_change": _round(c.immediate_fatigue_change),
        }


def _technique_rows(rows: Iterable[TechniqueRow]) -> Iterable[dict[str, Any]]:
    for r in rows:
        yield {
            "technique_id": r.technique_id,
            "phase": r.phase,
            "sessions": r.sessions,
            "clients": r.clients,
            "pain_change_mean": _round(r.pain_mean),
            "pain_change_ci_low": _round(r.pain_ci.low) if r.pain_ci else None,
            "pain_change_ci_high": _round(r.pain_ci.high) if r.pain_ci else None,
            "fatigue_change_mean": _round(r.fatigue_mean),
            "fatigue_change_ci_low": _round(r.fatigue_ci.low) if r.fatigue_ci else None,
            "fatigue_change_ci_high": _round(r.fatigue_ci.high) if r.fatigue_ci else None,
            "few": "yes" if r.few else "no",
        }


def _therapist_rows(rows: Iterable[TherapistRow]) -> Iterable[dict[str, Any]]:
    for r in rows:
        yield {
            "therapist_id": r.therapist_id,
            "sessions": r.sessions,
            "overrides": r.overrides,
            "override_share": _round(r.override_share),
            "overdue_drafts": r.overdue_drafts,
        }
