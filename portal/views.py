"""The client portal: my sessions, how I feel today, my trends, my data; and the invitation that opens it.

Every portal view takes the client from the signed-in account (``request.user.client_profile``), never from
the address, so no address can show one client anything of another's. Pages and downloads of the record are
reads and exports in the audit trail, as they are for therapists.
"""

from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.intake import intake_due
from clients.models import Client, SelfReport
from clients.relapse import FOLLOW_UP_FIELDS, client_message
from clients.selectors import client_for_user, open_intake, todays_self_report
from clients.services import self_report_record, self_report_relapse_check
from portal.exports import (
    ClientExport,
    ExportFile,
    dated_name,
    export_date,
    portal_phases,
    portal_session_list,
    portal_sessions,
)
from portal.fhir import CLIENT, bundle_json, client_bundle
from portal.forms import RelapseCheckForm, SelfReportForm
from portal.invitations import (
    invitation_timeout_days,
    invitation_token_generator,
    may_accept_invitation,
    portal_invitation_send_for,
)
from practice import audit
from practice.access import client_required, clinician_required
from sessions.trend_views import full_table_requested, trend_context
from sessions.trends.queries import trend_report
from sessions.trends.questionnaires import questionnaire_charts
from sessions.trends.ranges import resolve_range

SESSIONS_PER_PAGE = 10


def _client(request: HttpRequest) -> Client:
    user = request.user
    assert isinstance(user, User)  # client_required lets only a signed-in client through
    return user.client_profile


