from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from practice import audit
from practice.admin import HistoryAdmin, TherapistFilter
from practice.admin_mixins import LargeTableAdmin, NoDeleteAdminMixin, ReadOnlyInlineMixin, RelatedFirstSearchMixin
from practice.history import history_recorded_by_app
from practice.models import record_history
from sessions.corrections import change_rows, corrected, corrected_mark
from sessions.drafts import draft_age_days, draft_age_label
from sessions.forms import TOO_MANY_ROWS
from sessions.models import (
    DRAFT_FIELDS,
    MAX_TECHNIQUE_USES,
    SessionAmendment,
    Technique,
    TechniqueUse,
    TreatmentSession,
)
from sessions.safety import Finding, PlannedUse, Severity, has_stop, kept_override_reason
from sessions.screening import LOOK_UP, override_reason_problem, screen_planned_session
from sessions.selectors import session_therapists
from sessions.services import (
    EditConflict,
    SessionWriteRefused,
    create_refusal,
    session_create,
    session_update,
)

CONFLICT_MESSAGE = "Someone else saved or signed this session after you opened it, so your changes were not saved."


@admin.register(Technique)
class TechniqueAdmin(NoDeleteAdminMixin, admin.ModelAdmin):
    list_display = ["name", "guidance", "uses_heat", "light_touch", "is_active"]
    list_filter = ["guidance", "uses_heat", "light_touch", "is_active"]
    search_fields = ["name", "reason"]
    prepopulated_fields = {"slug": ["name"]}


