"""Questionnaires in the portal (MFIS-5 and any instrument seeded later): what is due, filling one item per
screen, a review, submitting, and the score with what it means.

The flow (item, review, done) is written once here and used by the therapist's hand-over on the tablet too
(``workspace.questionnaires``), with its own addresses and a client-facing frame. Everything works without
JavaScript: each screen is a form that saves as it goes, so a client who stops half-way resumes where they left.
"""

from collections.abc import Callable
from dataclasses import dataclass

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
from measures import selectors
from measures.models import EnteredIn, QuestionnaireLockedError, QuestionnaireResponse, ResponseStatus
from measures.scoring import describe_change, missing_items
from measures.services import questionnaire_answer, questionnaire_start, questionnaire_submit
from practice import audit
from practice.access import client_required


@dataclass(frozen=True)
class Flow:
    """Where one flow's screens live and how they are framed."""

    item_url: Callable[[QuestionnaireResponse, int], str]
    review_url: Callable[[QuestionnaireResponse], str]
    done_url: Callable[[QuestionnaireResponse], str]
    exit_url: str
    exit_label: str
    frame: str  # the template the screens extend


def resume_url(flow: Flow, response: QuestionnaireResponse) -> str:
    """The first item not answered yet, or the review when every item is answered."""
    missing = missing_items(response.instrument.items, response.answers)
    if not missing:
        return flow.review_url(response)
    link_ids = [item["link_id"] for item in response.instrument.items]
    return flow.item_url(response, link_ids.index(missing[0]) + 1)


def _audit(request: HttpRequest, action: str, response: QuestionnaireResponse) -> None:
    audit.record(request, action, object_type="questionnaire", object_id=response.pk, client_id=response.client_id)


def item_screen(request: HttpRequest, response: QuestionnaireResponse, number: int, flow: Flow) -> HttpResponse:
    """One item: GET shows it with the saved answer chosen; POST saves the answer and moves on."""
    if response.is_submitted:
        return redirect(flow.done_url(response))
    items = response.instrument.items
    if not 1 <= number <= len(items):
        raise Http404("No such question.")
    item = items[number - 1]
    error = ""
    if request.method == "POST":
        try:
            questionnaire_answer(response=response, link_id=item["link_id"], value=request.POST.get("answer"))
        except ValidationError as invalid:
            error = " ".join(invalid.messages)
        else:
            _audit(request, audit.CHANGE, response)
            return redirect(flow.item_url(response, number + 1) if number < len(items) else flow.review_url(response))
    else:
        _audit(request, audit.READ, response)
    context = {
        "flow": flow,
        "response": response,
        "instrument": response.instrument,
        "item": item,
        "number": number,
        "count": len(items),
        "chosen": response.answers.get(item["link_id"]),
        "error": error,
        "back_url": flow.item_url(response, number - 1) if number > 1 else flow.exit_url,
    }
    return render(request, "portal/questionnaires/item.html", context, status=400 if error else 200)


def review_screen(request: HttpRequest, response: QuestionnaireResponse, flow: Flow) -> HttpResponse:
    """Every answer with a way back to change it; POST submits (scored and locked)."""
    if response.is_submitted:
        return redirect(flow.done_url(response))
    error = ""
    if request.method == "POST":
        try:
            questionnaire_submit(response=response)
        except ValidationError as invalid:
            error = " ".join(invalid.messages)
        else:
            _audit(request, audit.CHANGE, response)
            return redirect(flow.done_url(response))
    else:
        _audit(request, audit.READ, response)
    rows = []
    for number, item in enumerate(response.instrument.items, start=1):
        value = response.answers.get(item["link_id"])
        label = next((o["label"] for o in item["options"] if o["value"] == value), None)
        rows.append({"number": number, "text": item["text"], "answer": label, "url": flow.item_url(response, number)})
    context = {"flow": flow, "response": response, "instrument": response.instrument, "rows": rows, "error": error}
    return render(request, "portal/questionnaires/review.html", context, status=400 if error else 200)


