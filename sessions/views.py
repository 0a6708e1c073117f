"""Logging, reading, signing and amending treatment sessions: the therapist's side.

Each request records one audit event: the write it made (create, change, sign, amend), or else a read of
the session (or, for a new session, of the client) whose data the page shows. A write the services refuse
to someone who may read the session (``SessionWriteRefused``: not the note's author, an archived client) is
that write's event with outcome "denied", and the page says why. A new session's form sent again saves
nothing: that request is a read of the session it is sent on to.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clients.models import Client, phase_label
from clients.selectors import client_for_user
from practice import audit
from practice.access import SignedInRequest, clinician_required
from practice.autosave import autosave_discard, autosave_restore, without_errors
from practice.history import history_recorded_by_app
from practice.models import record_history
from sessions.corrections import change_rows, screen_saved_correction
from sessions.forms import AmendmentForm, SessionEntry, findings_fingerprint
from sessions.models import TreatmentSession
from sessions.safety import Finding, has_caution, has_stop
from sessions.screening import (
    client_facts,
    screen_planned_session,
    screen_saved_session,
    session_day,
    with_treatment_consent,
)
from sessions.selectors import session_for_user, session_with_corrections
from sessions.services import (
    EditConflict,
    SessionWriteRefused,
    amend_refusal,
    create_refusal,
    edit_refusal,
    session_amend,
    session_sign,
    sign_refusal,
)

REVIEW_FIELDS = {"safety_override_reason", "confirm_cautions"}


def _render_form(request: HttpRequest, entry: SessionEntry, *, status: int = 200, **context) -> HttpResponse:
    form = entry.form
    started_at = getattr(form, "cleaned_data", {}).get("started_at")
    if started_at is None and entry.session is not None:
        started_at = entry.session.started_at
    day = session_day(started_at) if started_at else timezone.localdate()
    # The phase and any reported relapse waiting for the phase, in one query.
    phase, relapse_reported_at = client_facts(entry.client, day)
    # Before the first save attempt: what applies now (or what applied when the draft was saved).
    alerts = context.pop("alerts", None)
    if alerts is None:
        alerts = (
            []
            if entry.findings
            else screen_planned_session(
                client=entry.client, when=day, phase=phase, relapse_reported_at=relapse_reported_at
            )
        )
        context.setdefault("alerts_title", "Before you start")
    context.setdefault("alerts_title", "Safety screen when this draft was saved")
    shown = entry.findings or alerts
    if not form.is_bound:
        form.initial.setdefault("reviewed", findings_fingerprint(alerts))
    context.update(
        client=entry.client,
        session=entry.session,
        form=form,
        formset=entry.formset,
        findings=entry.findings,
        alerts=alerts,
        phase=phase,
        phase_label=phase_label(phase),
        phase_day=day,
        has_stop=has_stop(entry.findings),
        has_caution=has_caution(entry.findings),
        show_override=has_stop(shown) or bool(form["safety_override_reason"].value()),
        show_confirm=has_caution(shown),
        # When only the review is pending, the safety panel says what to do: no red banner.
        show_error_banner=bool(set(form.errors) - REVIEW_FIELDS) or bool(entry.formset.total_error_count()),
        # The page's script keeps a copy of this form as it is typed (practice.autosave).
        autosave_form="session-form",
    )
    return render(request, "sessions/session_form.html", context, status=status)


@clinician_required
@require_http_methods(["GET", "POST"])
def new(request: SignedInRequest, client_id: int) -> HttpResponse:
    # With its consent to treatment read in the same query (create_refusal needs it).
    client = client_for_user(request, client_id, clients=with_treatment_consent(Client.objects.all()))
    refusal = create_refusal(client=client)
    if refusal:
        return _refused_new(request, client, refusal)
    # After signing in again: what was typed before the sign-out (practice.autosave).
    kept = autosave_restore(request) if request.method == "GET" else None
    entry = SessionEntry(client=client, user=request.user, data=request.POST if request.method == "POST" else kept)
    if request.method == "POST" and entry.is_valid() and entry.review():
        try:
            session = entry.save()
        except SessionWriteRefused as error:  # archived since the page was opened
            return _refused_new(request, client, " ".join(error.messages))
        except ValidationError as error:  # a forged form token, too many rows for a session
            entry.form.add_error(None, error.messages)
        else:
            # The same form sent again (a double tap, a retry) lands on the session its first sending saved.
            audit.record(request, audit.READ if session.resubmitted else audit.CREATE, obj=session)
            autosave_discard(user=request.user, path=request.path)
            messages.success(request, "Session saved as a draft. Sign it once the after-scores are in.")
            return redirect("sessions:detail", session_id=session.pk)
    audit.record(request, audit.READ, obj=client)
    if kept is not None:
        without_errors(entry.form, entry.formset)
    return _render_form(request, entry)


def _refused_new(request: HttpRequest, client: Client, refusal: str) -> HttpResponse:
    audit.record(request, audit.CREATE, object_type="session", client_id=client.pk, outcome=audit.DENIED)
    messages.error(request, refusal)
    return redirect("clients:detail", pk=client.pk)


@clinician_required
@require_http_methods(["GET", "POST"])
def edit(request: SignedInRequest, session_id: int) -> HttpResponse:
    session = session_for_user(request, session_id)
    if session.is_signed and request.method == "GET":
        messages.error(
            request, "This session is signed and can no longer be edited. Record a correction as an amendment."
        )
        return redirect("sessions:detail", session_id=session.pk)
    refusal = None if session.is_signed else edit_refusal(session=session, user=request.user)
    if refusal:
        return _refused(request, session, audit.CHANGE, refusal)
    kept = autosave_restore(request) if request.method == "GET" else None
    entry = SessionEntry(
        client=session.client,
        user=request.user,
        session=session,
        data=request.POST if request.method == "POST" else kept,
    )
    if request.method == "GET":
        audit.record(request, audit.READ, obj=session)
        alerts = _prime_review(entry, session)
        if kept is not None:
            without_errors(entry.form, entry.formset)
        return _render_form(request, entry, alerts=alerts)
    if session.is_signed:
        # Signed while this form was open: nothing is saved, and what was typed stays on screen.
        audit.record(request, audit.READ, obj=session)
        return _render_conflict(request, entry)
    if entry.is_valid() and entry.review():
        try:
            with history_recorded_by_app(TreatmentSession):
                saved = entry.save()
        except EditConflict:
            audit.record(request, audit.READ, obj=session)
            return _render_conflict(request, entry)
        except SessionWriteRefused as error:
            return _refused(request, session, audit.CHANGE, " ".join(error.messages))
        # The conditional update goes around save(), so the change history is written here.
        record_history(saved, user=request.user, reason="Draft edited")
        audit.record(request, audit.CHANGE, obj=saved)
        autosave_discard(user=request.user, path=request.path)
        messages.success(request, "Changes saved.")
        return redirect("sessions:detail", session_id=session.pk)
    audit.record(request, audit.READ, obj=session)
    return _render_form(request, entry)


def _refused(request: HttpRequest, session: TreatmentSession, action: str, refusal: str) -> HttpResponse:
    """A write the person may not make to a session they may read: the session, with the reason why."""
    audit.record(request, action, obj=session, outcome=audit.DENIED)
    messages.error(request, refusal)
    return redirect("sessions:detail", session_id=session.pk)


def _prime_review(entry: SessionEntry, session: TreatmentSession) -> list[Finding]:
    """A saved draft's findings were reviewed when it was saved: editing other fields need not ask again."""
    findings = screen_saved_session(session, entry.uses)
    entry.form.initial.update(reviewed=findings_fingerprint(findings), confirm_cautions=True)
    return findings


