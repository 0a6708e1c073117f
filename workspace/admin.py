"""The owner's page for a client, as the whole record: the client's admin with their sessions and portal invitation.

``clients`` cannot know about sessions or the portal (they build on it), so the client's admin is
completed here, where the record is composed from all three, and registered in place of the plain one.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from clients.admin import ClientAdmin, DiseasePhaseInline
from clients.models import Client
from portal.invitations import portal_invitation_send_for
from practice.admin_mixins import ReadOnlyInlineMixin
from sessions.admin import CorrectedSessionColumns
from sessions.corrections import with_corrections
from sessions.models import TreatmentSession

# Shown, and read-only, in the client's sessions inline: each session as corrected, as the sessions list shows it.
SESSION_INLINE_FIELDS = ("started", "therapist", "state", "pain", "fatigue")


class TreatmentSessionInline(CorrectedSessionColumns, ReadOnlyInlineMixin, admin.TabularInline):
    model = TreatmentSession
    fields = SESSION_INLINE_FIELDS
    readonly_fields = SESSION_INLINE_FIELDS
    show_change_link = True
    # By the stored date, as the sessions list sorts (a session moved by a correction stays where it was signed).
    ordering = ["-started_at"]
    classes = ["collapse"]
    verbose_name_plural = "treatment sessions (newest first)"

    def get_queryset(self, request):
        # The amendments of all the client's sessions in one query (sessions.corrections reads them).
        return with_corrections(super().get_queryset(request).select_related("client", "therapist"))


class ClientRecordAdmin(ClientAdmin):
    list_display = [
        "full_name",
        "ms_type",
        "current_phase_display",
        "last_session_display",
        "session_count",
        "therapist_names",
        "archived",
    ]
    inlines = [DiseasePhaseInline, TreatmentSessionInline]
    actions = [*ClientAdmin.actions, "invite_to_portal"]

    def get_queryset(self, request):
        sessions = TreatmentSession.objects.filter(client=OuterRef("pk"))
        # Correlated subqueries run only for the rows on the page, not the whole table; the last session is one
        # probe of session_client_started_idx from its newest end, not the maximum over all the client's sessions.
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_session_at=Subquery(sessions.order_by("-started_at").values("started_at")[:1]),
                sessions_total=Coalesce(
                    Subquery(sessions.order_by().values("client").annotate(n=Count("pk")).values("n")), 0
                ),
            )
        )

    @admin.display(description="last session", ordering="last_session_at")
    def last_session_display(self, obj: Client):
        return obj.last_session_at  # type: ignore[attr-defined]  # annotated by get_queryset()

    @admin.display(description="sessions", ordering="sessions_total")
    def session_count(self, obj: Client) -> int:
        return obj.sessions_total  # type: ignore[attr-defined]  # annotated by get_queryset()

    @admin.action(description="Invite to portal (e-mail a set-password link)", permissions=["change"])
    def invite_to_portal(self, request, queryset):
        for client in queryset.order_by("pk"):
            try:
                user = portal_invitation_send_for(request, client)
            except ValidationError as error:
                self.message_user(request, f"{client}: {' '.join(error.messages)}", messages.WARNING)
            else:
                self.message_user(request, f"{client}: invitation sent to {user.email}.", messages.SUCCESS)


admin.site.unregister(Client)
admin.site.register(Client, ClientRecordAdmin)