def done_screen(request: HttpRequest, response: QuestionnaireResponse, flow: Flow) -> HttpResponse:
    """Thank you: the score, its range, and how it compares with the time before."""
    if not response.is_submitted:
        return redirect(resume_url(flow, response))
    scores = [s for s in selectors.scores_for_client(response.client) if s.instrument_code == response.instrument.code]
    this = next(s for s in scores if s.response_id == response.pk)
    earlier = [s for s in scores if s.response_id != response.pk and s.completed_on <= this.completed_on]
    instrument = response.instrument
    change = describe_change(
        this.score,
        earlier[-1].score if earlier else None,
        mcid=instrument.mcid,
        higher_is_worse=instrument.higher_is_worse,
        short_name=instrument.short_name,
    )
    _audit(request, audit.READ, response)
    context = {"flow": flow, "response": response, "instrument": instrument, "score": this, "change": change}
    return render(request, "portal/questionnaires/done.html", context)


# --- the portal's addresses


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # client_required lets only a signed-in client through
    return user


def _client(request: HttpRequest) -> Client:
    return _user(request).client_profile


PORTAL_FLOW = Flow(
    item_url=lambda r, n: reverse("portal:questionnaire_item", args=[r.pk, n]),
    review_url=lambda r: reverse("portal:questionnaire_review", args=[r.pk]),
    done_url=lambda r: reverse("portal:questionnaire_done", args=[r.pk]),
    exit_url="/portal/questionnaires/",
    exit_label="Back to my questionnaires",
    frame="portal/questionnaires/portal_frame.html",
)


def _own_response(request: HttpRequest, pk: int) -> QuestionnaireResponse:
    return selectors.response_for_client_or_404(request, _client(request), pk, entered_in=EnteredIn.PORTAL)


@require_GET
@never_cache
@client_required
def questionnaires(request: HttpRequest) -> HttpResponse:
    """My questionnaires: what is due now, what I can fill in any time, what I left half-way, my past scores."""
    client = _client(request)
    today = timezone.localdate()
    due = selectors.due_for_clients([client.pk], today).get(client.pk, [])
    in_progress = selectors.responses_for_client(client).filter(
        status=ResponseStatus.IN_PROGRESS, entered_in=EnteredIn.PORTAL
    )
    started = {r.instrument_id: r for r in in_progress}
    instruments = [
        {
            "instrument": i,
            "due": i in due,
            "resume_url": resume_url(PORTAL_FLOW, started[i.pk]) if i.pk in started else None,
            "answered": len(started[i.pk].answers) if i.pk in started else 0,
        }
        for i in selectors.active_instruments()
    ]
    context = {"instruments": instruments, "scores": list(reversed(selectors.scores_for_client(client)))}
    audit.record(request, audit.READ, object_type="questionnaires", object_id=client.pk, client_id=client.pk)
    return render(request, "portal/questionnaires/list.html", context)


@require_POST
@client_required
def questionnaire_begin(request: HttpRequest, code: str) -> HttpResponse:
    """Start a questionnaire, or resume the one left half-way."""
    client = _client(request)
    instrument = selectors.instrument_by_code(code)
    if instrument is None:
        raise Http404("No such questionnaire.")
    try:
        response = questionnaire_start(client=client, instrument=instrument, entered_by=_user(request))
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
        return redirect("portal:questionnaires")
    audit.record(request, audit.CREATE, object_type="questionnaire", object_id=response.pk, client_id=client.pk)
    return redirect(resume_url(PORTAL_FLOW, response))


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def questionnaire_item(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return guard_locked(
        request, PORTAL_FLOW, lambda: item_screen(request, _own_response(request, pk), number, PORTAL_FLOW)
    )


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def questionnaire_review(request: HttpRequest, pk: int) -> HttpResponse:
    return guard_locked(request, PORTAL_FLOW, lambda: review_screen(request, _own_response(request, pk), PORTAL_FLOW))


@require_GET
@never_cache
@client_required
def questionnaire_done(request: HttpRequest, pk: int) -> HttpResponse:
    return done_screen(request, _own_response(request, pk), PORTAL_FLOW)


def guard_locked(request: HttpRequest, flow: Flow, screen: Callable[[], HttpResponse]) -> HttpResponse:
    # Two tabs: one submitted while the other still shows an item. Say so rather than fail.
    try:
        return screen()
    except QuestionnaireLockedError:
        messages.info(request, "This questionnaire was already submitted; your answers are kept as sent.")
        return redirect(flow.exit_url)
