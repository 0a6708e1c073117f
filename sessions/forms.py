"""The session form a therapist fills in on a tablet, its technique rows, the safety review and amendments.

``SessionEntry`` bundles the session form and its technique rows: it validates both, runs the safety
screen on what was typed, and asks for an override reason or a confirmation where the screen requires
one. Saving goes through ``sessions.services`` (a new draft, or a version-checked update of one).

The new-session form carries a one-time token (``form_token``, hidden), made when the form is first shown
and sent back with every submission of it: the same form sent twice saves one session
(``sessions.services.session_create``). A submission without a token (a script) is saved as before.
"""

import copy
import hashlib
import re
import uuid
from collections.abc import Iterable, MutableMapping
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils import timezone

from clients.body_regions import BodyRegion, region_label
from clients.models import Client
from clients.scores import SCORE_CHOICES
from sessions.corrections import corrected, screen_saved_correction
from sessions.models import (
    AMENDABLE_FIELDS,
    DRAFT_FIELDS,
    MAX_TECHNIQUE_USES,
    Guidance,
    Pressure,
    Technique,
    TechniqueUse,
    TreatmentSession,
    check_session_start,
)
from sessions.safety import Finding, PlannedUse, Severity, has_caution, has_stop, kept_override_reason
from sessions.screening import LOOK_UP, override_reason_problem, screen_planned_session
from sessions.services import session_create, session_update

NOT_YET = ("", "Not yet")
SCORE_ERRORS = {
    "required": "Tap a score from 0 (none) to 10 (worst imaginable).",
    "invalid_choice": "Choose a whole number from 0 to 10.",
}
# Blank technique rows the form offers without JavaScript; with it, rows are added as needed.
EXTRA_ROWS_NEW = 3
EXTRA_ROWS_EDIT = 1
DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
# Free text is limited in the forms (the model's text fields are not): 10,000 characters is some 1,500
# words per section, more than any session needs, and a paste gone wrong gets a message on its field.
NOTE_MAX_LENGTH = 10_000
NOTE_FIELDS = ("subjective", "objective", "assessment", "plan", "client_summary", "safety_override_reason", "reason")


def limit_length(form: forms.BaseForm, names: Iterable[str], max_length: int = NOTE_MAX_LENGTH) -> None:
    """Give the form's text fields among ``names`` a maximum length, checked on the server and in the browser."""
    for name in names:
        field = form.fields.get(name)
        if not isinstance(field, forms.CharField):
            continue
        field.max_length = max_length
        field.validators.append(MaxLengthValidator(max_length))
        field.widget.attrs["maxlength"] = str(max_length)


class ScoreRadioSelect(forms.RadioSelect):
    """0-10 as a row of large tap targets; the template draws each radio as a button."""

    template_name = "sessions/widgets/score_radio.html"

    def __init__(self, attrs=None, choices=()):
        super().__init__({"class": "btn-check", **(attrs or {})}, choices)


def score_field(label: str, *, required: bool = True) -> forms.TypedChoiceField:
    choices = SCORE_CHOICES if required else [NOT_YET, *SCORE_CHOICES]
    return forms.TypedChoiceField(
        label=label,
        choices=choices,
        coerce=int,
        empty_value=None,
        required=required,
        widget=ScoreRadioSelect,
        error_messages=SCORE_ERRORS,
    )


