from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from clients.intake import consent_agree, consent_text_add
from clients.models import (
    Client,
    Consent,
    ConsentKind,
    ConsentText,
    ConsentWithdrawal,
    DiseasePhase,
    Intake,
    Phase,
    SelfReport,
)
from practice import audit
from practice.admin import AuditEventAdmin, HistoricalClientIdFilter, HistoryAdmin, OwnerReadOnlyAdmin
from practice.admin_mixins import LargeTableAdmin, NoDeleteAdminMixin, ReadOnlyInlineMixin, RelatedFirstSearchMixin
from practice.models import AuditEvent
from practice.roles import THERAPIST, is_owner


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
        # By the open phases' client ids (phase_open_started_idx, one per client), not by the annotated
        # current phase, which would run its subquery for every client before the page is cut.
        value = self.value()
        open_phases = DiseasePhase.objects.filter(ended_on__isnull=True)
        if value == "none":
            return queryset.exclude(Exists(open_phases.filter(client=OuterRef("pk"))))
        if value in Phase.values:
            return queryset.filter(pk__in=open_phases.filter(phase=value).values("client_id"))
        return queryset


class TherapistFilter(admin.SimpleListFilter):
    """Clients a therapist cares for, by id: a join on the therapists table would make the list DISTINCT, and
    the page's annotations would then be computed for every matching client before the page is cut."""

    title = "therapist"
    parameter_name = "therapist"

    def lookups(self, request, model_admin):
        therapists = User.objects.filter(groups__name=THERAPIST).order_by("last_name", "first_name", "username")
        return [(str(user.pk), user.get_full_name() or user.username) for user in therapists]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        through = Client.therapists.through
        return queryset.filter(pk__in=through.objects.filter(user_id=int(value)).values("client_id"))


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
    list_filter = [ArchivedFilter, CurrentPhaseFilter, "ms_type", "heat_sensitive", "cold_sensitive", TherapistFilter]
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


@admin.register(Intake)
class IntakeAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, RelatedFirstSearchMixin, OwnerReadOnlyAdmin):
    """Intakes as the clients sent them; the therapist reviews them from the client's record."""

    list_display = ["client", "status", "step", "requested_at", "started_at", "submitted_at", "reviewed_at"]
    list_filter = ["status"]
    search_fields = ["client__last_name", "client__first_name"]
    search_help_text = "A client's name."
    related_search_fields = {"client": ["last_name", "first_name"]}
    sortable_by = ["submitted_at"]
    list_select_related = ["client"]
    raw_id_fields = ["client", "requested_by", "reviewed_by"]
    date_hierarchy = "submitted_at"


