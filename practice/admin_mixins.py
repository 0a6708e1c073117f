"""Admin building blocks shared by the apps, and what keeps big changelists fast.

A changelist of millions of sessions costs, left to Django's defaults, a COUNT(*) over every
matching row for the paginator, a DISTINCT over every row for the date drill-down, and another
for each "by value" filter, on every page view (1.1 s for the sessions list at 4.4 million
sessions, 0.56 s for the audit log at a million events). ``LargeTableAdmin`` replaces all three:
counts are exact for small results and the planner's estimate for big ones, the drill-down reads
one index entry per year (month, day), and value filters read the newest rows only (30 ms each).
"""

import datetime as dt
import json
from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import smart_split, unescape_string_literal

from practice.dates import local_midnight

# Up to this many rows a result is counted exactly (cheap); beyond it the planner's estimate is shown.
EXACT_COUNT_LIMIT = 10_000
# A drill-down level with more candidate periods than this falls back to Django's own query.
MAX_PERIODS = 120
# A "by value" filter on a big table lists the values found in this many newest rows.
RECENT_ROWS = 5_000
# A search lists up to this many ids of matching people (clients, therapists) in its query.
MAX_LISTED_IDS = 500


# The owner's home (the admin index and its sidebar): each model in a section, under a plain name, by
# "app_label.ModelName" so that the practice never imports the apps it lists. Sections come in this order;
# a model not named here is listed under "Other".
ADMIN_SECTIONS: dict[str, dict[str, str]] = {
    "Records": {
        "clients.Client": "Clients",
        "clients.DiseasePhase": "MS phases",
        "treatment_sessions.TreatmentSession": "Treatment sessions",
        "treatment_sessions.SessionAmendment": "Amendments to signed sessions",
        "treatment_sessions.Technique": "Techniques",
        "clients.SelfReport": "How I feel today",
        "measures.QuestionnaireResponse": "Questionnaires",
        "measures.Instrument": "Questionnaire instruments",
        "clients.Intake": "Intakes",
        "clients.ConsentText": "Consent texts",
        "clients.Consent": "Consents",
        "clients.ConsentWithdrawal": "Consent withdrawals",
    },
    "People": {"auth.User": "Accounts", "auth.Group": "Roles"},
    "Security": {
        "axes.AccessAttempt": "Sign-in lockouts",
        "otp_totp.TOTPDevice": "Two-factor devices: authenticator apps",
        "otp_static.StaticDevice": "Two-factor devices: recovery codes",
    },
    "History": {
        "practice.AuditEvent": "Audit trail",
        "practice.HistoricalClient": "Change history: clients",
        "practice.HistoricalDiseasePhase": "Change history: MS phases",
        "practice.HistoricalTreatmentSession": "Change history: treatment sessions",
        "practice.HistoricalSelfReport": "Change history: how I feel today",
    },
}
PLAIN_NAMES = {label: name for models_ in ADMIN_SECTIONS.values() for label, name in models_.items()}


class PracticeAdminSite(admin.AdminSite):
    """The admin as the owner's home: "View site" opens the product, and the index lists sections, not apps."""

    site_url = "/clients/"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            for entry in app["models"]:
                entry["name"] = PLAIN_NAMES.get(_label(app, entry), entry["name"])
        if app_label is not None:
            return app_list  # an app's own page (/admin/clients/) keeps its app
        return sectioned(app_list)


def _label(app: dict[str, Any], entry: dict[str, Any]) -> str:
    return f"{app['app_label']}.{entry['object_name']}"


def sectioned(app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Django's list of apps regrouped into ``ADMIN_SECTIONS``, each listing only what the user may see."""
    entries = {_label(app, entry): entry for app in app_list for entry in app["models"]}
    sections = [
        (name, [entries.pop(label) for label in labels if label in entries]) for name, labels in ADMIN_SECTIONS.items()
    ]
    sections.append(("Other", sorted(entries.values(), key=lambda entry: entry["name"])))
    return [
        {"name": name, "app_label": name.lower(), "app_url": "", "has_module_perms": True, "models": models_}
        for name, models_ in sections
        if models_
    ]


class PracticeAdminConfig(AdminConfig):
    """Django's admin with the practice's site (``INSTALLED_APPS`` names this instead of django.contrib.admin)."""

    default_site = "practice.admin_mixins.PracticeAdminSite"


class NoDeleteAdminMixin:
    """Clinical records are never deleted: no delete button, no "delete selected".

    A delete address typed by hand gets a page in the admin's look that says why (status 403).
    """

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        opts = self.model._meta  # type: ignore[attr-defined]  # a ModelAdmin's
        site = self.admin_site  # type: ignore[attr-defined]
        context = {
            **site.each_context(request),
            "title": f"{opts.verbose_name_plural.capitalize()} are never deleted",
            "opts": opts,
            "can_view": self.has_view_permission(request),  # type: ignore[attr-defined]
        }
        return TemplateResponse(request, "admin/delete_refused.html", context, status=403)


class ReadOnlyInlineMixin:
    can_delete = False
    extra = 0
    max_num: int | None = 0  # typed as InlineModelAdmin types it

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EstimatedCountPaginator(Paginator):
    """Count exactly up to ``EXACT_COUNT_LIMIT`` rows; beyond that, on PostgreSQL, use the planner's estimate.

    The exact count reads at most ``EXACT_COUNT_LIMIT + 1`` rows (a capped subquery), so a big
    result never costs a full COUNT(*). The estimate is what EXPLAIN says the query returns: good
    enough for page links over millions of sessions, filtered or not. SQLite has no estimate to give
    and counts the big result in full.
    """

    exact_limit = EXACT_COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, models.QuerySet):
            return super().count
        # Only the ids: annotations the page shows (last session, counts...) are not computed to count.
        capped = queryset.order_by().values("pk")[: self.exact_limit + 1].count()
        if capped <= self.exact_limit:
            return capped
        if connections[queryset.db].vendor != "postgresql":
            return super().count
        return max(planner_estimate(queryset), capped)


