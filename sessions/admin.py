from django.contrib import admin

from practice.admin_mixins import LargeTableAdmin, NoDeleteAdminMixin, ReadOnlyInlineMixin
from sessions.models import SessionAmendment, Technique, TechniqueUse, TreatmentSession


@admin.register(Technique)
class TechniqueAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    list_display = ["name", "guidance", "uses_heat", "light_touch", "is_active"]
    list_filter = ["guidance", "uses_heat", "light_touch", "is_active"]
    search_fields = ["name", "reason"]
    prepopulated_fields = {"slug": ["name"]}


class TechniqueUseInline(NoDeleteAdminMixin, admin.TabularInline):
    model = TechniqueUse
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
class TreatmentSessionAdmin(NoDeleteAdminMixin, LargeTableAdmin):
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

    def has_change_permission(self, request, obj=None) -> bool:
        # Signed sessions are locked; the change page still opens, read-only.
        if obj is not None and obj.is_signed:
            return False
        return super().has_change_permission(request, obj)


@admin.register(SessionAmendment)
class SessionAmendmentAdmin(NoDeleteAdminMixin, LargeTableAdmin):
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
