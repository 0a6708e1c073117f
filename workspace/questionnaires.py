"""The tablet handed over in a session: the client fills a questionnaire on the therapist's device.

The screens are the portal's (``portal.questionnaires``) in a client-facing frame that shows nothing of the
record but the client's first name; the answers are entered by the therapist's account, ``entered_in`` "session".
Access as for the record: the therapists who care for the client and owners; anyone else a 404, audited.

A submitted questionnaire is read and corrected from the record too: the answers as submitted and as corrected,
and a correction recorded as an amendment with a reason (``measures.services.questionnaire_amend``).
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.models import Client
from clients.selectors import client_for_user
from measures import selectors
from measures.models import EnteredIn, QuestionnaireResponse, apply_amendments
from measures.services import questionnaire_amend, questionnaire_start
from portal.questionnaires import Flow, done_screen, guard_locked, item_screen, resume_url, review_screen
from practice import audit
from practice.access import clinician_required


def _flow(client: Client) -> Flow:
    return Flow(
        item_url=lambda r, n: reverse("clients:questionnaire_item", args=[client.pk, r.pk, n]),
        review_url=lambda r: reverse("clients:questionnaire_review", args=[client.pk, r.pk]),
        done_url=lambda r: reverse("clients:questionnaire_done", args=[client.pk, r.pk]),
        exit_url=reverse("clients:detail", args=[client.pk]),
        exit_label="Hand the tablet back",
        frame="workspace/questionnaires/handover_frame.html",
    )


def _handed_over(request: HttpRequest, pk: int, response_pk: int) -> tuple[QuestionnaireResponse, Flow]:
    client = client_for_user(request, pk)
    response = selectors.response_for_client_or_404(request, client, response_pk, entered_in=EnteredIn.SESSION)
    return response, _flow(client)


@require_POST
@clinician_required
def questionnaire_begin(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """From the record: start (or resume) a questionnaire for the client to fill on this tablet."""
    client = client_for_user(request, pk)
    therapist = request.user
    assert isinstance(therapist, User)  # clinician_required lets only signed-in staff through
    instrument = selectors.instrument_by_code(code)
    if instrument is None:
        raise Http404("No such questionnaire.")
    try:
        response = questionnaire_start(
            client=client, instrument=instrument, entered_by=therapist, entered_in=EnteredIn.SESSION
        )
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
        return redirect("clients:detail", client.pk)
    audit.record(request, audit.CREATE, object_type="questionnaire", object_id=response.pk, client_id=client.pk)
    return redirect(resume_url(_flow(client), response))


@require_http_methods(["GET", "POST"])
@never_cache
@clinician_required
def questionnaire_item(request: HttpRequest, pk: int, response_pk: int, number: int) -> HttpResponse:
    response, flow = _handed_over(request, pk, response_pk)
    return guard_locked(request, flow, lambda: item_screen(request, response, number, flow))


@require_http_methods(["GET", "POST"])
@never_cache
@clinician_required
def questionnaire_review(request: HttpRequest, pk: int, response_pk: int) -> HttpResponse:
    response, flow = _handed_over(request, pk, response_pk)
    return guard_locked(request, flow, lambda: review_screen(request, response, flow))


@require_GET
@never_cache
@clinician_required
def questionnaire_done(request: HttpRequest, pk: int, response_pk: int) -> HttpResponse:
    response, flow = _handed_over(request, pk, response_pk)
    return done_screen(request, response, flow)


@require_GET
@never_cache
@clinician_required
def questionnaire_choose(request: HttpRequest, pk: int) -> HttpResponse:
    """The first screen the client sees on the tablet: which questionnaire to fill (what is due first)."""
    client = client_for_user(request, pk)
    due = selectors.due_for_clients([client.pk], timezone.localdate()).get(client.pk, [])
    context = {
        "client": client,
        "instruments": [{"instrument": i, "due": i in due} for i in selectors.active_instruments()],
        "record_url": reverse("clients:detail", args=[client.pk]),
    }
    audit.record(request, audit.READ, object_type="questionnaires", object_id=client.pk, client_id=client.pk)
    return render(request, "workspace/questionnaires/choose.html", context)


# --- a submitted questionnaire on the record, and its correction


class QuestionnaireAmendForm(forms.Form):
    """One choice per item (the current answers chosen) and the reason; built from the instrument's items."""

    reason = forms.CharField(
        label="Why is it being corrected?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="For example: the client meant another answer and told you so. Kept with your name and the time.",
    )

    def __init__(self, *args: Any, response: QuestionnaireResponse, current: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = response.instrument.items
        for number, item in enumerate(self.items, start=1):
            self.fields[_field_name(item)] = forms.TypedChoiceField(
                label=f"{number}. {item['text']}",
                choices=[(option["value"], option["label"]) for option in item["options"]],
                coerce=int,
                initial=current.get(item["link_id"]),
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Choose one of the answers.",
                    "invalid_choice": "Choose one of the answers.",
                },
            )
        self.order_fields([*(_field_name(item) for item in self.items), "reason"])

    def answers(self) -> dict[str, int]:
        return {item["link_id"]: self.cleaned_data[_field_name(item)] for item in self.items}


