"""The client's intake and consents in the portal, at /portal/intake/ (DESIGN.md's stable address).

Made for MS fatigue and numb hands: one topic per screen, large targets, every screen saved when the client
moves on (``clients.intake.intake_answer``), so they can stop and come back tomorrow; what was typed on a
screen comes back after an idle sign-out (practice.autosave). The body-map screens work with checkboxes alone;
the map (templates/includes/body_map.html, the therapist's drawing) ticks them when JavaScript runs.

Then the consents: each current text with its version; the client agrees by typing their name, and sees what
they agreed to, the version and the time; the data-use consent can be withdrawn here.

As everywhere in the portal, the client comes from the signed-in account, never from the address; a consent
number that is not theirs is a 404, audited. Reads and writes are in the audit trail (ids only).
"""

from collections.abc import Callable
from dataclasses import dataclass
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

from clients.body_regions import BodyRegion, region_labels
from clients.intake import consent_agree, consent_withdraw, intake_answer, intake_due, intake_start, intake_submit
from clients.models import (
    MIN_DIAGNOSIS_YEAR,
    ClearanceCondition,
    Client,
    Consent,
    ConsentKind,
    Goal,
    Intake,
    MSType,
)
from clients.selectors import (
    consent_history,
    current_consent_texts,
    current_consents,
    last_submitted_intake,
    open_intake,
)
from practice import audit
from practice.access import client_required, get_reachable_or_404
from practice.autosave import autosave_discard, autosave_restore, without_errors

# Forms ----------------------------------------------------------------------------------------------------------

YES, NO, UNSURE = "yes", "no", "unsure"
TRI_STATE = {YES: True, NO: False, UNSURE: None}


def _tri_state_initial(value: Any) -> str | None:
    return {True: YES, False: NO, None: UNSURE}.get(value)


class RadioChoiceField(forms.ChoiceField):
    """One answer, drawn as full-width buttons (radio inputs under the hood: arrow keys and screen readers work)."""

    def __init__(self, *, choices, message: str, **kwargs):
        super().__init__(
            choices=choices,
            widget=forms.RadioSelect,
            error_messages={"required": message, "invalid_choice": message},
            **kwargs,
        )


def yes_no_field(label: str, *, no: str = "No", unsure: str = "I'm not sure", **kwargs) -> RadioChoiceField:
    return RadioChoiceField(
        label=label, choices=[(YES, "Yes"), (NO, no), (UNSURE, unsure)], message="Choose one answer.", **kwargs
    )


def checkboxes(label: str, choices, **kwargs) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose from the list."},
        **kwargs,
    )


