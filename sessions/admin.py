from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from practice import audit
from practice.admin import HistoryAdmin
from practice.admin_mixins import LargeTableAdmin, NoDeleteAdminMixin, ReadOnlyInlineMixin
from sessions.forms import phase_on
from sessions.models import SessionAmendment, Technique, TechniqueUse, TreatmentSession
from sessions.safety import PlannedUse, Severity, has_stop, screen_session


@admin.register(Technique)
class TechniqueAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    list_display = ["name", "guidance", "uses_heat", "light_touch", "is_active"]
    list_filter = ["guidance", "uses_heat", "light_touch", "is_active"]
    search_fields = ["name", "reason"]
    prepopulated_fields = {"slug": ["name"]}


class SafetyScreenedUseFormSet(BaseInlineFormSet):
    """Runs the MS safety screen over the session and its rows, as the therapist's form does.

    A stop blocks saving unless the session has an override reason.
    """

    safety_findings: tuple = ()

    def clean(self) -> None:
        super().clean()
        session = self.instance
        if not session.client_id or session.started_at is None or self.total_error_count():
            return
        uses = [
            PlannedUse(form.cleaned_data["technique"], form.cleaned_data["body_region"], form.cleaned_data["pressure"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        self.safety_findings = screen_session(
            client=session.client,
            phase=phase_on(session.client, timezone.localdate(session.started_at)),
            uses=uses,
            room_temperature_c=session.room_temperature_c,
            pain_before=session.pain_before,
        )
        if has_stop(self.safety_findings) and not session.safety_override_reason.strip():
            stops = [f"Safety stop: {f.reason}" for f in self.safety_findings if f.severity == Severity.STOP]
            raise ValidationError(
                [*stops, "Change the plan, or write why you are going ahead in the Safety section's override reason."]
            )


class TechniqueUseInline(NoDeleteAdminMixin, admin.TabularInline):
    model = TechniqueUse
    formset = SafetyScreenedUseFormSet
    fields = ["technique", "body_region", "pressure"]
    autocomplete_fields = ["technique"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("technique")

    def _editable(self, obj) -> bool:
        return obj is None or not obj.is_signed

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)


class AmendmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = SessionAmendment
    fields = ["created_at", "author", "reason", "changes"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(TreatmentSession)
class TreatmentSessionAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, LargeTableAdmin):
    list_display = [
        "started_at",
        "client",
        "therapist",
        "setting",
        "status",
        "pain_before",
        "pain_after",
        "fatigue_before",
        "fatigue_after",
    ]
    list_filter = ["status", "setting"]
    search_fields = ["client__last_name", "client__first_name"]
    list_select_related = ["client", "therapist"]
    autocomplete_fields = ["client", "therapist"]
    date_hierarchy = "started_at"
    inlines = [TechniqueUseInline, AmendmentInline]
    readonly_fields = ["status", "signed_at", "signed_by", "version", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["client", "therapist", "started_at", "duration_minutes", "setting", "room_temperature_c"]}),
        (
            "Scores (0 = none, 10 = worst imaginable)",
            {"fields": ["pain_before", "pain_after", "fatigue_before", "fatigue_after"]},
        ),
        ("SOAP notes", {"fields": ["subjective", "objective", "assessment", "plan"]}),
        ("For the client", {"fields": ["client_summary"]}),
        ("Safety", {"fields": ["safety_override_reason"]}),
        ("State", {"fields": ["status", "signed_at", "signed_by", "version", "created_at", "updated_at"]}),
    ]

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            for finding in getattr(formset, "safety_findings", []):
                if finding.severity != Severity.INFO:
                    messages.warning(request, f"Safety {finding.severity_label.lower()}: {finding.reason}")

    def has_change_permission(self, request, obj=None) -> bool:
        # Signed sessions are locked; the change page still opens, read-only.
        if obj is not None and obj.is_signed:
            return False
        return super().has_change_permission(request, obj)


@admin.register(SessionAmendment)
class SessionAmendmentAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, LargeTableAdmin):
    list_display = ["session", "author", "created_at", "reason"]
    search_fields = ["session__client__last_name", "reason"]
    list_select_related = ["session__client", "author"]
    raw_id_fields = ["session", "author"]
    date_hierarchy = "created_at"
    readonly_fields = ["session", "author", "created_at", "reason", "changes"]

    def has_add_permission(self, request) -> bool:
        # Amendments are written through the amend service, which records what changed.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TreatmentSession.history.model)
class HistoricalTreatmentSessionAdmin(HistoryAdmin):
    search_fields = ["=id"]
