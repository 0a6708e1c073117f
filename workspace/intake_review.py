"""The therapist's side of the client's intake: the review page, asking for an update, and "not a relapse".

The rules are in clients/intake_review.py (what differs, what accepting writes, when a reported relapse is
settled); these views fetch the client through ``client_for_user`` (someone else's client is a 404), call those
services and record the audit events: a read for opening the review, a change for the review itself (and for the
profile when answers were accepted), a phase change for "not a relapse".
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clients.intake import request_intake_update
from clients.intake_review import intake_accept, intake_differences, intake_only_answers, relapse_dismiss
from clients.models import Intake, IntakeStatus
from clients.selectors import client_for_user
from practice import audit
from practice.access import SignedInRequest, clinician_required


@clinician_required
@require_http_methods(["GET", "POST"])
def review(request: SignedInRequest, pk: int, intake_id: int) -> HttpResponse:
    """What the client said beside the record, field by field; the ticked differences go into the record."""
    client = client_for_user(request, pk)
    # Only submitted intakes: one still being filled in is the client's draft, not yet said.
    intake = get_object_or_404(Intake.objects.submitted().select_related("reviewed_by"), pk=intake_id, client=client)
    status = 200
    if request.method == "POST":
        accepted = request.POST.getlist("accept")
        try:
            intake_accept(intake=intake, reviewed_by=request.user, accepted_fields=accepted)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            status = 400
        else:
            audit.record(request, audit.CHANGE, obj=intake)
            if accepted:
                audit.record(request, audit.CHANGE, obj=client)
            taken = f"{len(accepted)} answer{'' if len(accepted) == 1 else 's'} accepted into the record"
            messages.success(request, f"Intake reviewed: {taken if accepted else 'nothing accepted'}.")
            return redirect("clients:detail", pk=client.pk)
        intake.refresh_from_db()
        client.refresh_from_db()
    else:
        audit.record(request, audit.READ, obj=intake)
    context = {
        "client": client,
        "intake": intake,
        "rows": intake_differences(intake, client),
        "intake_only": intake_only_answers(intake),
        "waiting": intake.status == IntakeStatus.SUBMITTED and not client.is_archived,
    }
    return render(request, "workspace/intake/review.html", context, status=status)


@clinician_required
@require_POST
def request_update(request: SignedInRequest, pk: int) -> HttpResponse:
    """Ask the client for a new intake (and the consents it asks for) the next time they open the portal."""
    client = client_for_user(request, pk)
    try:
        intake = request_intake_update(client=client, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:detail", pk=client.pk)
    audit.record(request, audit.CREATE, obj=intake)
    messages.success(request, f"{client.full_name} will be asked to fill in the intake and consent in the portal.")
    return redirect("clients:detail", pk=client.pk)


@clinician_required
@require_POST
def not_a_relapse(request: SignedInRequest, pk: int) -> HttpResponse:
    """Record why the reported relapse is not one: the stop it raised is settled until the next report."""
    client = client_for_user(request, pk)
    try:
        dismissal = relapse_dismiss(client=client, dismissed_by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:detail", pk=client.pk)
    audit.record(request, audit.PHASE_CHANGE, obj=dismissal)
    messages.success(request, "Recorded: not a relapse. The stop is lifted until the client reports new symptoms.")
    return redirect("clients:detail", pk=client.pk)