def planner_estimate(queryset: models.QuerySet) -> int:
    """The number of rows PostgreSQL's planner expects ``queryset`` to return (one EXPLAIN, no rows read)."""
    connection = connections[queryset.db]
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CheapDateDrillDownQuerySet(models.QuerySet):
    """``dates()`` and ``datetimes()`` that never scan the whole table.

    The admin's date drill-down lists the years (months, days) that hold rows, which Django asks
    for as SELECT DISTINCT date_trunc(...) over every matching row. Here: the first and last value
    (two index probes), then one query asking, for each period between them, whether any row
    falls in it (one index entry each).
    """

    def aggregate(self, *args, **kwargs):
        result = super().aggregate(*args, **kwargs)
        # The drill-down first asks for first=Min(field), last=Max(field) on this very queryset; keep the
        # answer so that listing the periods does not ask again.
        first, last = kwargs.get("first"), kwargs.get("last")
        if not args and len(kwargs) == 2 and isinstance(first, models.Min) and isinstance(last, models.Max):
            field = getattr(first.source_expressions[0], "name", None)
            if field and field == getattr(last.source_expressions[0], "name", None):
                self.__dict__.setdefault("_spans", {})[field] = result
        return result

    def dates(self, field_name, kind, order="ASC"):
        if kind == "week" or order != "ASC":
            return super().dates(field_name, kind, order)
        return self._periods(field_name, kind, aware=False) or super().dates(field_name, kind, order)

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month", "day") or order != "ASC" or tzinfo is not None:
            return super().datetimes(field_name, kind, order, tzinfo)
        return self._periods(field_name, kind, aware=True) or super().datetimes(field_name, kind, order, tzinfo)

    def _periods(self, field_name: str, kind: str, *, aware: bool) -> list | None:
        span = self.__dict__.get("_spans", {}).get(field_name) or self.aggregate(
            first=models.Min(field_name), last=models.Max(field_name)
        )
        if span["first"] is None:
            return []
        first, last = span["first"], span["last"]
        if aware and timezone.is_aware(first):
            first, last = timezone.localtime(first), timezone.localtime(last)
        starts = _period_starts(_as_date(first), _as_date(last), kind)
        if len(starts) > MAX_PERIODS:
            return None
        bounds = [(start, _next_period(start, kind)) for start in starts]
        if aware:
            bounds = [(local_midnight(start), local_midnight(end)) for start, end in bounds]
        present = self._any_in(field_name, bounds)
        return [start for (start, _end), found in zip(bounds, present, strict=True) if found]

    def _any_in(self, field_name: str, bounds: list[tuple]) -> list[bool]:
        """One query: for each [start, end), is there a row? Each part reads one entry of the field's index.

        Scalar subqueries, not EXISTS: PostgreSQL drops ORDER BY ... LIMIT inside EXISTS, and without
        it the planner may prefer a sequential scan "until the first match", which reads every earlier
        year first when rows are stored roughly in date order (as an audit log is).
        """
        parts: list[str] = []
        params: list[Any] = []
        for start, end in bounds:
            in_period = self.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
            probe = in_period.order_by(field_name).values("pk")[:1]
            sql, probe_params = probe.query.sql_with_params()
            parts.append(f"({sql})")
            params.extend(probe_params)
        with connections[self.db].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            return [value is not None for value in cursor.fetchone()]


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _period_starts(first: dt.date, last: dt.date, kind: str) -> list[dt.date]:
    start = {"year": first.replace(month=1, day=1), "month": first.replace(day=1), "day": first}[kind]
    starts: list[dt.date] = []
    while start <= last and len(starts) <= MAX_PERIODS:
        starts.append(start)
        start = _next_period(start, kind)
    return starts


def _next_period(start: dt.date, kind: str) -> dt.date:
    if kind == "year":
        return start.replace(year=start.year + 1)
    if kind == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


_cheap_classes: dict[type, type] = {}


