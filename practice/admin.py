from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice import two_factor
from practice.admin_mixins import LargeTableAdmin
from practice.models import AuditEvent
from practice.roles import THERAPIST, is_owner

# Users are autocompleted from client and session forms; make the search cheap and clear.
admin.site.unregister(User)


@admin.register(User)
class PracticeUserAdmin(UserAdmin):
    """Owners manage the practice's accounts; only superusers hand out power over the system itself.

    An owner who is not a superuser may edit names, e-mail, password and whether an account is active,
    and give or take away the therapist role. Superuser and staff status, the owner role and single
    permissions are for superusers alone, and a superuser's account is read-only to everyone else.
    """

    list_select_related = []
    search_fields = ["username", "first_name", "last_name", "email"]
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "is_staff", "user_permissions")
    actions = ["issue_two_factor_enrolment_link"]
    # Adds the "Issue a two-factor enrolment link" button, which runs the action for this one person.
    change_form_template = "practice/two_factor/user_change_form.html"

    @admin.action(description="Issue a two-factor enrolment link", permissions=["issue_enrolment_link"])
    def issue_two_factor_enrolment_link(self, request, queryset) -> TemplateResponse:
        """Shows each new link once (the practice keeps only its hash); see practice.two_factor."""
        links, skipped = two_factor.enrolment_links_issue(request, queryset.order_by("username"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Two-factor enrolment links",
            "opts": self.model._meta,
            "links": links,
            "skipped": skipped,
        }
        return TemplateResponse(request, "practice/two_factor/enrolment_issued.html", context)

    def has_issue_enrolment_link_permission(self, request) -> bool:
        return is_owner(request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            refusal = two_factor.enrolment_issue_refusal(issuer=request.user, user=obj)
            context["can_issue_enrolment_link"] = not refusal
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += [*self.SUPERUSER_ONLY_FIELDS, "last_login", "date_joined"]
        return readonly

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name=THERAPIST)
            kwargs["help_text"] = "Only a superuser can make someone an owner."
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change) -> None:
        # The groups field offers an owner only the therapist role; keep the roles it did not offer.
        unoffered = (
            list(form.instance.groups.exclude(name=THERAPIST)) if change and not request.user.is_superuser else []
        )
        super().save_related(request, form, formsets, change)
        if unoffered:
            form.instance.groups.add(*unoffered)


