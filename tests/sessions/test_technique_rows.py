"""The technique rows' selects (sessions/templatetags/technique_rows.py) are drawn as crispy-forms draws them."""

import re

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django.template.loader import render_to_string

from sessions.forms import technique_formset, techniques_for_form
from sessions.templatetags.technique_rows import row_select

pytestmark = pytest.mark.django_db
FIELDS = ("technique", "body_region", "pressure")


def _normal(html: str) -> str:
    """Whitespace between and at the edges of tags is not markup: crispy's template has much of it."""
    return re.sub(r"\s+", " ", re.sub(r"\s*([<>])\s*", r"\1", str(html))).strip()


def _formset(data=None, initial=None):
    formset = technique_formset(3)(data, initial=initial, prefix="uses", techniques=techniques_for_form(None))
    if data is not None:
        formset.is_valid()
    return formset


def _rows():
    blank = _formset()
    technique = str(techniques_for_form(None)[0].pk)
    errors = _formset(
        {
            "uses-TOTAL_FORMS": "2",
            "uses-INITIAL_FORMS": "0",
            "uses-0-technique": "999999",
            "uses-0-body_region": "neck",
            "uses-0-pressure": "",
            "uses-1-technique": technique,
            "uses-1-body_region": "shoulder_left",
            "uses-1-pressure": "firm",
        }
    )
    initial = _formset(initial=[{"technique": technique, "body_region": "calf_right", "pressure": "moderate"}])
    return [blank.forms[0], blank.empty_form, errors.forms[0], errors.forms[1], initial.forms[0]]


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("name", FIELDS)
def test_a_row_select_is_crispys_markup(index, name):
    row = _rows()[index]
    drawn = row_select(row[name])
    assert _normal(drawn) == _normal(as_crispy_field(row[name]))


def test_errors_are_announced_on_the_select_and_under_it():
    row = _rows()[2]
    drawn = row_select(row["technique"])
    assert 'class="select form-select is-invalid" aria-invalid="true"' in drawn
    assert 'aria-describedby="id_uses-0-technique_error"' in drawn
    assert '<p id="error_1_id_uses-0-technique"><strong>Choose a technique from the list.</strong></p>' in drawn
    assert "is-invalid" not in row_select(_rows()[3]["technique"])


def test_a_session_form_row_draws_every_select_this_way(therapist):
    row = _rows()[0]
    html = render_to_string("sessions/_technique_row.html", {"row": row, "number": 1})
    for name in FIELDS:
        assert _normal(row_select(row[name])) in _normal(html)