def _render_conflict(request: HttpRequest, entry: SessionEntry) -> HttpResponse:
    current = entry.conflict()
    if current.is_signed:
        message = (
            "Someone signed this session while you were editing, so your changes were not saved. "
            "They are still below: record them as an amendment to the signed session."
        )
    else:
        message = (
            "Someone else saved this session while you were editing, so your changes were not saved. "
            "They are still below: compare with the saved session, then save again to replace it."
        )
    return _render_form(request, entry, status=409, conflict=message, current=current)


@clinician_required
def detail(request: SignedInRequest, session_id: int) -> HttpResponse:
    session = session_for_user(request, session_id)
    # The session as corrected (sessions.corrections), and its amendments in words.
    shown, amendments = session_with_corrections(session)
    signed = session.is_signed
    context = {
        "session": session,
        "client": session.client,
        "shown": shown,
        "findings": screen_saved_correction(shown),
        "amendments": [(a, change_rows(a.changes)) for a in amendments],
        "phase": shown.phase,
        "phase_label": phase_label(shown.phase),
        # Why this person may not edit, sign or amend it (the page offers only what they may do).
        "edit_refusal": None if signed else edit_refusal(session=session, user=request.user),
        "sign_refusal": None if signed else sign_refusal(session=session, user=request.user),
        "amend_refusal": amend_refusal(session=session, user=request.user) if signed else None,
    }
    audit.record(request, audit.READ, obj=session)
    return render(request, "sessions/session_detail.html", context)


