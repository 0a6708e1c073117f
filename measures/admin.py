"""The owner's view of the instruments and of every questionnaire: read-only, for owners only.

Instruments are data seeded by migrations, so that their wording, scoring and MCID stay as cited in
docs/measures.md: adding or changing one is a data migration, not an edit here. A submitted questionnaire is
corrected by an amendment, from the client's record (workspace), never in the admin.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from measures.models import Instrument, QuestionnaireAmendment, QuestionnaireResponse
from practice import audit
from practice.admin import OwnerReadOnlyAdmin
from practice.admin_mixins import NoDeleteAdminMixin, ReadOnlyInlineMixin, RelatedFirstSearchMixin
from practice.roles import is_owner

INSTRUMENTS_ARE_DATA = (
    "Read-only: instruments are data seeded by migrations, so that their wording, scoring and MCID stay as "
    "published (docs/measures.md). To add or change one, write a data migration in measures/migrations."
)


@admin.register(Instrument)
class InstrumentAdmin(NoDeleteAdminMixin, OwnerReadOnlyAdmin):
    explanation = INSTRUMENTS_ARE_DATA  # shown on the list and each page (templates/admin/measures/)
    list_display = ["short_name", "name", "item_count", "score_range", "mcid", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "short_name"]
    search_help_text = "The instrument's code or name."
    sortable_by = None  # a handful of rows: any column may sort
    fieldsets = [
        (None, {"fields": ["code", "name", "short_name", "is_active"]}),
        ("Questions", {"fields": ["recall_period", "instructions", "items_in_words"]}),
        ("Scoring", {"fields": ["scoring", "score_range", "mcid", "higher_is_worse"]}),
        ("Source", {"fields": ["source", "licence_note"]}),
    ]
    readonly_fields = ["items_in_words", "score_range"]

    @admin.display(description="range")
    def score_range(self, obj: Instrument) -> str:
        return f"{obj.score_min}-{obj.score_max}"

    @admin.display(description="items")
    def items_in_words(self, obj: Instrument):
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} <span>({})</span></li>",
                (
                    (item["text"], ", ".join(f"{o['value']} {o['label']}" for o in item["options"]))
                    for item in obj.items
                ),
            ),
        )


class QuestionnaireAmendmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = QuestionnaireAmendment
    fields = readonly_fields = ("created_at", "author", "reason", "changes_in_words", "score")

    def has_view_permission(self, request, obj=None) -> bool:
        return is_owner(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "response__instrument")

    @admin.display(description="what changed")
    def changes_in_words(self, obj: QuestionnaireAmendment) -> str:
        numbers = {item["link_id"]: n for n, item in enumerate(obj.response.instrument.items, start=1)}
        return "; ".join(
            f"question {numbers.get(link_id, link_id)}: {change['from']} to {change['to']}"
            for link_id, change in obj.changes.items()
        )


@admin.register(QuestionnaireResponse)
class QuestionnaireResponseAdmin(
    audit.AuditedAdminMixin, NoDeleteAdminMixin, RelatedFirstSearchMixin, OwnerReadOnlyAdmin
):
    explanation = (
        "Read-only: a submitted questionnaire is corrected by an amendment, from the client's record "
        "(the questionnaire's page there). Nothing here is ever deleted."
    )
    list_display = ["client", "instrument", "status", "started_at", "submitted_at", "score", "corrected_score"]
    # Every option has an index plan (migration 0004): by instrument, newest first; a client's name finds the
    # client first (RelatedFirstSearchMixin), then their questionnaires by client id. No sortable columns.
    list_filter = ["instrument"]
    search_fields = ["client__last_name", "client__first_name"]
    search_help_text = "A client's name."
    related_search_fields = {"client": ["last_name", "first_name"]}
    list_select_related = ["client", "instrument"]
    ordering = ["-started_at", "-pk"]
    inlines = [QuestionnaireAmendmentInline]
    fields = [
        "client",
        "instrument",
        "status",
        "started_at",
        "submitted_at",
        "answers_in_words",
        "score",
        "corrected_score",
        "entered_by",
        "entered_in",
    ]
    readonly_fields = ["answers_in_words", "corrected_score"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_current_score()

    @admin.display(description="score after corrections")
    def corrected_score(self, obj: QuestionnaireResponse) -> str:
        current = getattr(obj, "current_score", obj.score)
        if current is None:
            return "-"
        return f"{current} (corrected)" if getattr(obj, "is_amended", False) else str(current)

    @admin.display(description="answers as submitted")
    def answers_in_words(self, obj: QuestionnaireResponse):
        rows = []
        for item in obj.instrument.items:
            value = obj.answers.get(item["link_id"])
            label = next((o["label"] for o in item["options"] if o["value"] == value), "not answered")
            rows.append((item["text"], label, "" if value is None else f" ({value})"))
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{}: {}{}</li>", rows))
