from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from clients.models import Client, DiseasePhase, Phase, SelfReport
from practice import audit
from practice.admin import AuditEventAdmin, HistoricalClientIdFilter, HistoryAdmin
from practice.admin_mixins import LargeTableAdmin, NoDeleteAdminMixin, RelatedFirstSearchMixin
from practice.models import AuditEvent


class DiseasePhaseFormSet(BaseInlineFormSet):
    """Checks the submitted phases against each other, not only against what is already saved.

    Each row's own validation compares it with the saved rows; two new rows in one submission
    would otherwise both pass and then break the database's one-open-phase and no-overlap rules.
    """

    def clean(self) -> None:
        super().clean()
        rows = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("started_on")
        ]
        open_rows = [form for form in rows if form.cleaned_data.get("ended_on") is None]
        for form in open_rows[1:]:
            form.add_error("ended_on", "Only one phase can be ongoing: give the earlier phases an end date.")
        ordered = sorted(rows, key=lambda form: form.cleaned_data["started_on"])
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            ends = earlier.cleaned_data.get("ended_on")
            if ends is None or ends > later.cleaned_data["started_on"]:
                start = earlier.cleaned_data["started_on"]
                later.add_error(
                    "started_on",
                    f"This phase overlaps the one starting {start:%d %b %Y} in this form. "
                    "A phase may start on the day the previous one ends, not before.",
                )


class DiseasePhaseInline(NoDeleteAdminMixin, admin.TabularInline):
    model = DiseasePhase
    formset = DiseasePhaseFormSet
    fields = ["phase", "started_on", "ended_on", "notes"]
    extra = 0
    ordering = ["-started_on"]


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Active"), ("yes", "Archived"), ("all", "All")]

    def choices(self, changelist):
        # Active clients are the default view; "All" is an explicit choice.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "no") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "no"
        if value == "no":
            return queryset.active()
        if value == "yes":
            return queryset.archived()
        return queryset