@require_GET
@never_cache
@client_required
def home(request: HttpRequest) -> HttpResponse:
    """My sessions: signed sessions newest first, my MS phases, and today's form."""
    client = _client(request)
    page = Paginator(portal_sessions(client), SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    today = todays_self_report(client)
    # An intake due (none this year) or asked for by the therapist is said here, not only under My health details.
    due = intake_due(client)
    context = {
        "client": client,
        "page": page,
        "sessions": portal_session_list(page.object_list),
        "phases": portal_phases(client),
        "form": SelfReportForm.for_today(today),
        "today_report": today,
        "intake_due": due,
        # Read only when due: it says whether the therapist asked, and whether the client has begun.
        "open_intake": open_intake(client) if due else None,
    }
    audit.record(request, audit.READ, obj=client)
    return render(request, "portal/home.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def self_report(request: HttpRequest) -> HttpResponse:
    """How I feel today: one entry per day; saving again the same day updates it."""
    client = _client(request)
    today = todays_self_report(client)
    if request.method == "POST":
        form = SelfReportForm(request.POST)
        if form.is_valid():
            report, created = self_report_record(client=client, **form.cleaned_data)
            audit.record(request, audit.CREATE if created else audit.CHANGE, obj=report)
            messages.success(
                request,
                "Thank you. Today's entry is saved." if created else "Thank you. Today's entry is updated.",
            )
            # A new or worse symptom: the second step asks what tells a relapse from a pseudo-relapse.
            return redirect("portal:self_report_symptom" if report.new_or_worse_symptom else "portal:home")
        status = 400
    else:
        form, status = SelfReportForm.for_today(today), 200
    audit.record(
        request, audit.READ, object_type="self_report", object_id=today.pk if today else None, client_id=client.pk
    )
    return render(request, "portal/self_report.html", {"form": form, "today_report": today}, status=status)


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def self_report_symptom(request: HttpRequest) -> HttpResponse:
    """How I feel today, second step: a new or worse symptom's questions, and what to do (clients/relapse.py)."""
    client = _client(request)
    today = todays_self_report(client)
    if today is None or not today.new_or_worse_symptom:
        return redirect("portal:self_report")
    status = 200
    if request.method == "POST":
        form = RelapseCheckForm(request.POST)
        if form.is_valid():
            self_report_relapse_check(report=today, answers=form.cleaned_data)
            audit.record(request, audit.CHANGE, obj=today)
            # The page says what to do now, in words chosen for the answers (clients/relapse.py).
            messages.success(request, "Your answers are saved.")
            return redirect("portal:self_report_symptom")
        status = 400
    else:
        form = RelapseCheckForm.for_report(today)
        audit.record(request, audit.READ, obj=today)
    answered = any(getattr(today, field) for field in FOLLOW_UP_FIELDS)
    context = {
        "form": form,
        "today_report": today,
        "answered": answered,
        "triage_message": client_message(today.triage),
    }
    return render(request, "portal/self_report_symptom.html", context, status=status)


@require_GET
@never_cache
@client_required
def trends(request: HttpRequest) -> HttpResponse:
    """My trends: the therapist's chart and numbers from the same module, signed sessions only, worded for me."""
    client = _client(request)
    range_form, trend_range = resolve_range(request.GET, today=timezone.localdate())
    report = trend_report(client, start=trend_range.start, end=trend_range.end, signed_only=True)
    context = trend_context(
        report,
        audience="client",
        range_form=range_form,
        trend_range=trend_range,
        csv_url=reverse("portal:export_file", args=["trends.csv"]),
        full_table=full_table_requested(request.GET),
    )
    context["client"] = client
    context["questionnaire_charts"] = questionnaire_charts(client, start=trend_range.start, end=trend_range.end)
    audit.record(request, audit.READ, object_type="trends", object_id=client.pk, client_id=client.pk)
    return render(request, "portal/trends.html", context)


# The separate downloads, by the name in their address; and each one's kind in the audit trail.
EXPORT_FILES = {
    "sessions.csv": (
        ClientExport.sessions_csv,
        "Your sessions: date, therapist, techniques, body regions, scores and summary.",
    ),
    "phases.csv": (ClientExport.phases_csv, "Your MS phases as your therapist recorded them."),
    "self_reports.csv": (ClientExport.self_reports_csv, "How you said you felt, day by day."),
    "trends.csv": (ClientExport.trends_csv, "Your sessions and daily scores as on My trends, with the changes."),
    "record.json": (ClientExport.record_json, "All of the above and your profile in one file, for other programs."),
}


EXPORT_OBJECT_TYPES = {name: name.replace(".", "_") for name in EXPORT_FILES} | {
    "my-record.zip": "record_zip",
    "fhir.json": "fhir_json",
}


def _download_recorded(request: HttpRequest, client: Client, name: str, file: ExportFile) -> HttpResponse:
    response = _download(file)
    audit.record(request, audit.EXPORT, object_type=EXPORT_OBJECT_TYPES[name], object_id=client.pk, client_id=client.pk)
    return response


@require_GET
@never_cache
@client_required
def export(request: HttpRequest) -> HttpResponse:
    """My data: what can be downloaded, and in which files."""
    client = _client(request)
    today = export_date()
    files = [
        {"address": name, "download_name": dated_name(name, today), "description": description}
        for name, (_builder, description) in EXPORT_FILES.items()
    ]
    context = {
        "archive_name": dated_name("my-record.zip", today),
        "files": files,
        "session_count": portal_sessions(client).count(),
        "phase_count": portal_phases(client).count(),
        "self_report_count": SelfReport.objects.for_client(client).count(),
    }
    return render(request, "portal/export.html", context)


def _download(file: ExportFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.name}"'
    return response


@require_GET
@never_cache
@client_required
def export_zip(request: HttpRequest) -> HttpResponse:
    client = _client(request)
    return _download_recorded(request, client, "my-record.zip", ClientExport(client).archive())


@require_GET
@never_cache
@client_required
def export_file(request: HttpRequest, filename: str) -> HttpResponse:
    if filename not in EXPORT_FILES:
        raise Http404("No such file.")
    builder, _description = EXPORT_FILES[filename]
    # The trends file follows the range chosen on My trends (all time unless one is given).
    params = request.GET.copy()
    params.setdefault("range", "all")
    _form, trend_range = resolve_range(params, today=timezone.localdate())
    client = _client(request)
    return _download_recorded(request, client, filename, builder(ClientExport(client, trend_range=trend_range)))


@require_GET
@never_cache
@client_required
def export_fhir(request: HttpRequest) -> HttpResponse:
    """My record as a FHIR R4 Bundle for other health systems (portal/fhir.py): no SOAP notes, no override reasons."""
    client = _client(request)
    file = ExportFile(
        dated_name("fhir.json", export_date()), "application/fhir+json", bundle_json(client_bundle(client, CLIENT))
    )
    return _download_recorded(request, client, "fhir.json", file)


@require_POST
@clinician_required
def invite(request: HttpRequest, client_id: int) -> HttpResponse:
    """A therapist or owner invites a client they care for to the portal."""
    client = client_for_user(request, client_id)
    try:
        user = portal_invitation_send_for(request, client)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Invitation sent to {user.email}. The link works once and expires in {invitation_timeout_days()} days. "
            f"{client.first_name}'s username is {user.username}.",
        )
    return redirect(reverse("clients:detail", args=[client.pk]))


class InvitationAcceptView(PasswordResetConfirmView):
    """The invitation link: the client chooses a password, is signed in and lands on the portal.

    Django's view keeps the token out of the address (and so out of Referer headers) after the first visit.
    """

    template_name = "portal/welcome.html"
    token_generator = invitation_token_generator
    post_reset_login = True
    # Named, so signing in works however many authentication backends the practice adds.
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    # Straight on to the intake and consents: a new client has none yet (portal/intake.py).
    success_url = reverse_lazy("portal:intake")
    title = "Choose your password"

    def get_user(self, uidb64: str):
        user = super().get_user(uidb64)
        return user if user is not None and may_accept_invitation(user) else None

    def form_valid(self, form):
        response = super().form_valid(form)
        # Signing in records its own event; this one says the invitation was taken up.
        user = form.user
        audit.record(
            self.request,
            audit.CHANGE,
            object_type="portal_account",
            object_id=user.pk,
            client_id=user.client_profile.pk,
            actor=user,
        )
        messages.success(self.request, "Welcome. Your password is set and you are signed in.")
        return response


accept = InvitationAcceptView.as_view()