class SafetyScreenedUseFormSet(BaseInlineFormSet):
    """Runs the MS safety screen over the session and its rows, as the therapist's form does.

    A stop blocks saving unless the session has an override reason. The formset does not save its rows:
    ``TreatmentSessionAdmin.save_related`` writes them with the session, through the services.
    """

    default_error_messages = {"too_many_forms": TOO_MANY_ROWS}
    safety_findings: list[Finding] | None = None

    def planned_uses(self) -> list[PlannedUse]:
        return [
            PlannedUse(form.cleaned_data["technique"], form.cleaned_data["body_region"], form.cleaned_data["pressure"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def clean(self) -> None:
        super().clean()
        session = self.instance
        if not session.client_id or session.started_at is None or self.total_error_count():
            return
        self.safety_findings = screen_planned_session(
            client=session.client,
            when=session.started_at,
            uses=self.planned_uses(),
            room_temperature_c=session.room_temperature_c,
            pain_before=session.pain_before,
            relapse_reported_at=LOOK_UP,
        )
        if has_stop(self.safety_findings) and not session.safety_override_reason.strip():
            stops = [f"Safety stop: {f.reason}" for f in self.safety_findings if f.severity == Severity.STOP]
            raise ValidationError(
                [*stops, "Change the plan, or write why you are going ahead in the Safety section's override reason."]
            )
        # The same rule as the therapist's form and the services, said here, where the page shows it.
        problem = override_reason_problem(session.safety_override_reason) if has_stop(self.safety_findings) else None
        if problem:
            raise ValidationError(f"Safety section, override reason: {problem}")

    def note_changes(self) -> None:
        """What ``save()`` would have reported, for the admin's change message (the service wrote the rows)."""
        deleting = self._should_delete_form  # type: ignore[attr-defined]  # BaseFormSet's, missing from the stubs
        self.new_objects = [form.instance for form in self.extra_forms if form.has_changed() and not deleting(form)]
        self.changed_objects = [
            (form.instance, form.changed_data)
            for form in self.initial_forms
            if form.has_changed() and not deleting(form)
        ]
        self.deleted_objects = [form.instance for form in self.initial_forms if deleting(form)]


class TechniqueUseInline(NoDeleteAdminMixin, admin.TabularInline):
    model = TechniqueUse
    formset = SafetyScreenedUseFormSet
    fields = ["technique", "body_region", "pressure"]
    autocomplete_fields = ["technique"]
    extra = 0
    max_num = MAX_TECHNIQUE_USES

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("technique")

    def get_formset(self, request, obj=None, **kwargs):
        # Never build more rows than a session holds, whatever row count is posted; refuse more filled in.
        kwargs.setdefault("absolute_max", MAX_TECHNIQUE_USES)
        kwargs.setdefault("validate_max", True)
        return super().get_formset(request, obj, **kwargs)

    def _editable(self, obj) -> bool:
        return obj is None or not (obj.is_signed or obj.client.is_archived)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)


class AmendmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = SessionAmendment
    fields = readonly_fields = ("created_at", "author", "reason", "changes_in_words")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description="what changed")
    def changes_in_words(self, obj: SessionAmendment):
        return _changes_in_words(obj)


class TreatmentSessionAdminForm(forms.ModelForm):
    # The version the change page was opened at: saving over a save made since then is refused.
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["opened_version"].initial = self.instance.version

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        opened = cleaned.get("opened_version")
        if self.instance.pk is not None and opened is not None and opened != self.instance.version:
            raise ValidationError(f"{CONFLICT_MESSAGE} Open the session again to see it as it stands now.")
        client = cleaned.get("client")
        refusal = create_refusal(client=client) if client is not None else None
        if refusal:
            self.add_error("client", refusal)
        return cleaned


class OverrideFilter(admin.SimpleListFilter):
    """Sessions saved over a safety stop, their own or through a correction (``saved_over_stop``)."""

    title = "saved over a safety stop"
    parameter_name = "over_stop"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.saved_over_stop()
        if self.value() == "no":
            return queryset.not_saved_over_stop()
        return queryset


class DraftsToSignFilter(admin.SimpleListFilter):
    """Unsigned drafts, oldest first (TreatmentSessionAdmin.get_ordering), each with its age in the list."""

    title = "drafts to sign"
    parameter_name = "to_sign"

    def lookups(self, request, model_admin):
        return [("oldest", "Drafts, oldest first")]

    def queryset(self, request, queryset):
        return queryset.drafts() if self.value() == "oldest" else queryset


class CorrectedSessionColumns:
    """The columns that show a session as corrected, marked "corrected" with the signed original a click away
    (``sessions.corrections``): the sessions list and the sessions on a client's admin page. The queryset
    prefetches the amendments (``with_corrections()``), so the columns cost no query per row."""

    # The date as corrected; it sorts, and the date drill-down filters, by the stored (signed) date, which the
    # indexes hold: a session moved by a correction sorts where it was signed.
    @admin.display(description="started at", ordering="started_at")
    def started(self, obj: TreatmentSession) -> str:
        return corrected(obj).marked("started_at")

    @admin.display(description="state")
    def state(self, obj: TreatmentSession) -> str:
        """The session signed (marked "corrected", every signed original a click away, when amended) or a draft
        and its age."""
        if not obj.is_signed:
            return f"Draft, {draft_age_label(draft_age_days(obj.started_at))}"
        shown = corrected(obj)
        if shown.any_corrected:
            originals = [(label, old) for label, old, _new in shown.correction_rows()]
            return corrected_mark("Signed,", originals)
        return "Signed"

    @admin.display(description="pain")
    def pain(self, obj: TreatmentSession) -> str:
        return corrected(obj).marked_before_after("pain")

    @admin.display(description="fatigue")
    def fatigue(self, obj: TreatmentSession) -> str:
        return corrected(obj).marked_before_after("fatigue")


@admin.register(TreatmentSession)
class TreatmentSessionAdmin(
    CorrectedSessionColumns, audit.AuditedAdminMixin, NoDeleteAdminMixin, RelatedFirstSearchMixin, LargeTableAdmin
):
    form = TreatmentSessionAdminForm
    # Compact enough for a 1366 px window with the sidebar and filters open; the setting is a filter.
    list_display = ["started", "client", "therapist_name", "state", "pain", "fatigue", "over_stop"]
    # The date shows a "corrected" mark that opens in place, which a link around it would swallow.
    list_display_links = ["client"]
    # Only the date sorts: every other order would sort millions of sessions for one page.
    sortable_by = ["started"]
    list_filter = [DraftsToSignFilter, "status", OverrideFilter, TherapistFilter, "setting"]
    search_fields = ["client__last_name", "client__first_name", "therapist__username", "therapist__last_name"]
    search_help_text = "A client's or a therapist's name (or a therapist's username)."
    # The search looks names up in the small tables first (RelatedFirstSearchMixin), then sessions by id.
    related_search_fields = {
        "client": ["last_name", "first_name"],
        "therapist": ["username", "first_name", "last_name"],
    }
    list_select_related = ["client", "therapist"]
    # The therapist is chosen from a short list of the active therapists (formfield_for_foreignkey): the
    # users' autocomplete would offer every account, portal clients' included.
    autocomplete_fields = ["client"]
    date_hierarchy = "started_at"
    inlines = [TechniqueUseInline, AmendmentInline]
    readonly_fields = [
        "as_corrected",
        "status",
        "signed_at",
        "signed_by",
        "version",
        "created_at",
        "updated_at",
        "session_page",
    ]
    fieldsets = [
        ("As corrected", {"fields": ["as_corrected"]}),
        (None, {"fields": ["client", "therapist", "started_at", "duration_minutes", "setting", "room_temperature_c"]}),
        (
            "Scores (0 = none, 10 = worst imaginable)",
            {"fields": ["pain_before", "pain_after", "fatigue_before", "fatigue_after"]},
        ),
        ("SOAP notes", {"fields": ["subjective", "objective", "assessment", "plan"]}),
        ("For the client", {"fields": ["client_summary"]}),
        ("Safety", {"fields": ["safety_override_reason"]}),
        (
            "State",
            {"fields": ["status", "signed_at", "signed_by", "version", "created_at", "updated_at", "session_page"]},
        ),
    ]

    def view_on_site(self, obj: TreatmentSession) -> str:
        return reverse("sessions:detail", args=[obj.pk])

    @admin.display(description="session page")
    def session_page(self, obj: TreatmentSession):
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">Open the session page</a>', self.view_on_site(obj))

    @admin.display(description="therapist")
    def therapist_name(self, obj: TreatmentSession) -> str:
        return obj.therapist.get_full_name() or obj.therapist.username

    @admin.display(description="as corrected")
    def as_corrected(self, obj: TreatmentSession):
        """The session as it stands after its amendments, beside the signed original shown below."""
        if obj.pk is None:
            return "—"
        shown = corrected(obj)
        if not shown.any_corrected:
            return "Not corrected: the values below stand as signed."
        rows = format_html_join(
            "",
            "<li>{}: <strong>{}</strong> (corrected; signed original: {})</li>",
            ((label, new, old) for label, old, new in shown.correction_rows()),
        )
        return format_html(
            '<ul class="corrections" data-corrected>{}</ul><p>The fields below are the signed original. '
            'Reasons and authors: the amendments below, or <a href="{}#corrections">the session page</a>.</p>',
            rows,
            self.view_on_site(obj),
        )

    def get_queryset(self, request):
        # Each row shows the session as corrected: its amendments come in one query for the page.
        return super().get_queryset(request).with_corrections()

    @admin.display(description="over a stop")
    def over_stop(self, obj: TreatmentSession) -> str:
        # Words, not the admin's green tick: going ahead despite a stop is nothing to approve of at a glance.
        # The reason as corrected (prefetched): a correction saved over a stop keeps one, as saved_over_stop()
        # counts it; services.session_amend never records an empty one.
        return "Yes" if corrected(obj).safety_override_reason else "—"

    def get_ordering(self, request):
        # "Drafts to sign" lists the oldest first: the longest unsigned need signing first.
        if request.GET.get(DraftsToSignFilter.parameter_name):
            return ["started_at", "pk"]
        return super().get_ordering(request)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets
        # A draft's change page carries the version it was opened at, in a hidden field.
        *others, (name, options) = fieldsets
        return [*others, (name, {**options, "fields": [*options["fields"], "opened_version"]})]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "therapist":
            kwargs["queryset"] = session_therapists()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except EditConflict:
            # Saved by someone else between this form's checks and its write: show what is stored now.
            messages.error(request, f"{CONFLICT_MESSAGE} This is the session as it stands now.")
            return HttpResponseRedirect(request.get_full_path())
        except SessionWriteRefused as error:
            # The client was archived between this form's checks and its write: nothing was saved.
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change) -> None:
        """Nothing yet: save_related() writes the session with its technique rows, in one service call."""

    def save_related(self, request, form, formsets, change) -> None:
        session = form.instance
        uses_formset = next((f for f in formsets if isinstance(f, SafetyScreenedUseFormSet)), None)
        values = {name: getattr(session, name) for name in DRAFT_FIELDS}
        findings: list[Finding] = []
        # None keeps the stored rows: when they are unchanged, or not on the page (no permission for them).
        uses: list[PlannedUse] | None = None
        if uses_formset is not None:
            findings = uses_formset.safety_findings or []
            values["safety_override_reason"] = kept_override_reason(findings, values["safety_override_reason"])
            if not change or uses_formset.has_changed():
                uses = uses_formset.planned_uses()
        _adopt(session, self._write(request, form, values, uses, change, findings))
        form.save_m2m()
        for formset in formsets:
            if formset is uses_formset and uses_formset is not None:
                uses_formset.note_changes()
            else:
                self.save_formset(request, form, formset, change=change)
        for finding in findings:
            if finding.severity != Severity.INFO:
                messages.warning(request, f"Safety {finding.severity_label.lower()}: {finding.reason}")

    def _write(
        self, request, form, values: dict, uses: list[PlannedUse] | None, change: bool, findings: list[Finding]
    ) -> TreatmentSession:
        session = form.instance
        if not change:
            return session_create(
                client=session.client,
                therapist=session.therapist,
                values=values,
                uses=uses or [],
                findings=findings,
                user=request.user,
            )
        opened = form.cleaned_data.get("opened_version")
        # Without the page's version (a post that did not come from the page), the version just loaded.
        version = session.version if opened is None else opened
        values = {**values, "client": session.client, "therapist": session.therapist}
        with history_recorded_by_app(TreatmentSession):
            saved = session_update(
                session=session, version=version, values=values, uses=uses, user=request.user, findings=findings
            )
        # The conditional update goes around save(), so the change history is written here.
        record_history(saved, user=request.user, reason="Draft edited in the admin")
        return saved

    def has_change_permission(self, request, obj=None) -> bool:
        # Signed sessions are locked, and an archived client's are read-only until an owner restores the
        # client; the change page still opens, read-only.
        if obj is not None and (obj.is_signed or obj.client.is_archived):
            return False
        return super().has_change_permission(request, obj)