def _field_name(item: dict[str, Any]) -> str:
    return f"item_{item['link_id']}"


def _submitted(request: HttpRequest, pk: int, response_pk: int) -> tuple[Client, QuestionnaireResponse]:
    """Client ``pk`` (cared for by the user) and their questionnaire ``response_pk``, however it was entered."""
    client = client_for_user(request, pk)
    response = selectors.response_for_client_or_404(request, client, response_pk)
    if not response.is_submitted:
        raise Http404("This questionnaire is not submitted yet.")
    return client, response


def _answer_rows(response: QuestionnaireResponse, amendments: list[Any]) -> list[dict[str, Any]]:
    """Each item with its answer as submitted and as it stands after the corrections."""
    current = apply_amendments(response.answers, amendments)
    rows = []
    for number, item in enumerate(response.instrument.items, start=1):
        labels = {option["value"]: option["label"] for option in item["options"]}
        original, now = response.answers.get(item["link_id"]), current.get(item["link_id"])
        rows.append(
            {
                "number": number,
                "text": item["text"],
                "answer": labels.get(now, now),
                "value": now,
                "original": labels.get(original, original),
                "original_value": original,
                "corrected": original != now,
            }
        )
    return rows


@require_GET
@never_cache
@clinician_required
def questionnaire_detail(request: HttpRequest, pk: int, response_pk: int) -> HttpResponse:
    """A submitted questionnaire: the score as corrected (marked) and as submitted, every answer, each correction."""
    client, response = _submitted(request, pk, response_pk)
    amendments = list(response.amendments.select_related("author").order_by("created_at", "pk"))
    context = {
        "client": client,
        "response": response,
        "instrument": response.instrument,
        "rows": _answer_rows(response, amendments),
        "amendments": amendments,
        "current_score": amendments[-1].score if amendments else response.score,
        "others": [s for s in reversed(selectors.scores_for_client(client)) if s.response_id != response.pk],
    }
    audit.record(request, audit.READ, object_type="questionnaire", object_id=response.pk, client_id=client.pk)
    return render(request, "workspace/questionnaires/detail.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
@clinician_required
def questionnaire_correct(request: HttpRequest, pk: int, response_pk: int) -> HttpResponse:
    """Correct the answers of a submitted questionnaire, with a reason: an amendment; the submitted answers stay."""
    client, response = _submitted(request, pk, response_pk)
    detail_url = reverse("clients:questionnaire_detail", args=[client.pk, response.pk])
    if client.is_archived:
        messages.error(request, f"{client.full_name} is archived: the record is read-only.")
        return redirect(detail_url)
    amendments = list(response.amendments.order_by("created_at", "pk"))
    current = apply_amendments(response.answers, amendments)
    form = QuestionnaireAmendForm(request.POST or None, response=response, current=current)
    if request.method == "POST" and form.is_valid():
        author = request.user
        assert isinstance(author, User)  # clinician_required lets only signed-in staff through
        try:
            amendment = questionnaire_amend(
                response=response, author=author, reason=form.cleaned_data["reason"], answers=form.answers()
            )
        except ValidationError as invalid:
            form.add_error(None, invalid.messages)
        else:
            audit.record(request, audit.AMEND, object_type="questionnaire", object_id=response.pk, client_id=client.pk)
            messages.success(
                request, f"Correction recorded: the {response.instrument.short_name} score is now {amendment.score}."
            )
            return redirect(detail_url)
    elif request.method == "GET":
        audit.record(request, audit.READ, object_type="questionnaire", object_id=response.pk, client_id=client.pk)
    context = {
        "client": client,
        "response": response,
        "instrument": response.instrument,
        "form": form,
        "current_score": amendments[-1].score if amendments else response.score,
        "detail_url": detail_url,
    }
    return render(request, "workspace/questionnaires/amend.html", context, status=400 if form.errors else 200)
