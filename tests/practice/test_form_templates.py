"""The project's own widget templates draw the same markup as Django's, only without a template per option.

templates/django/forms/widgets/select.html replaces Django's select (read through FORM_RENDERER = TemplatesSetting),
and sessions/widgets/score_radio.html draws its radios inline: both are compared here with what Django's own
templates draw, whitespace aside.
"""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting, get_default_renderer

from sessions.forms import ScoreRadioSelect

CHOICES = [
    ("", "---------"),
    ("Upper body", [("neck", "Neck"), ("arm_left", 'Left arm <& "quoted">')]),
    ("Lower body", [("leg_left", "Left leg")]),
    ("back", "Back"),
]


def _tidy(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def test_the_project_renders_forms_with_its_own_templates():
    assert isinstance(get_default_renderer(), TemplatesSetting)


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (forms.Select(attrs={"class": "form-select", "aria-describedby": "hint"}), "arm_left"),
        (forms.Select(), None),
        (forms.SelectMultiple(attrs={"required": True}), ["neck", "back"]),
        (forms.NullBooleanSelect(), True),
    ],
)
def test_a_select_is_drawn_as_django_draws_it(widget, value):
    if not isinstance(widget, forms.NullBooleanSelect):
        widget.choices = CHOICES
    ours = widget.render("region", value, attrs={"id": "id_region"}, renderer=TemplatesSetting())
    djangos = widget.render("region", value, attrs={"id": "id_region"}, renderer=DjangoTemplates())
    assert _tidy(ours) == _tidy(djangos)
    assert "<option" in ours


def test_an_option_s_label_and_value_are_escaped():
    widget = forms.Select(choices=[('"><script>', "<b>bold</b>")])
    html = widget.render("x", None, renderer=TemplatesSetting())
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


class _DjangosRadios(ScoreRadioSelect):
    # The score scale as Django's own templates would draw it: each input through django/forms/widgets/input.html.
    template_name = "django/forms/widgets/radio.html"


@pytest.mark.parametrize("value", [None, 4])
def test_the_score_scale_draws_each_radio_as_django_s_input_template_would(value):
    choices = [("", "Not yet"), *((n, str(n)) for n in range(11))]
    ours = ScoreRadioSelect(choices=choices).render("pain_after", value, attrs={"id": "id_pain_after"})
    djangos = _DjangosRadios(choices=choices).render("pain_after", value, attrs={"id": "id_pain_after"})
    inputs = re.compile(r"<input[^>]*>")
    assert inputs.findall(ours) == inputs.findall(djangos)
    assert len(inputs.findall(ours)) == 12
    assert ('value="4" class="btn-check" id="id_pain_after_5" checked>' in ours) is (value == 4)
    assert ours.count("<label") == 12 and 'for="id_pain_after_0">Not yet</label>' in ours