@admin.register(SessionAmendment)
class SessionAmendmentAdmin(audit.AuditedAdminMixin, NoDeleteAdminMixin, RelatedFirstSearchMixin, LargeTableAdmin):
    list_display = ["session", "author", "created_at", "reason"]
    search_fields = ["author__username", "author__first_name", "author__last_name"]
    search_help_text = "The name or username of whoever recorded the correction."
    related_search_fields = {"author": ["username", "first_name", "last_name"]}
    list_select_related = ["session__client", "author"]
    raw_id_fields = ["session", "author"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    sortable_by = ["created_at"]
    readonly_fields = ["session", "author", "created_at", "reason", "changes_in_words"]
    exclude = ["changes"]

    @admin.display(description="what changed")
    def changes_in_words(self, obj: SessionAmendment):
        return _changes_in_words(obj)

    def has_add_permission(self, request) -> bool:
        # Amendments are written through the amend service, which records what changed.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TreatmentSession.history.model)  # type: ignore[attr-defined]  # track_changes()
class HistoricalTreatmentSessionAdmin(HistoryAdmin):
    id_search_field = "id"
    search_help_text = "The session's number."


def _changes_in_words(amendment: SessionAmendment):
    """An amendment as "field: from → to" lines, not its JSON."""
    return format_html(
        '<ul class="amendment-changes">{}</ul>',
        format_html_join("", "<li>{}: {} → {}</li>", change_rows(amendment.changes)),
    )


def _adopt(instance: TreatmentSession, saved: TreatmentSession) -> None:
    """The admin carries on with its own instance (log entry, audit event, redirect): give it what was stored."""
    for field in TreatmentSession._meta.concrete_fields:
        setattr(instance, field.attname, getattr(saved, field.attname))
    instance._state.adding = False