class IntakeStepForm(forms.Form):
    """One screen of the intake. Subclasses map their fields to the intake's answers and back."""

    tri_state_fields: tuple[str, ...] = ()

    @classmethod
    def initial_from(cls, answers: dict[str, Any]) -> dict[str, Any]:
        initial = {name: answers[name] for name in cls.base_fields if name in answers}
        for name in cls.tri_state_fields:
            if name in answers:
                initial[name] = _tri_state_initial(answers[name])
        return initial

    def answers(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in self.tri_state_fields:
            data[name] = TRI_STATE[data[name]]
        return data


class MSForm(IntakeStepForm):
    ms_type = RadioChoiceField(
        label="Which type of MS do you have?",
        choices=[(code, "I don't know" if code == MSType.UNKNOWN else label) for code, label in MSType.choices],
        message='Choose your type of MS, or "I don\'t know".',
        help_text="Your neurologist or MS nurse will have told you. It is fine not to know.",
    )
    diagnosis_year = forms.IntegerField(
        label="In which year were you diagnosed? (optional)",
        required=False,
        min_value=MIN_DIAGNOSIS_YEAR,
        help_text="Leave it empty if you don't remember.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_diagnosis_year(self) -> int | None:
        year = self.cleaned_data["diagnosis_year"]
        if year is not None and year > timezone.localdate().year:
            raise ValidationError("The year of diagnosis cannot be in the future.")
        return year


class SymptomsForm(IntakeStepForm):
    tri_state_fields = ("new_or_worse_symptoms_30_days",)
    new_or_worse_symptoms_30_days = yes_no_field(
        "In the last 30 days, have you had any new MS symptoms, or symptoms that got worse?",
        help_text="For example new numbness, weakness, trouble seeing or walking.",
    )


class HeatForm(IntakeStepForm):
    tri_state_fields = ("heat_sensitive",)
    heat_sensitive = yes_no_field(
        "Does heat make your symptoms worse?",
        help_text="Hot weather, a hot bath, a warm room or exercise. Most people with MS find it does.",
    )


class ColdForm(IntakeStepForm):
    tri_state_fields = ("cold_sensitive",)
    cold_sensitive = yes_no_field(
        "Does cold make your symptoms worse?",
        help_text="For example stiffness or spasms in the cold.",
    )


# Pregnancy and a recent injury or surgery have their own screens (clients.intake adds them to this list).
ASKED_APART = {ClearanceCondition.PREGNANCY, ClearanceCondition.RECENT_INJURY_OR_SURGERY}


class ConditionsForm(IntakeStepForm):
    conditions_needing_clearance = checkboxes(
        "Do you have any of these? Tick all that apply.",
        [(code, label) for code, label in ClearanceCondition.choices if code not in ASKED_APART],
        help_text="With these, your doctor should say massage is safe first. Leave all unticked if none apply.",
    )

    @classmethod
    def initial_from(cls, answers: dict[str, Any]) -> dict[str, Any]:
        codes = answers.get("conditions_needing_clearance", [])
        return {"conditions_needing_clearance": [code for code in codes if code not in ASKED_APART]}


class MedicationsForm(IntakeStepForm):
    medications = forms.CharField(
        label="Which medicines do you take? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Names are enough. Include blood thinners and painkillers. Leave it empty if none.",
    )


class InjuryForm(IntakeStepForm):
    recent_injury_or_surgery = forms.CharField(
        label="Have you had an injury or an operation in the last three months? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Tell us what and when. Leave it empty if none.",
    )


class PregnancyForm(IntakeStepForm):
    tri_state_fields = ("pregnant",)
    pregnant = yes_no_field("Are you pregnant?", no="No, or this does not apply to me")


class SensationForm(IntakeStepForm):
    reduced_sensation_regions = checkboxes(
        "Where do you feel less than usual, or nothing at all?",
        BodyRegion.choices,
        help_text="Tap the places on the body map, or tick them in the list. Leave all unticked if none.",
    )


class SoresForm(IntakeStepForm):
    pressure_sore_regions = checkboxes(
        "Do you have a pressure sore, or red or broken skin, anywhere?",
        BodyRegion.choices,
        help_text="Tap the places on the body map, or tick them in the list. Your therapist never works over them.",
    )


class GoalsForm(IntakeStepForm):
    goals = checkboxes("What do you hope massage will help with? Tick all that apply.", Goal.choices)


def contact_field(label: str, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=200, **kwargs)


class NeurologistForm(IntakeStepForm):
    name = contact_field(
        "Name of your neurologist or MS nurse (optional)", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    phone = contact_field(
        "Their phone number (optional)", widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
    )

    @classmethod
    def initial_from(cls, answers: dict[str, Any]) -> dict[str, Any]:
        return dict(answers.get("neurologist_contact") or {})

    def answers(self) -> dict[str, Any]:
        return {"neurologist_contact": dict(self.cleaned_data)}


class EmergencyForm(IntakeStepForm):
    name = contact_field(
        "Who should we call in an emergency? (optional)", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    relationship = contact_field("How do you know them? (optional)", help_text="For example partner, daughter, friend.")
    phone = contact_field(
        "Their phone number (optional)", widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
    )

    @classmethod
    def initial_from(cls, answers: dict[str, Any]) -> dict[str, Any]:
        return dict(answers.get("emergency_contact") or {})

    def answers(self) -> dict[str, Any]:
        return {"emergency_contact": dict(self.cleaned_data)}


class TypedNameForm(forms.Form):
    typed_name = forms.CharField(
        label="Type your full name",
        max_length=200,
        error_messages={"required": "Type your full name to agree."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class ConsentForm(TypedNameForm):
    kind = forms.ChoiceField(choices=ConsentKind.choices, widget=forms.HiddenInput)


# The screens ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_class: type[IntakeStepForm]
    body_map: str = ""  # "reduced" or "sores": the screen draws the body map for that field


STEPS = (
    Step("ms", "Your MS", MSForm),
    Step("symptoms", "Recent symptoms", SymptomsForm),
    Step("heat", "Heat", HeatForm),
    Step("cold", "Cold", ColdForm),
    Step("conditions", "Other health conditions", ConditionsForm),
    Step("medicines", "Medicines", MedicationsForm),
    Step("injury", "Injuries and operations", InjuryForm),
    Step("pregnancy", "Pregnancy", PregnancyForm),
    Step("sensation", "Less feeling", SensationForm, body_map="reduced"),
    Step("sores", "Pressure sores", SoresForm, body_map="sores"),
    Step("goals", "Your hopes for massage", GoalsForm),
    Step("neurologist", "Your neurologist", NeurologistForm),
    Step("emergency", "Emergency contact", EmergencyForm),
)
STEP_NUMBERS = {step.slug: number for number, step in enumerate(STEPS, start=1)}
AUTOSAVE_FORM = "intake-form"


def _client(request: HttpRequest) -> Client:
    user = request.user
    assert isinstance(user, User)  # client_required lets only a signed-in client through
    return user.client_profile


def _step_url(number: int) -> str:
    return reverse("portal:intake_step", args=[STEPS[number - 1].slug]) if number <= len(STEPS) else _review_url()


def _review_url() -> str:
    return reverse("portal:intake_review")


def _overview_url() -> str:
    return reverse("portal:intake")


def _next_url(intake: Intake) -> str:
    """Where the client left off: the first screen not yet saved, or the check of all answers."""
    return _step_url(intake.step + 1)


def _started_intake(request: HttpRequest) -> Intake | None:
    intake = open_intake(_client(request))
    return intake if intake is not None and intake.started_at is not None else None


# Views ----------------------------------------------------------------------------------------------------------


@require_GET
@never_cache
@client_required
def overview(request: HttpRequest) -> HttpResponse:
    """The intake's front door: start, carry on where I left off, or what I sent; and my consents."""
    client = _client(request)
    intake = open_intake(client)
    context = {
        "intake": intake,
        "started": intake is not None and intake.started_at is not None,
        "requested": intake is not None and intake.requested_at is not None,
        "last_sent": last_submitted_intake(client),
        "due": intake_due(client),
        "steps": [{"number": n, "step": step, "url": _step_url(n)} for n, step in enumerate(STEPS, start=1)],
        "step_count": len(STEPS),
        "next_url": _next_url(intake) if intake is not None else "",
        "consents": _consent_rows(client),
    }
    audit.record(
        request, audit.READ, object_type="intake", object_id=intake.pk if intake else None, client_id=client.pk
    )
    return render(request, "portal/intake/overview.html", context)


@require_POST
@client_required
def start(request: HttpRequest) -> HttpResponse:
    """Begin (or take up the therapist's request for) an intake, and go to where the client left off."""
    client = _client(request)
    try:
        intake = intake_start(client=client)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:intake")
    audit.record(request, audit.CREATE if intake.step == 0 else audit.READ, obj=intake)
    return redirect(_next_url(intake))


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def step(request: HttpRequest, slug: str) -> HttpResponse:
    """One screen of the intake: saved when the client presses Next (or "Save and stop for now")."""
    number = STEP_NUMBERS.get(slug)
    if number is None:
        raise Http404("No such page.")
    current = STEPS[number - 1]
    intake = _started_intake(request)
    if intake is None:
        return redirect("portal:intake")
    status = 200
    if request.method == "POST":
        form = current.form_class(request.POST)
        if form.is_valid():
            try:
                intake_answer(intake=intake, answers=form.answers(), step=number)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                audit.record(request, audit.CHANGE, obj=intake)
                autosave_discard(user=request.user, path=request.path)
                if "stop" in request.POST:
                    messages.success(request, "Saved. Come back whenever you like: you will carry on from here.")
                    return redirect("portal:intake")
                return redirect(_step_url(number + 1))
        status = 400
    else:
        kept = autosave_restore(request)
        form = (
            current.form_class(kept)
            if kept is not None
            else current.form_class(initial=current.form_class.initial_from(intake.answers))
        )
        if kept is not None:
            without_errors(form)
        audit.record(request, audit.READ, obj=intake)
    context = {
        "intake": intake,
        "step": current,
        "number": number,
        "count": len(STEPS),
        "form": form,
        "back_url": _step_url(number - 1) if number > 1 else _overview_url(),
        "map_selected": _map_selection(form, current),
        "autosave_form": AUTOSAVE_FORM,
    }
    return render(request, "portal/intake/step.html", context, status=status)


def _map_selection(form: IntakeStepForm, current: Step) -> list[str]:
    if not current.body_map:
        return []
    name = next(iter(form.fields))
    value = form[name].value() or []
    return [code for code in value if code in BodyRegion.values]


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def review(request: HttpRequest) -> HttpResponse:
    """All my answers in words, each with a link to change it; then send them to my therapist."""
    intake = _started_intake(request)
    if intake is None:
        return redirect("portal:intake")
    if request.method == "POST":
        try:
            intake_submit(intake=intake)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("portal:intake")
        audit.record(request, audit.CHANGE, obj=intake)
        messages.success(request, "Thank you. Your answers are sent; your therapist will go through them with you.")
        client = _client(request)
        needs_consent = any(row["needed"] for row in _consent_rows(client))
        return redirect("portal:intake_consent" if needs_consent else "portal:intake")
    audit.record(request, audit.READ, obj=intake)
    context = {
        "intake": intake,
        "rows": _answer_rows(intake.answers),
        "count": len(STEPS),
        "unanswered": len(STEPS) - len([s for s in STEPS if _step_answered(s, intake.answers)]),
        "back_url": _step_url(len(STEPS)),
    }
    return render(request, "portal/intake/review.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def consent(request: HttpRequest) -> HttpResponse:
    """Each consent text with its version; agree by typing my name; what I agreed to, when, and which version."""
    client = _client(request)
    status, bound = 200, None
    if request.method == "POST":
        bound = ConsentForm(request.POST)
        if bound.is_valid():
            try:
                given = consent_agree(
                    client=client,
                    kind=bound.cleaned_data["kind"],
                    typed_name=bound.cleaned_data["typed_name"],
                    recorded_by=client.user,
                )
            except ValidationError as error:
                bound.add_error("typed_name", error.messages)
            else:
                audit.record(request, audit.CREATE, obj=given)
                when = timezone.localtime(given.agreed_at)
                messages.success(
                    request,
                    f"Thank you. You agreed to \u201c{given.consent_text.get_kind_display()}\u201d, "
                    f"version {given.consent_text.version}, on {when:%d %b %Y at %H:%M}.",
                )
                return redirect("portal:intake_consent")
        status = 400
    rows = _consent_rows(client, bound=bound)
    audit.record(request, audit.READ, object_type="consent", client_id=client.pk)
    context = {"rows": rows, "history": consent_history(client)}
    return render(request, "portal/intake/consent.html", context, status=status)


@require_http_methods(["GET", "POST"])
@never_cache
@client_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw my consent to how the practice keeps my data, by typing my name."""
    client = _client(request)
    given = get_reachable_or_404(
        request,
        Consent.objects.for_client(client).select_related("consent_text", "withdrawal"),
        object_type="consent",
        client_field="client_id",
        pk=pk,
    )
    if given.consent_text.kind != ConsentKind.DATA_USE or hasattr(given, "withdrawal"):
        messages.info(
            request,
            "This consent is withdrawn already."
            if hasattr(given, "withdrawal")
            else "Consent to treatment is withdrawn by telling your therapist or the practice.",
        )
        return redirect("portal:intake_consent")
    status = 200
    form = TypedNameForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                withdrawal = consent_withdraw(
                    consent=given, typed_name=form.cleaned_data["typed_name"], recorded_by=client.user
                )
            except ValidationError as error:
                form.add_error("typed_name", error.messages)
            else:
                audit.record(request, audit.CHANGE, obj=withdrawal, client_id=client.pk)
                messages.success(
                    request,
                    f"Your consent is withdrawn as of {timezone.localtime(withdrawal.withdrawn_at):%d %b %Y at %H:%M}. "
                    "Your therapist will talk with you about what this means for your record.",
                )
                return redirect("portal:intake_consent")
        status = 400
    else:
        audit.record(request, audit.READ, obj=given)
    return render(request, "portal/intake/withdraw.html", {"consent": given, "form": form}, status=status)


# What the pages show ----------------------------------------------------------------------------------------------


def _consent_rows(client: Client, *, bound: ConsentForm | None = None) -> list[dict[str, Any]]:
    """Per kind: the current text, the client's current consent to it (if any), and the form to agree."""
    texts = current_consent_texts()
    consents = current_consents(client, texts)
    rows = []
    for kind, label in ConsentKind.choices:
        text, given = texts.get(kind), consents.get(kind)
        form = bound if bound is not None and bound.data.get("kind") == kind else ConsentForm(initial={"kind": kind})
        rows.append(
            {
                "kind": kind,
                "label": label,
                "text": text,
                "given": given,
                "needed": text is not None and given is None,
                "form": form,
                "withdrawable": kind == ConsentKind.DATA_USE,
            }
        )
    return rows


ANSWER_WORDS = {True: "Yes", False: "No", None: "Not sure"}


def _words(key: str, value: Any) -> str:
    labels: dict[str, Callable[[Any], str]] = {
        "ms_type": lambda v: MSType(v).label if v in MSType.values else str(v),
        "diagnosis_year": lambda v: str(v) if v else "Not given",
        "conditions_needing_clearance": lambda v: ", ".join(ClearanceCondition(c).label for c in v) or "None",
        "reduced_sensation_regions": lambda v: ", ".join(region_labels(v)) or "None",
        "pressure_sore_regions": lambda v: ", ".join(region_labels(v)) or "None",
        "goals": lambda v: ", ".join(Goal(g).label for g in v) or "None",
        "neurologist_contact": lambda v: ", ".join(p for p in (v.get("name"), v.get("phone")) if p) or "Not given",
        "emergency_contact": lambda v: (
            ", ".join(p for p in (v.get("name"), v.get("relationship"), v.get("phone")) if p) or "Not given"
        ),
    }
    if key in labels:
        return labels[key](value)
    if isinstance(value, bool) or value is None:
        return ANSWER_WORDS[value]
    return str(value) or "Nothing"


def _step_answered(current: Step, answers: dict[str, Any]) -> bool:
    keys = {"neurologist": ["neurologist_contact"], "emergency": ["emergency_contact"]}.get(
        current.slug, list(current.form_class.base_fields)
    )
    return any(key in answers for key in keys)


def _answer_rows(answers: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for number, current in enumerate(STEPS, start=1):
        fields = current.form_class.base_fields
        keys = {
            "neurologist": {"neurologist_contact": "Neurologist or MS nurse"},
            "emergency": {"emergency_contact": "Emergency contact"},
        }.get(current.slug, {name: field.label for name, field in fields.items()})
        for key, question in keys.items():
            rows.append(
                {
                    "question": question,
                    "answer": _words(key, answers[key]) if key in answers else "Not answered yet",
                    "answered": key in answers,
                    "url": _step_url(number),
                    "title": current.title,
                }
            )
    return rows
