"""Forms of the therapist's workspace for a client: the health profile and the phase timeline."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.models import EDSS_SCORES, Client, DiseasePhase, Phase
from clients.services import phase_end, phase_start
from practice.roles import THERAPIST


class DateInput(forms.DateInput):
    """The browser's date picker; it speaks ISO dates whatever the page's locale."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def add_model_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a model or service ValidationError on the form: on its field where the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class TherapistChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


EDSS_FORM_CHOICES = [("", "Not recorded"), *((f"{score:.1f}", f"{score:.1f}") for score in EDSS_SCORES)]
# (legend, rows): each row is the names of the fields side by side in it.
PROFILE_FIELDSETS: list[tuple[str, list[tuple[str, ...]]]] = [
    ("Name", [("first_name", "last_name", "preferred_name"), ("date_of_birth",)]),
    ("Contact", [("email", "phone"), ("address",)]),
    (
        "Emergency contact",
        [("emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone")],
    ),
    (
        "Physician and neurologist",
        [("physician_name", "physician_phone"), ("neurologist_name", "neurologist_phone")],
    ),
    (
        "MS and health profile",
        [
            ("ms_type", "diagnosis_year", "edss"),
            ("heat_sensitive", "cold_sensitive"),
            ("conditions_needing_clearance",),
            ("physician_clearance_on",),
            ("reduced_sensation_regions",),
            ("pressure_sore_regions",),
            ("goals",),
        ],
    ),
]
CHECKBOX_LISTS = {"conditions_needing_clearance", "reduced_sensation_regions", "pressure_sore_regions", "goals"}


class ClientProfileForm(forms.ModelForm):
    """The client's profile and health profile. Only owners choose who cares for a client."""

    edss = forms.TypedChoiceField(
        label="EDSS",
        choices=EDSS_FORM_CHOICES,
        coerce=Decimal,
        empty_value=None,
        required=False,
        help_text="Expanded Disability Status Scale: 0, then 1.0 to 10.0 in steps of 0.5.",
        error_messages={
            "invalid_choice": "%(value)s is not a score on the EDSS scale: it runs 0, then 1.0 to 10.0 "
            "in steps of 0.5 (there is no 0.5)."
        },
    )
    # The model's text field has no limit; the form keeps an address to a sensible size.
    address = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    therapists = TherapistChoiceField(
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The therapists who care for this client.",
    )

    class Meta:
        model = Client
        fields = [name for _legend, rows in PROFILE_FIELDSETS for row in rows for name in row] + ["therapists"]
        widgets = {
            "date_of_birth": DateInput,
            "physician_clearance_on": DateInput,
        }

    def __init__(self, *args, can_assign_therapists: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.edss is not None:
            # Decimals from the database carry one place ("3.0"); the choices are written the same way.
            self.initial["edss"] = f"{self.instance.edss:.1f}"
        if can_assign_therapists:
            therapists = self.fields["therapists"]
            assert isinstance(therapists, TherapistChoiceField)
            therapists.queryset = (
                get_user_model()
                .objects.filter(groups__name=THERAPIST, is_active=True)
                .order_by("first_name", "last_name", "username")
            )
        else:
            del self.fields["therapists"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = self._layout(can_assign_therapists)

    def clean(self):
        cleaned = super().clean()
        self.instance.ensure_editable()
        return cleaned

    def _layout(self, can_assign_therapists: bool) -> Layout:
        fieldsets = [
            Fieldset(legend, *(Row(*(Column(self._field(name), css_class="col-md") for name in row)) for row in rows))
            for legend, rows in PROFILE_FIELDSETS
        ]
        if can_assign_therapists:
            fieldsets.append(Fieldset("Care", self._field("therapists")))
        return Layout(*fieldsets)

    @staticmethod
    def _field(name: str) -> Field:
        wrapper = "checkbox-columns" if name in CHECKBOX_LISTS or name == "therapists" else None
        return Field(name, wrapper_class=wrapper) if wrapper else Field(name)


class PhaseStartForm(forms.Form):
    """Start a new MS phase; the current one ends the day the new one starts."""

    phase = forms.ChoiceField(label="New phase", choices=Phase.choices)
    started_on = forms.DateField(label="Started on", widget=DateInput, initial=timezone.localdate)
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    prefix = "start"

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client

    def save(self, *, recorded_by) -> DiseasePhase | None:
        """The new phase, or None with the reasons on the form (and nothing saved)."""
        try:
            return phase_start(client=self.client, recorded_by=recorded_by, **self.cleaned_data)
        except ValidationError as error:
            add_model_errors(self, error)
            return None


class PhaseEndForm(forms.Form):
    """End the current phase without starting another (for example, when the course is uncertain)."""

    ended_on = forms.DateField(
        label="Ended on",
        widget=DateInput,
        initial=timezone.localdate,
        help_text="The first day the phase no longer applied.",
    )

    prefix = "end"

    def __init__(self, *args, phase: DiseasePhase, **kwargs):
        super().__init__(*args, **kwargs)
        self.phase = phase

    def save(self) -> DiseasePhase | None:
        try:
            return phase_end(phase=self.phase, ended_on=self.cleaned_data["ended_on"])
        except ValidationError as error:
            add_model_errors(self, error)
            return None