class OwnerReadOnlyAdmin(LargeTableAdmin):
    """Records nobody edits by hand: owners may look, nobody adds, changes or deletes."""

    actions = None

    def has_module_permission(self, request) -> bool:
        return is_owner(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_owner(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class NumberInputFilter(admin.SimpleListFilter):
    """A filter box for an id typed by hand (a client, say), instead of a list of every value."""

    template = "admin/practice/number_input_filter.html"
    field = ""

    def lookups(self, request, model_admin):
        # One placeholder choice so that the admin shows the filter at all.
        return [("", "")]

    def queryset(self, request, queryset):
        value = self.value()
        if value in (None, ""):
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        return queryset.filter(**{self.field: int(value)})

    def choices(self, changelist):
        others = [
            (key, value)
            for key, values in changelist.get_filters_params().items()
            if key != self.parameter_name
            for value in (values if isinstance(values, list) else [values])
        ]
        yield {
            "value": self.value() or "",
            "others": others,
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }


class ClientIdFilter(NumberInputFilter):
    title = "client id"
    parameter_name = "client_id"
    field = "client_id"


class TherapistFilter(admin.SimpleListFilter):
    """The practice's therapists by name (one query of the small users table), filtering on ``field``.

    Filters a big table by a foreign key's id, so that an index starting with it (a session's
    therapist and date, say) serves both the filter and the newest-first order.
    """

    title = "therapist"
    parameter_name = "therapist"
    field = "therapist_id"

    def lookups(self, request, model_admin):
        therapists = User.objects.filter(groups__name=THERAPIST).order_by("first_name", "last_name", "username")
        return [(str(user.pk), user.get_full_name() or user.username) for user in therapists]

    def queryset(self, request, queryset):
        value = self.value()
        if value in (None, ""):
            return queryset
        if not str(value).isdigit():
            return queryset.none()
        return queryset.filter(**{self.field: int(value)})


class ActorFilter(admin.SimpleListFilter):
    title = "actor (username)"
    parameter_name = "actor"
    template = "admin/practice/text_input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(actor_username=value) if value else queryset

    choices = NumberInputFilter.choices


@admin.register(AuditEvent)
class AuditEventAdmin(OwnerReadOnlyAdmin):
    list_display = [
        "time",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "client_link",
        "outcome",
        "ip_address",
        "sequence",
    ]
    list_display_links = ["time"]
    list_filter = ["action", "outcome", ClientIdFilter, ActorFilter, "object_type"]
    list_select_related = []
    search_fields = ["=actor_username"]
    search_help_text = "Exact username of the person who acted."
    date_hierarchy = "time"
    # Newest first by time (events are numbered in time order), so that each filter's (field, time) index
    # serves its page as well as its drill-down.
    ordering = ["-time", "-sequence"]
    sortable_by = ["time"]
    readonly_fields = [
        "sequence",
        "time",
        "actor",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "client_id",
        "ip_address",
        "outcome",
        "prev_hash",
        "hash",
    ]
    fields = tuple(readonly_fields)

    @admin.display(description="client", ordering="client_id")
    def client_link(self, event: AuditEvent):
        # The clients app annotates client_name (clients/admin.py); the practice knows clients only by id.
        if event.client_id is None:
            return "—"
        url = reverse("admin:clients_client_change", args=[event.client_id])
        name = getattr(event, "client_name", None) or "unknown"
        return format_html('<a href="{}">{} (#{})</a>', url, name, event.client_id)


class HistoryAdmin(OwnerReadOnlyAdmin):
    """Past states of a clinical record, one row per save (django-simple-history)."""

    list_display = ["history_date", "history_type", "history_user", "record"]
    # By client (indexed); not by kind of change, which no index serves and owners seldom need.
    list_filter = [ClientIdFilter]
    list_select_related = ["history_user"]
    date_hierarchy = "history_date"
    ordering = ["-history_date", "-history_id"]
    sortable_by = ["history_date"]

    # The one field a search looks up, by number: the record's id (or its client's). Django's own "=id" search
    # compares UPPER(id::text), which no index serves, so it would read the whole history for one record.
    id_search_field: str | None = None

    def get_search_fields(self, request):
        return [self.id_search_field] if self.id_search_field else super().get_search_fields(request)

    def get_search_results(self, request, queryset, search_term: str):
        if not self.id_search_field:
            return super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return queryset, False
        if not term.isdigit() or len(term) > 18:
            self.message_user(request, "Search by the record's number, e.g. 1234.", messages.WARNING)
            return queryset.none(), False
        return queryset.filter(**{self.id_search_field: int(term)}), False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(description="record")
    def record(self, historical) -> str:
        return f"#{historical.id}"


class HistoricalClientIdFilter(ClientIdFilter):
    field = "id"


class OwnerManagedAdmin(admin.ModelAdmin):
    """Security records owners may look at and remove (a lost phone, a lockout), never edit."""

    actions = None
    list_select_related = ["user"]
    raw_id_fields = ["user"]

    def has_module_permission(self, request) -> bool:
        return is_owner(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_owner(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_owner(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# django-otp's own admin shows secrets and recovery codes; owners only need to see and remove devices.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(TOTPDevice, StaticDevice)
class DeviceAdmin(OwnerManagedAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(OwnerManagedAdmin):
    """Failed sign-ins counted by django-axes; deleting a row lifts that lockout."""

    list_display = ["attempt_time", "username", "ip_address", "failures_since_start"]
    list_filter = ["attempt_time"]
    list_select_related = []
    raw_id_fields = []
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"
    fields = readonly_fields = ("attempt_time", "username", "ip_address", "failures_since_start", "path_info")