class CurrentPhaseFilter(admin.SimpleListFilter):
    title = "current phase"
    parameter_name = "current_phase"

    def lookups(self, request, model_admin):
        return [*Phase.choices, ("none", "None recorded")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(current_phase__isnull=True)
        if value in Phase.values:
            return queryset.filter(current_phase=value)
        return queryset


@admin.register(Client)
class ClientAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, LargeTableAdmin):
    list_display = [
        "full_name",
        "ms_type",
        "current_phase_display",
        "therapist_names",
        "archived",
    ]
    list_display_links = ["full_name"]
    list_filter = [ArchivedFilter, CurrentPhaseFilter, "ms_type", "heat_sensitive", "cold_sensitive", "therapists"]
    search_fields = ["last_name", "first_name", "preferred_name", "email"]
    autocomplete_fields = ["therapists", "user"]
    inlines = [DiseasePhaseInline]
    actions = ["archive_clients", "unarchive_clients"]
    readonly_fields = ["archived_at", "created_at", "updated_at", "clinical_views", "record_access"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "preferred_name", "date_of_birth"]}),
        ("Contact", {"fields": ["email", "phone", "address"]}),
        (
            "Emergency contact",
            {"fields": ["emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone"]},
        ),
        (
            "Physician and neurologist",
            {"fields": ["physician_name", "physician_phone", "neurologist_name", "neurologist_phone"]},
        ),
        (
            "Health profile",
            {
                "fields": [
                    "ms_type",
                    "diagnosis_year",
                    "edss",
                    "heat_sensitive",
                    "cold_sensitive",
                    "conditions_needing_clearance",
                    "physician_clearance_on",
                    "reduced_sensation_regions",
                    "pressure_sore_regions",
                    "goals",
                ]
            },
        ),
        ("Care", {"fields": ["therapists", "user"]}),
        ("Record", {"fields": ["archived_at", "created_at", "updated_at", "clinical_views", "record_access"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_current_phase().prefetch_related("therapists")

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj: Client) -> str:
        return f"{obj.last_name}, {obj.first_name}"

    @admin.display(description="current phase", ordering="current_phase")
    def current_phase_display(self, obj: Client) -> str:
        current_phase = obj.current_phase  # type: ignore[attr-defined]  # annotated by get_queryset()
        return Phase(current_phase).label if current_phase else "—"

    @admin.display(description="therapists")
    def therapist_names(self, obj: Client) -> str:
        return ", ".join(t.get_full_name() or t.username for t in obj.therapists.all())

    def view_on_site(self, obj: Client) -> str:
        return reverse("clients:detail", args=[obj.pk])

    @admin.display(description="in the practice")
    def clinical_views(self, obj: Client):
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Client record</a> · <a href="{}">Trends</a>',
            self.view_on_site(obj),
            reverse("trends:page", args=[obj.pk]),
        )

    @admin.display(description="who has looked at this record")
    def record_access(self, obj: Client):
        if obj.pk is None:
            return "—"
        audit = reverse("admin:practice_auditevent_changelist")
        history = reverse("admin:practice_historicalclient_changelist")
        return format_html(
            '<a href="{}?client_id={}">Audit log for this client</a> · <a href="{}?client_id={}">Change history</a>',
            audit,
            obj.pk,
            history,
            obj.pk,
        )

    @admin.display(description="archived", boolean=True, ordering="archived_at")
    def archived(self, obj: Client) -> bool:
        return obj.is_archived

    @admin.action(description="Archive selected clients", permissions=["change"])
    def archive_clients(self, request, queryset):
        count = 0
        for client in queryset.active():
            client.archive()
            audit.record(request, audit.ARCHIVE, obj=client)
            count += 1
        self.message_user(request, f"Archived {count} client(s). Their records are kept.", messages.SUCCESS)

    @admin.action(description="Restore selected clients from the archive", permissions=["change"])
    def unarchive_clients(self, request, queryset):
        count = 0
        for client in queryset.archived():
            client.unarchive()
            # The log has no "restore" action: restoring is a change of the record (archived_at cleared).
            audit.record(request, audit.CHANGE, obj=client)
            count += 1
        self.message_user(request, f"Restored {count} client(s).", messages.SUCCESS)


@admin.register(DiseasePhase)
class DiseasePhaseAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, RelatedFirstSearchMixin, LargeTableAdmin):
    list_display = ["client", "phase", "started_on", "ended_on", "is_current"]
    list_filter = ["phase", ("ended_on", admin.EmptyFieldListFilter)]
    search_fields = ["client__last_name", "client__first_name"]
    search_help_text = "A client's name."
    related_search_fields = {"client": ["last_name", "first_name"]}
    sortable_by = ["started_on"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
    raw_id_fields = ["recorded_by"]
    date_hierarchy = "started_on"

    @admin.display(boolean=True, description="current")
    def is_current(self, obj: DiseasePhase) -> bool:
        return obj.is_current


@admin.register(Client.history.model)  # type: ignore[attr-defined]  # added by track_changes()
class HistoricalClientAdmin(HistoryAdmin):
    list_filter = [HistoricalClientIdFilter]
    search_fields = ["last_name", "first_name"]


@admin.register(DiseasePhase.history.model)  # type: ignore[attr-defined]  # added by track_changes()
class HistoricalDiseasePhaseAdmin(HistoryAdmin):
    id_search_field = "id"
    search_help_text = "The phase's number."


@admin.register(SelfReport.history.model)  # type: ignore[attr-defined]  # added by track_changes()
class HistoricalSelfReportAdmin(HistoryAdmin):
    """Every "How I feel today" entry as it was, including the ones the client replaced later that day."""

    list_display = ["history_date", "history_type", "record", "recorded_on"]
    id_search_field = "client_id"
    search_help_text = "The client's number."


class AuditEventWithClientAdmin(AuditEventAdmin):
    """The audit log with each event's client named (the practice's own admin knows clients only by id)."""

    def get_queryset(self, request):
        name = Client.objects.filter(pk=OuterRef("client_id")).values_list(
            Concat("last_name", Value(", "), "first_name")
        )
        return super().get_queryset(request).annotate(client_name=Subquery(name[:1]))


admin.site.unregister(AuditEvent)
admin.site.register(AuditEvent, AuditEventWithClientAdmin)