def with_cheap_date_drill_down(queryset: models.QuerySet) -> models.QuerySet:
    """The same queryset (and every queryset chained from it) with the cheap ``dates()``/``datetimes()``.

    The model's own QuerySet class is kept (its methods still work): a subclass mixing in the cheap
    versions is made once per class.
    """
    base = type(queryset)
    if issubclass(base, CheapDateDrillDownQuerySet):
        return queryset
    if base not in _cheap_classes:
        name = f"CheapDates_{base.__module__.replace('.', '_')}_{base.__name__}"
        cheap = type(name, (CheapDateDrillDownQuerySet, base), {"__module__": __name__, "__qualname__": name})
        globals().setdefault(name, cheap)  # findable by name, so a queryset of it can be pickled
        _cheap_classes[base] = cheap
    clone = queryset.all()  # a copy, as every chained call makes
    clone.__class__ = _cheap_classes[base]
    return clone


class RecentValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Django's "by value" filter, listing the values of the newest ``RECENT_ROWS`` rows.

    The stock filter runs SELECT DISTINCT over the whole table on every page view (128 ms over a
    million audit events). The values of such columns (kinds of events, say) change slowly; a value
    only old rows hold can still be filtered on from the address bar.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        # Read newest first along the primary key, then tell the values apart here: 5,000 short strings
        # are a few milliseconds, where any DISTINCT the database plans is a join or a scan.
        newest = model._default_manager.order_by("-pk").values_list(field.name, flat=True)[:RECENT_ROWS]
        values = set(newest)
        choices: list[Any] = sorted(value for value in values if value is not None)
        if None in values:
            choices.append(None)
        self.lookup_choices = choices  # type: ignore[assignment]  # Django only iterates it; a list will do


def cheap_list_filter(model: type[models.Model], spec):
    """``spec`` itself, unless it is a plain field name Django would filter with a table-wide DISTINCT."""
    if not isinstance(spec, str) or LOOKUP_SEP in spec:
        return spec
    try:
        field = model._meta.get_field(spec)
    except FieldDoesNotExist:
        return spec
    if (
        isinstance(field, models.ForeignObjectRel)
        or field.is_relation
        or field.flatchoices
        or isinstance(field, models.BooleanField | models.DateField)
    ):
        return spec
    return (spec, RecentValuesFieldListFilter)


class LargeTableAdmin(admin.ModelAdmin):
    """For tables that grow without bound (sessions, phases, the audit log, histories).

    No full-table count (``show_full_result_count = False`` and the estimating paginator), a date
    drill-down that reads indexes only, and "by value" filters that read recent rows only.
    Subclasses still set ``list_select_related`` so a page of 50 rows costs one query, not 50.
    """

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    # A column sorts only where an index serves the sort (subclasses name the indexed date column); any
    # other column would sort the whole table for each page (tests/practice/test_admin_index_plans.py).
    sortable_by: ClassVar[list[str] | tuple[str, ...] | None] = ()

    def get_queryset(self, request):
        return with_cheap_date_drill_down(super().get_queryset(request))

    def get_list_filter(self, request):
        return [cheap_list_filter(self.model, spec) for spec in super().get_list_filter(request)]


class RelatedFirstSearchMixin:
    """Search a big table through the small tables it points at: find the matching rows there first.

    ``related_search_fields`` maps a foreign key to the fields searched on its model, e.g.
    ``{"therapist": ["username", "first_name", "last_name"]}``. A row matches when, for one of the keys,
    the row it points at holds every word of the search (in any of the fields). The ids found (one query
    per key on a table of people) then filter the big table by its foreign keys, which its indexes on
    (key, date) serve; joining and filtering on names instead reads the big table in date order until
    enough rows match, which for a rare name is the whole table.
    """

    related_search_fields: dict[str, list[str]] = {}

    def get_search_results(self, request, queryset, search_term: str):
        words = [_unquoted(word) for word in smart_split(search_term)]
        if not words:
            return queryset, False
        matches = models.Q(pk__in=[])
        for key, fields in self.related_search_fields.items():
            related = queryset.model._meta.get_field(key).related_model._default_manager.all()
            for word in words:
                related = related.filter(_any_contains(fields, word))
            ids = list(related.values_list("pk", flat=True)[: MAX_LISTED_IDS + 1])
            # A word most rows match (a single letter) is left to a subquery: the planner then reads the big
            # table newest first, and matching rows come soon.
            found = ids if len(ids) <= MAX_LISTED_IDS else related.values("pk")
            matches |= models.Q(**{f"{key}__in": found})
        return queryset.filter(matches), False


def _unquoted(word: str) -> str:
    """A quoted phrase as Django's own search reads it ("maria lopez" is one word); anything else as typed."""
    if len(word) > 1 and word[0] in "\"'" and word[0] == word[-1]:
        return unescape_string_literal(word)
    return word


def _any_contains(fields: list[str], word: str) -> models.Q:
    condition = models.Q()
    for field in fields:
        condition |= models.Q(**{f"{field}__icontains": word})
    return condition
