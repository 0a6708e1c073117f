"""The therapist's workspace for clients: the caseload, a client's record, the profile and the phase timeline.

Every client is fetched through ``Client.objects.cared_for_by(request.user)``: a client someone
does not care for is a 404, whatever the address (and an ACCESS_DENIED event in the audit trail).
Each page about one client records one audit event: the write it made, or else a read.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods

from clients.body_regions import region_labels
from clients.forms import ClientProfileForm, PhaseEndForm, PhaseStartForm
from clients.models import ClearanceCondition, Client, DiseasePhase, Goal, phase_label
from clients.selectors import client_for_user
from measures.selectors import newest_score
from portal.fhir import CLINICIAN, bundle_response, client_bundle
from portal.invitations import portal_invitation_possible
from practice import audit
from practice.access import clinician_required
from practice.roles import is_owner
from sessions.corrections import corrected_list, with_corrections
from workspace import selectors


@clinician_required
def caseload(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    archived = request.GET.get("archived") == "1"
    clients = selectors.caseload(request.user, search=search, archived=archived)
    page = Paginator(clients, selectors.CASELOAD_PAGE_SIZE).get_page(request.GET.get("page"))
    drafts = selectors.drafts_to_sign(request.user)
    context = {
        "page": page,
        "rows": [selectors.caseload_row(client) for client in page],
        "search": search,
        "archived": archived,
        "drafts": drafts[: selectors.DRAFTS_SHOWN],
        "more_drafts": len(drafts) > selectors.DRAFTS_SHOWN,
    }
    return render(request, "workspace/caseload.html", context)


@clinician_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for_user(request, pk, clients=selectors.record_clients())
    context = _record_context(request, client)
    audit.record(request, audit.READ, obj=client)
    return render(request, "workspace/detail.html", context)


def _record_context(request: HttpRequest, client: Client) -> dict:
    all_phases = request.GET.get("phases") == "all"
    phases = selectors.phase_history(client, limit=None if all_phases else selectors.RECORD_PHASES_SHOWN)
    more_phases = len(phases) > selectors.RECORD_PHASES_SHOWN and not all_phases
    phases = phases[: selectors.RECORD_PHASES_SHOWN] if more_phases else phases
    # The open episode starts after every other, so it is among the newest shown.
    current = next((p for p in phases if p.is_current), None)
    sessions = Paginator(with_corrections(selectors.record_sessions(client)), selectors.RECORD_SESSIONS_PAGE_SIZE)
    sessions_page = sessions.get_page(request.GET.get("page"))
    # Each session as corrected (sessions.corrections): amended values, marked, the original a click away.
    sessions_page.object_list = corrected_list(sessions_page.object_list)  # type: ignore[assignment]  # rows to show
    for session in sessions_page.object_list:
        # phase: on the (corrected) session date; phase_label: set here for the template.
        session.phase_label = phase_label(session.phase)  # type: ignore[attr-defined]
    return {
        "client": client,
        "row": selectors.caseload_row(client),
        "health_profile": _health_profile(client),
        "contacts": _contacts(client),
        "therapists": list(client.therapists.order_by("first_name", "username")),
        "phases": phases,
        "more_phases": more_phases,
        "current_phase": current,
        "start_form": PhaseStartForm(client=client),
        "end_form": PhaseEndForm(phase=current) if current else None,
        "sessions_page": sessions_page,
        "can_invite": portal_invitation_possible(client),
        # The intake, consent and reported-relapse panel (workspace/intake_review.py).
        "treatment_consent_missing": selectors.treatment_consent_missing(client),
        "newest_score": newest_score(client),
        "is_owner": is_owner(request.user),
    }


def _labels(codes: list[str], choices) -> str:
    names = dict(choices)
    return ", ".join(str(names.get(code, code)) for code in codes)


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _health_profile(client: Client) -> list[tuple[str, str]]:
    return [
        ("MS type", client.get_ms_type_display()),
        ("Year of diagnosis", str(client.diagnosis_year or "")),
        ("EDSS", f"{client.edss:.1f}" if client.edss is not None else ""),
        ("Heat-sensitive", _yes_no(client.heat_sensitive)),
        ("Cold-sensitive", _yes_no(client.cold_sensitive)),
        ("Conditions needing clearance", _labels(client.conditions_needing_clearance, ClearanceCondition.choices)),
        (
            "Physician cleared massage on",
            date_format(client.physician_clearance_on, "j M Y") if client.physician_clearance_on else "",
        ),
        ("Reduced sensation", ", ".join(region_labels(client.reduced_sensation_regions))),
        ("Pressure sores", ", ".join(region_labels(client.pressure_sore_regions))),
        ("Goals", _labels(client.goals, Goal.choices)),
    ]


def _contacts(client: Client) -> list[tuple[str, str]]:
    emergency = " · ".join(
        part
        for part in (
            client.emergency_contact_name,
            client.emergency_contact_relationship,
            client.emergency_contact_phone,
        )
        if part
    )
    return [
        ("Date of birth", date_format(client.date_of_birth, "j M Y") if client.date_of_birth else ""),
        ("Phone", client.phone),
        ("E-mail", client.email),
        ("Address", client.address),
        ("Emergency contact", emergency),
        ("Physician", " · ".join(p for p in (client.physician_name, client.physician_phone) if p)),
        ("Neurologist", " · ".join(p for p in (client.neurologist_name, client.neurologist_phone) if p)),
    ]


def _archived(request: HttpRequest, client: Client) -> HttpResponse:
    try:
        client.ensure_editable()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("clients:detail", pk=client.pk)


@clinician_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for_user(request, pk)
    if client.is_archived:
        return _archived(request, client)
    can_assign = is_owner(request.user)
    form = ClientProfileForm(request.POST or None, instance=client, can_assign_therapists=can_assign)
    if request.method == "POST" and form.is_valid():
        # The profile and its therapists are one change: both saved or neither.
        with transaction.atomic():
            form.save()
        audit.record(request, audit.CHANGE, obj=client)
        messages.success(request, f"{client.full_name}'s profile is saved.")
        return redirect("clients:detail", pk=client.pk)
    # The form shows the whole profile: opening it (or seeing it again with errors) is a read.
    audit.record(request, audit.READ, obj=client)
    return render(request, "workspace/edit.html", {"client": client, "form": form})


@clinician_required
@require_http_methods(["GET", "POST"])
def phase_start(request: HttpRequest, pk: int) -> HttpResponse:
    """GET shows the form on its own; the record page posts here too. Errors come back on this page."""
    client = client_for_user(request, pk)
    if client.is_archived:
        return _archived(request, client)
    form = PhaseStartForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        phase = form.save(recorded_by=request.user)
        if phase is not None:
            audit.record(request, audit.PHASE_CHANGE, obj=phase)
            messages.success(request, f"{phase.get_phase_display()} recorded from {phase.started_on:%d %b %Y}.")
            return redirect("clients:detail", pk=client.pk)
    current = DiseasePhase.objects.for_client(client).current().first()
    context = {"client": client, "form": form, "current_phase": current, "action": "start"}
    audit.record(request, audit.READ, obj=client)
    return render(request, "workspace/phase_form.html", context)


@clinician_required
@require_http_methods(["GET", "POST"])
def phase_end(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for_user(request, pk)
    if client.is_archived:
        return _archived(request, client)
    current = DiseasePhase.objects.for_client(client).current().first()
    if current is None:
        messages.error(request, f"{client.full_name} has no current phase to end.")
        return redirect("clients:detail", pk=client.pk)
    form = PhaseEndForm(request.POST or None, phase=current)
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        audit.record(request, audit.PHASE_CHANGE, obj=current)
        ended = f"{current.ended_on:%d %b %Y}"
        messages.success(request, f"The {current.get_phase_display().lower()} phase ended on {ended}.")
        return redirect("clients:detail", pk=client.pk)
    context = {"client": client, "form": form, "current_phase": current, "action": "end"}
    audit.record(request, audit.READ, obj=client)
    return render(request, "workspace/phase_form.html", context)


@clinician_required
@require_GET
def fhir_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The client's record as a FHIR R4 Bundle (portal/fhir.py), SOAP notes included; exported as the trend CSV is."""
    client = client_for_user(request, pk)
    filename = f"client-{client.pk}-fhir-{timezone.localdate():%Y-%m-%d}.json"
    response = bundle_response(client_bundle(client, CLINICIAN), filename)
    audit.record(request, audit.EXPORT, object_type="fhir_json", object_id=client.pk, client_id=client.pk)
    return response