@clinician_required
@require_POST
def sign(request: SignedInRequest, session_id: int) -> HttpResponse:
    session = session_for_user(request, session_id)
    try:
        with history_recorded_by_app(TreatmentSession):
            session_sign(session=session, user=request.user)
    except SessionWriteRefused as error:
        return _refused(request, session, audit.SIGN, " ".join(error.messages))
    except ValidationError as error:
        audit.record(request, audit.SIGN, obj=session, outcome=audit.FAILED)
        if hasattr(error, "error_dict"):
            messages.error(
                request, "Record pain after and fatigue after the session before signing it (edit the draft)."
            )
        else:
            messages.error(request, " ".join(error.messages))
        return redirect("sessions:detail", session_id=session.pk)
    # Signing is a conditional update that goes around save(): write the change history here.
    record_history(session, user=request.user, reason="Signed")
    audit.record(request, audit.SIGN, obj=session)
    messages.success(request, "Session signed. It is now locked; corrections are recorded as amendments.")
    return redirect("sessions:detail", session_id=session.pk)


@clinician_required
@require_http_methods(["GET", "POST"])
def amend(request: SignedInRequest, session_id: int) -> HttpResponse:
    session = session_for_user(request, session_id)
    if not session.is_signed:
        messages.info(request, "This session is a draft: edit it directly.")
        return redirect("sessions:edit", session_id=session.pk)
    refusal = amend_refusal(session=session, user=request.user)
    if refusal:
        return _refused(request, session, audit.AMEND, refusal)
    # After signing in again: what was typed before the sign-out (practice.autosave).
    kept = autosave_restore(request) if request.method == "GET" else None
    form = AmendmentForm(request.POST if request.method == "POST" else kept, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            amendment = session_amend(
                session=session,
                author=request.user,
                reason=form.cleaned_data["reason"],
                changes=form.changes(),
                uses=form.uses(),
                safety_override_reason=form.override_reason(),
            )
        except SessionWriteRefused as error:
            return _refused(request, session, audit.AMEND, " ".join(error.messages))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            audit.record(request, audit.AMEND, obj=amendment)
            autosave_discard(user=request.user, path=request.path)
            messages.success(request, "Correction recorded. The signed original is kept beside it.")
            return redirect("sessions:detail", session_id=session.pk)
    audit.record(request, audit.READ, obj=session)
    if kept is not None:
        without_errors(form, form.formset)
    context = {
        "session": session,
        "client": session.client,
        "form": form,
        "formset": form.formset,
        "shown": form.current,
        "findings": form.findings,
        "has_stop": has_stop(form.findings),
        "has_caution": has_caution(form.findings),
        # The page's script keeps a copy of this form as it is typed (practice.autosave).
        "autosave_form": "session-form",
    }
    return render(request, "sessions/session_amend.html", context)