def local_now_to_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class SessionForm(forms.ModelForm):
    started_at = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT_FORMAT),
        error_messages={
            "required": "Enter the date and time of the session.",
            "invalid": "Enter a valid date and time.",
        },
    )
    pain_before = score_field("Pain before")
    fatigue_before = score_field("Fatigue before")
    pain_after = score_field("Pain after", required=False)
    fatigue_after = score_field("Fatigue after", required=False)
    confirm_cautions = forms.BooleanField(label="I have read the cautions", required=False)
    # The findings the therapist last saw (a fingerprint), so a confirmation only covers what was shown.
    reviewed = forms.CharField(widget=forms.HiddenInput, required=False)
    # This form's one-time token: sent twice (a double tap, a retry), it saves one session.
    form_token = forms.UUIDField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={"invalid": "This form could not be read. Open a new form and log the session again."},
    )

    class Meta:
        model = TreatmentSession
        fields = list(DRAFT_FIELDS)
        labels = {
            "duration_minutes": "Duration (minutes)",
            "room_temperature_c": "Room temperature (°C)",
            "subjective": "S: what the client reports",
            "objective": "O: what you observed",
            "assessment": "A: your assessment",
            "plan": "P: plan",
            "safety_override_reason": "Why go ahead despite the safety stop?",
        }
        help_texts = {
            "room_temperature_c": "Optional. Warm rooms can worsen symptoms in heat-sensitive clients.",
            "client_summary": "The client sees this in their portal; the SOAP notes stay with the clinical team.",
            "safety_override_reason": "A sentence that says why it is safe: kept with the session and shown with it.",
        }
        widgets = {
            "duration_minutes": forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
            "room_temperature_c": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}),
            "subjective": forms.Textarea(attrs={"rows": 2}),
            "objective": forms.Textarea(attrs={"rows": 2}),
            "assessment": forms.Textarea(attrs={"rows": 2}),
            "plan": forms.Textarea(attrs={"rows": 2}),
            "client_summary": forms.Textarea(attrs={"rows": 2}),
            "safety_override_reason": forms.Textarea(attrs={"rows": 2}),
        }
        error_messages = {
            "duration_minutes": {
                "min_value": "A session lasts at least 5 minutes.",
                "max_value": "A session lasts at most 240 minutes.",
            },
            "room_temperature_c": {
                "min_value": "Enter the room temperature in °C (5 to 40).",
                "max_value": "Enter the room temperature in °C (5 to 40).",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_length(self, NOTE_FIELDS)


class EditSessionForm(SessionForm):
    # The version the therapist started from; saving only succeeds if it is still current.
    version = forms.IntegerField(widget=forms.HiddenInput)
    # A saved draft is edited under its version instead.
    form_token = None  # type: ignore[assignment]  # None removes an inherited field (Django's way)


class TechniqueChoiceField(forms.ModelChoiceField):
    """A technique from a list loaded once for all rows: no query per row, grouped by MS guidance."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Technique.objects.none(), **kwargs)
        self._by_pk: dict[str, Technique] = {}

    def set_techniques(self, techniques: list[Technique], choices: list) -> None:
        self._by_pk = {str(t.pk): t for t in techniques}
        self.choices = choices

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self._by_pk[str(value)]
        except KeyError:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None


def technique_choices(techniques: Iterable[Technique]) -> list:
    groups = []
    for guidance in Guidance:
        options = [(t.pk, t.name) for t in techniques if t.guidance == guidance]
        if options:
            groups.append((guidance.label, options))
    return [("", "Choose a technique"), *groups]


class TechniqueUseForm(forms.Form):
    technique = TechniqueChoiceField(
        error_messages={
            "required": "Choose the technique used.",
            "invalid_choice": "Choose a technique from the list.",
        },
    )
    body_region = forms.ChoiceField(
        label="Body region",
        choices=[("", "Choose a region"), *BodyRegion.choices],
        error_messages={
            "required": "Choose the body region for this technique.",
            "invalid_choice": "Choose a body region from the list.",
        },
    )
    pressure = forms.ChoiceField(
        choices=Pressure.choices,
        initial=Pressure.LIGHT,
        error_messages={"required": "Choose the pressure.", "invalid_choice": "Choose a pressure from the list."},
    )

    def __init__(self, *args, techniques: list[Technique], choices: list, **kwargs):
        super().__init__(*args, **kwargs)
        technique = self.fields["technique"]
        assert isinstance(technique, TechniqueChoiceField)
        technique.set_techniques(techniques, choices)

    def has_changed(self) -> bool:
        # A row counts when a technique or a region is filled in; the default pressure alone is a blank row.
        return bool(self.data.get(self.add_prefix("technique")) or self.data.get(self.add_prefix("body_region")))

    def planned_use(self) -> PlannedUse:
        data = self.cleaned_data
        return PlannedUse(technique=data["technique"], body_region=data["body_region"], pressure=data["pressure"])


# Shown when more technique rows are sent than a session holds, in the therapist's form and the admin.
TOO_MANY_ROWS = "A session holds at most %(num)d technique rows: remove the rows you do not need and save again."


class BaseTechniqueUseFormSet(forms.BaseFormSet):
    default_error_messages = {"too_many_forms": TOO_MANY_ROWS}

    def __init__(self, *args, techniques: list[Technique], rows_cut: bool = False, **kwargs):
        self.techniques = techniques
        self.technique_choices = technique_choices(techniques)
        # More rows were sent than a session holds (see cut_rows): refused, whatever the rows say.
        self.rows_cut = rows_cut
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        # Every row may be left blank (or blanked out to remove it); blank rows are ignored.
        return {"techniques": self.techniques, "choices": self.technique_choices, "empty_permitted": True}

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def kept_forms(self) -> list[TechniqueUseForm]:
        return [
            form
            for form in self.forms
            if form.has_changed()
            and not self._should_delete_form(form)  # type: ignore[attr-defined]
            and form.is_valid()
            and form.cleaned_data
        ]

    def clean(self) -> None:
        if self.rows_cut:
            raise ValidationError(TOO_MANY_ROWS % {"num": MAX_TECHNIQUE_USES}, code="too_many_forms")
        seen: dict[tuple, int] = {}
        rows = 0
        for form in self.forms:
            if self._should_delete_form(form) or not form.has_changed():  # type: ignore[attr-defined]
                continue
            rows += 1
            if not form.is_valid():
                continue
            key = (form.cleaned_data["technique"].pk, form.cleaned_data["body_region"])
            if key in seen:
                form.add_error(
                    "body_region",
                    f"{form.cleaned_data['technique'].name} on the "
                    f"{region_label(key[1]).lower()} is already in row {seen[key]}; remove one of the two rows.",
                )
            else:
                seen[key] = self.forms.index(form) + 1
        if rows == 0:
            raise ValidationError("Add at least one technique with the body region it was used on.", code="no_rows")

    def planned_uses(self) -> list[PlannedUse]:
        return [form.planned_use() for form in self.kept_forms()]


def technique_formset(extra: int) -> type[BaseTechniqueUseFormSet]:
    """Technique rows with ``extra`` blank ones: never more than MAX_TECHNIQUE_USES built, nor accepted."""
    formset = forms.formset_factory(
        TechniqueUseForm,
        formset=BaseTechniqueUseFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_TECHNIQUE_USES,
        absolute_max=MAX_TECHNIQUE_USES,
        validate_max=True,
    )
    return cast(type[BaseTechniqueUseFormSet], formset)


TechniqueUseFormSet = technique_formset(EXTRA_ROWS_NEW)
TechniqueUseEditFormSet = technique_formset(EXTRA_ROWS_EDIT)


def cut_rows(data: MutableMapping[str, Any], prefix: str) -> bool:
    """Bring a row count past MAX_TECHNIQUE_USES down before any row is built; True when it was cut.

    The count becomes that of the rows up to the last one filled in (at most the maximum), so the page shown
    again with the refusal holds the rows that were typed, not hundreds of blank ones, and can be sent again.
    """
    total_key, initial_key = f"{prefix}-TOTAL_FORMS", f"{prefix}-INITIAL_FORMS"
    try:
        sent = int(data.get(total_key, ""))
    except (TypeError, ValueError):
        return False  # the formset says the management form is broken
    if sent <= MAX_TECHNIQUE_USES:
        return False
    row_field = re.compile(rf"{re.escape(prefix)}-(\d+)-(?:technique|body_region)")
    filled = [int(match[1]) for name, value in data.items() if value and (match := row_field.fullmatch(name))]
    kept = min(max(filled, default=0) + 1, MAX_TECHNIQUE_USES)
    data[total_key] = str(kept)
    if str(data.get(initial_key, "")).isdigit():
        data[initial_key] = str(min(int(data[initial_key]), kept))
    return True


def techniques_for_form(session: TreatmentSession | None = None) -> list[Technique]:
    """The active catalogue, plus any retired technique this session already uses (one query)."""
    techniques = Technique.objects.active()
    if session is not None and session.pk:
        techniques = Technique.objects.filter(Q(is_active=True) | Q(uses__session=session)).distinct()
    return list(techniques.order_by("name"))


def findings_fingerprint(findings: Iterable[Finding]) -> str:
    """Stable short digest of the stops and cautions, to tell whether what was confirmed is still what applies."""
    text = "\n".join(f"{f.severity}|{f.code}|{f.reason}" for f in findings if f.severity != Severity.INFO)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class SessionEntry:
    """The session form and its technique rows, validated, safety-screened and saved together.

    ``user`` logs a new session for ``client`` (as its therapist), or edits ``session``.
    """

    def __init__(self, *, client: Client, user: User, data=None, session: TreatmentSession | None = None):
        self.client = client
        self.user = user
        self.session = session
        editing = session is not None
        self.therapist = session.therapist if session is not None else user
        instance = session if editing else TreatmentSession(client=client, therapist=self.therapist)
        techniques = techniques_for_form(session)
        # A mutable copy, so the review can update the fingerprint and the version it re-renders with.
        self.data = data.copy() if data is not None else None
        rows_cut = self.data is not None and cut_rows(self.data, "uses")
        form_class = EditSessionForm if editing else SessionForm
        formset_class = TechniqueUseEditFormSet if editing else TechniqueUseFormSet
        self.uses: list[TechniqueUse] = []
        self.formset: BaseTechniqueUseFormSet
        if session is not None:
            self.uses = list(session.technique_uses.select_related("technique"))
            rows = [
                {"technique": use.technique_id, "body_region": use.body_region, "pressure": use.pressure}
                for use in self.uses
            ]
            self.form = form_class(self.data, instance=instance, initial={"version": session.version})
            self.formset = formset_class(
                self.data, initial=rows, prefix="uses", techniques=techniques, rows_cut=rows_cut
            )
        else:
            initial = {"started_at": local_now_to_minute(), "form_token": uuid.uuid4()}
            self.form = form_class(self.data, instance=instance, initial=initial)
            self.formset = formset_class(self.data, prefix="uses", techniques=techniques, rows_cut=rows_cut)
        self.findings: list[Finding] = []

    def is_valid(self) -> bool:
        # Both are always validated so every error shows at once.
        form_valid = self.form.is_valid()
        formset_valid = self.formset.is_valid()
        return form_valid and formset_valid

    def screen(self) -> list[Finding]:
        """Run the safety screen on the validated data (one query: the phase on the session date)."""
        data = self.form.cleaned_data
        self.findings = screen_planned_session(
            client=self.client,
            when=data["started_at"],
            uses=self.formset.planned_uses(),
            room_temperature_c=data.get("room_temperature_c"),
            pain_before=data.get("pain_before"),
            relapse_reported_at=LOOK_UP,
        )
        return self.findings

    def review(self) -> bool:
        """True when the findings allow saving: stops have an override reason, cautions are confirmed.

        Otherwise the form gets field errors and the fingerprint of the findings now shown.
        """
        findings = self.screen()
        fingerprint = findings_fingerprint(findings)
        posted = self.data
        assert posted is not None  # reviewed only after a POST
        data = self.form.cleaned_data
        seen = data.get("reviewed") == fingerprint
        if has_stop(findings):
            reason = data.get("safety_override_reason", "")
            if not reason.strip():
                self.form.add_error(
                    "safety_override_reason",
                    "A safety stop applies. Change the plan, or write why you are going ahead anyway.",
                )
            elif problem := override_reason_problem(reason):
                self.form.add_error("safety_override_reason", problem)
            elif not seen:
                self.form.add_error(
                    "safety_override_reason",
                    "The safety findings changed. Read them, check this reason still applies, and save again.",
                )
        if has_caution(findings):
            if not data.get("confirm_cautions"):
                self.form.add_error("confirm_cautions", "Tick to confirm you have read the cautions.")
            elif not seen:
                self.form.add_error("confirm_cautions", "The cautions changed. Read them and confirm again.")
                posted.pop("confirm_cautions", None)
        posted["reviewed"] = fingerprint
        return not self.form.errors

    def values(self) -> dict[str, Any]:
        """The session's fields as typed, for the services (after ``review()``, which screened them)."""
        values = {name: self.form.cleaned_data[name] for name in DRAFT_FIELDS}
        values["safety_override_reason"] = kept_override_reason(self.findings, values["safety_override_reason"])
        return values

    def save(self) -> TreatmentSession:
        """Write a new draft, or the edited one; EditConflict when the draft changed since the form was opened.

        A new session's form sent again returns the session its first sending saved (``resubmitted`` set).
        """
        uses = self.formset.planned_uses()
        if self.session is None:
            return session_create(
                client=self.client,
                therapist=self.therapist,
                values=self.values(),
                uses=uses,
                form_token=self.form.cleaned_data.get("form_token"),
                findings=self.findings,
                user=self.user,
            )
        # Rows as they are stored need no rewrite.
        unchanged = uses == [PlannedUse.of(use) for use in self.uses]
        version = self.form.cleaned_data["version"]
        return session_update(
            session=self.session,
            version=version,
            values=self.values(),
            uses=None if unchanged else uses,
            user=self.user,
            findings=self.findings,
        )

    def conflict(self) -> TreatmentSession:
        """Keep everything typed, and let the next save knowingly replace what is there now."""
        assert self.session is not None and self.data is not None  # only an edit that was posted conflicts
        current = TreatmentSession.objects.get(pk=self.session.pk)
        self.data["version"] = current.version
        return current


class AmendedUsesFormSet(TechniqueUseEditFormSet):  # type: ignore[valid-type,misc]  # a class from a factory
    """The technique rows of a correction: a session signed without rows (loaded in bulk) may stay without."""

    signed_without_rows = False

    def clean(self) -> None:
        try:
            super().clean()
        except ValidationError as error:
            if not (self.signed_without_rows and error.code == "no_rows"):
                raise


class AmendmentForm(forms.Form):
    """A correction to a signed session: change the values and technique rows that were wrong, and say why.

    The same fields, widgets and checks as the session form (``SessionForm``, the technique rows, the date bounds
    of ``TreatmentSession.clean``); a correction of what the safety screen reads is screened like a new plan, with
    the same stop and caution review. The rows are left as they stand when a post carries none (a script).
    """

    pain_before = score_field("Pain before")
    fatigue_before = score_field("Fatigue before")
    pain_after = score_field("Pain after")
    fatigue_after = score_field("Fatigue after")
    reason = forms.CharField(
        label="Reason for the correction",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the signed session is being corrected."},
    )
    safety_override_reason = forms.CharField(
        label="Why go ahead despite the safety stop?",
        help_text="A sentence that says why it was safe: kept with the correction and shown with the session.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_cautions = forms.BooleanField(label="I have read the cautions", required=False)
    reviewed = forms.CharField(widget=forms.HiddenInput, required=False)
    # The corrections standing when the form was opened (CorrectedSession.amendments).
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, *, session: TreatmentSession):
        self.session = session
        self.current = corrected(session)
        self.findings: list[Finding] = []
        initial = {name: getattr(self.current, name) for name in AMENDABLE_FIELDS}
        initial["started_at"] = timezone.localtime(self.current.started_at).replace(second=0, microsecond=0)
        initial["safety_override_reason"] = self.current.safety_override_reason
        initial["based_on"] = self.current.amendments
        self.data_copy = data.copy() if data is not None else None
        if self.data_copy is not None and "started_at" not in self.data_copy:
            # A post without the field (a script) keeps the date; the page always sends it.
            self.data_copy["started_at"] = initial["started_at"].strftime(DATETIME_INPUT_FORMAT)
        super().__init__(self.data_copy, initial=initial)
        self.fields["started_at"] = copy.deepcopy(SessionForm.base_fields["started_at"])
        # The other amendable fields, as the session form has them.
        model_fields = forms.models.fields_for_model(
            TreatmentSession,
            fields=[f for f in AMENDABLE_FIELDS if f not in self.fields],
            labels=SessionForm.Meta.labels,
            widgets=cast(Any, SessionForm.Meta.widgets),
            error_messages=SessionForm.Meta.error_messages,
        )
        self.fields.update(model_fields)
        self.order_fields([*AMENDABLE_FIELDS, "reason"])
        limit_length(self, NOTE_FIELDS)
        # The technique rows as they stand, corrected or signed; a retired technique among them stays offered.
        rows = self.current.uses
        techniques = Technique.objects.filter(Q(is_active=True) | Q(pk__in=[use.technique_id for use in rows]))
        self.rows_sent = self.data_copy is not None and "uses-TOTAL_FORMS" in self.data_copy
        rows_cut = self.data_copy is not None and self.rows_sent and cut_rows(self.data_copy, "uses")
        self.formset = AmendedUsesFormSet(
            self.data_copy if self.rows_sent else None,
            initial=[{"technique": u.technique_id, "body_region": u.body_region, "pressure": u.pressure} for u in rows],
            prefix="uses",
            techniques=list(techniques.order_by("name")),
            rows_cut=rows_cut,
        )
        self.formset.signed_without_rows = not rows
        if not self.is_bound:
            self.initial["reviewed"] = findings_fingerprint(screen_saved_correction(self.current))

    def is_valid(self) -> bool:
        # Both are always validated so every error shows at once.
        form_valid = super().is_valid()
        rows_valid = not self.rows_sent or self.formset.is_valid()
        return form_valid and rows_valid

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or (self.rows_sent and not self.formset.is_valid()):
            return cleaned
        based_on = cleaned.get("based_on")
        if based_on is not None and based_on != self.current.amendments and self.data_copy is not None:
            # Opened, or restored from an autosave, before someone else's correction: saving as typed could undo
            # theirs unseen. The next save is made against the session as it stands now.
            self.data_copy["based_on"] = str(self.current.amendments)
            raise ValidationError(
                "Someone recorded a correction to this session after you opened this form; the session as it "
                "stands now is shown beside your changes. Check them against it and save again.",
                code="conflict",
            )
        if "started_at" in self.changes():
            try:
                check_session_start(cleaned["started_at"])
            except ValidationError as error:
                self.add_error("started_at", error.message_dict["started_at"])
                return cleaned
        if not self.changes() and self.uses() is None:
            raise ValidationError("Change at least one value to record a correction.", code="no_change")
        self._review(cleaned)
        return cleaned

    def _review(self, cleaned: dict[str, Any]) -> None:
        """The corrected plan's safety screen: a stop needs a real reason, cautions a confirmation (as logging)."""
        changes, uses = self.changes(), self.uses()
        if uses is None and not {"started_at", "room_temperature_c", "pain_before"} & set(changes):
            return
        self.findings = screen_planned_session(
            client=self.session.client,
            when=changes.get("started_at", self.current.started_at),
            uses=uses if uses is not None else self.formset_or_current_uses(),
            room_temperature_c=changes.get("room_temperature_c", self.current.room_temperature_c),
            pain_before=changes.get("pain_before", self.current.pain_before),
        )
        fingerprint = findings_fingerprint(self.findings)
        seen = cleaned.get("reviewed") == fingerprint
        if has_stop(self.findings):
            reason = cleaned.get("safety_override_reason", "")
            if not reason.strip():
                self.add_error(
                    "safety_override_reason",
                    "A safety stop applies to the corrected session. Change it, or write why it went ahead anyway.",
                )
            elif problem := override_reason_problem(reason):
                self.add_error("safety_override_reason", problem)
            elif not seen:
                self.add_error(
                    "safety_override_reason",
                    "The safety findings changed. Read them, check this reason still applies, and save again.",
                )
        if has_caution(self.findings):
            if not cleaned.get("confirm_cautions"):
                self.add_error("confirm_cautions", "Tick to confirm you have read the cautions.")
            elif not seen:
                self.add_error("confirm_cautions", "The cautions changed. Read them and confirm again.")
                assert self.data_copy is not None  # reviewed only after a POST
                self.data_copy.pop("confirm_cautions", None)
        if self.data_copy is not None:
            self.data_copy["reviewed"] = fingerprint

    def formset_or_current_uses(self) -> list[PlannedUse]:
        """The rows as they stand, with their techniques (from the form's list: no query)."""
        by_pk = {t.pk: t for t in self.formset.techniques}
        return [PlannedUse(by_pk[u.technique_id], u.body_region, u.pressure) for u in self.current.uses]

    def changes(self) -> dict[str, Any]:
        """The fields whose new value differs from the value as it stands now."""
        changed = {}
        for name in AMENDABLE_FIELDS:
            if name not in self.cleaned_data:
                continue
            now = getattr(self.current, name)
            if name == "started_at":
                # The form holds minutes: a start with seconds that was not touched is unchanged.
                now = now.replace(second=0, microsecond=0)
            new = self.cleaned_data[name]
            if new != now:
                changed[name] = new
        return changed

    def uses(self) -> list[PlannedUse] | None:
        """The corrected technique rows, or None when they are as they stand (or were not sent)."""
        if not self.rows_sent:
            return None
        planned = self.formset.planned_uses()
        as_now = [(u.technique_id, u.body_region, u.pressure) for u in self.current.uses]
        if [(u.technique.pk, u.body_region, u.pressure) for u in planned] == as_now:
            return None
        return planned

    def override_reason(self) -> str | None:
        """The override reason for the service, when the corrected plan meets a stop."""
        return self.cleaned_data.get("safety_override_reason", "") if has_stop(self.findings) else None