@admin.register(ConsentText)
class ConsentTextAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, admin.ModelAdmin):
    """The consent texts. A change is a new version (the newest is what clients agree to); old ones stay as read."""

    list_display = ["kind", "version", "created_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["text"]
    list_select_related = ["created_by"]
    raw_id_fields = ["created_by"]
    fields = ["kind", "text"]
    readonly_fields = ["version", "created_at", "created_by"]

    # Owners only (the roles migration predates consents); nobody edits a version once written.
    def has_module_permission(self, request) -> bool:
        return is_owner(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_owner(request.user)

    def has_add_permission(self, request) -> bool:
        return is_owner(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return ["kind", "version", "text", "created_at", "created_by"] if obj else ["kind", "text"]

    def get_changeform_initial_data(self, request):
        # "Add a version" starts from the current wording of that kind, to edit rather than retype.
        initial = super().get_changeform_initial_data(request)
        kind = initial.get("kind")
        current = ConsentText.objects.current(kind) if isinstance(kind, str) else None
        if current is not None:
            initial["text"] = current.text
        return initial

    def save_model(self, request, obj, form, change) -> None:
        # The version is the next of its kind, taken under a lock by the service; the form's instance is replaced.
        saved = consent_text_add(kind=obj.kind, text=obj.text, created_by=request.user)
        obj.pk, obj.version, obj.created_at, obj.created_by = (
            saved.pk,
            saved.version,
            saved.created_at,
            saved.created_by,
        )
        obj._state.adding = False


class ConsentWithdrawalInline(ReadOnlyInlineMixin, admin.StackedInline):
    model = ConsentWithdrawal
    fields = readonly_fields = ("withdrawn_at", "typed_name", "recorded_by")


class PaperConsentForm(forms.ModelForm):
    """The owner's record of a consent given on paper; what the service would refuse is said on the form."""

    class Meta:
        model = Consent
        fields = ["client", "consent_text", "typed_name"]

    def clean_typed_name(self) -> str:
        name = " ".join(self.cleaned_data.get("typed_name", "").split())
        if len(name) < 2:
            raise ValidationError("Type the name the client wrote on the paper form.")
        return name

    def clean_client(self) -> Client:
        client = self.cleaned_data["client"]
        client.ensure_editable()
        return client


@admin.register(Consent)
class ConsentAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, RelatedFirstSearchMixin, OwnerReadOnlyAdmin):
    """Consents as the clients gave them, by typing their name; never changed, never deleted."""

    list_display = ["client", "consent_text", "typed_name", "agreed_at", "withdrawn"]
    list_filter = [("withdrawal", admin.EmptyFieldListFilter)]
    search_fields = ["client__last_name", "client__first_name"]
    search_help_text = "A client's name."
    related_search_fields = {"client": ["last_name", "first_name"]}
    sortable_by = ["agreed_at"]
    list_select_related = ["client", "consent_text", "withdrawal"]
    raw_id_fields = ["client", "consent_text", "recorded_by"]
    date_hierarchy = "agreed_at"
    inlines = [ConsentWithdrawalInline]
    add_form = PaperConsentForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(boolean=True, description="withdrawn")
    def withdrawn(self, obj: Consent) -> bool:
        return hasattr(obj, "withdrawal")

    # A consent given on paper: the owner records it here with the name the client wrote and the version they
    # signed (only a current version: an older one would not let a session be saved). Never changed afterwards.
    def has_add_permission(self, request, obj=None) -> bool:
        return is_owner(request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["client", "consent_text", "typed_name"]
        return ["client", "consent_text", "typed_name", "agreed_at", "recorded_by"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "consent_text":
            current = [text.pk for kind in ConsentKind.values if (text := ConsentText.objects.current(kind))]
            kwargs["queryset"] = ConsentText.objects.filter(pk__in=current)
            kwargs["help_text"] = "The version the client signed on paper: the current one of each consent."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        # Through the service, as the portal does: a double submit makes one record.
        saved = consent_agree(
            client=obj.client, kind=obj.consent_text.kind, typed_name=obj.typed_name, recorded_by=request.user
        )
        obj.pk, obj.agreed_at, obj.recorded_by = saved.pk, saved.agreed_at, saved.recorded_by
        obj._state.adding = False


@admin.register(ConsentWithdrawal)
class ConsentWithdrawalAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, OwnerReadOnlyAdmin):
    list_display = ["consent", "typed_name", "withdrawn_at"]
    search_fields = ["consent__client__last_name", "consent__client__first_name"]
    search_help_text = "A client's name."
    sortable_by = ["withdrawn_at"]
    list_select_related = ["consent__client", "consent__consent_text"]
    raw_id_fields = ["consent", "recorded_by"]
    date_hierarchy = "withdrawn_at"


class AuditEventWithClientAdmin(AuditEventAdmin):
    """The audit log with each event's client named (the practice's own admin knows clients only by id)."""

    def get_queryset(self, request):
        name = Client.objects.filter(pk=OuterRef("client_id")).values_list(
            Concat("last_name", Value(", "), "first_name")
        )
        return super().get_queryset(request).annotate(client_name=Subquery(name[:1]))


admin.site.unregister(AuditEvent)
admin.site.register(AuditEvent, AuditEventWithClientAdmin)
