"""The one HTML form parser (devtools.html_forms), used by the bench, the load test and HTTP-level tests."""

import subprocess
import sys
from pathlib import Path

from clients.body_regions import BodyRegion
from devtools import html_forms

ROOT = Path(__file__).resolve().parents[2]


class TestFormFields:
    HTML = """
    <form method="post" action="/accounts/logout/"><input type="hidden" name="csrfmiddlewaretoken" value="x"></form>
    <form method="post">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input type="number" name="duration_minutes" value="60">
      <input type="radio" name="pain_before" value="1"><input type="radio" name="pain_before" value="2" checked>
      <input type="checkbox" name="confirm_cautions">
      <select name="setting"><option value="clinic">Clinic</option><option value="home" selected>Home</option></select>
      <select name="uses-0-technique"><option value="">Choose</option><optgroup label="Recommended">
        <option value="7">Reiki</option><option value="3">Swedish massage</option></optgroup></select>
      <textarea name="plan">Rest &amp; water</textarea>
      <input type="submit" name="go" value="Save">
    </form>"""

    def test_reads_what_a_browser_would_send_from_the_wanted_form(self):
        form = html_forms.FormFields(self.HTML, "duration_minutes")
        assert form.fields["csrfmiddlewaretoken"] == ["tok"]
        assert form.fields["pain_before"] == ["2"]
        assert form.fields["confirm_cautions"] == []
        assert form.fields["setting"] == ["home"]
        assert form.fields["uses-0-technique"] == [""]
        assert form.fields["plan"] == ["Rest & water"]
        assert "go" not in form.fields
        assert form.options["uses-0-technique"][2] == ("3", "Swedish massage")

    def test_fills_the_session_form_with_the_marker_and_one_technique(self):
        data = html_forms.fill_session_form(html_forms.FormFields(self.HTML, "duration_minutes"), marker="run-1 #7")
        assert data["subjective"] == ["run-1 #7"]
        assert data["uses-0-technique"] == ["3"]
        assert data["uses-0-body_region"] == ["upper_back"] and data["uses-0-pressure"] == ["light"]
        assert data["csrfmiddlewaretoken"] == ["tok"]

    def test_the_default_region_is_a_body_region(self):
        assert html_forms.DEFAULT_REGION in BodyRegion.values

    def test_confirming_findings_keeps_what_was_typed_and_gives_a_reason(self):
        form = html_forms.FormFields(self.HTML, "duration_minutes")
        typed = html_forms.fill_session_form(form, marker="run-1 #7")
        again = html_forms.confirm_findings(form, typed)
        assert again["subjective"] == ["run-1 #7"] and again["csrfmiddlewaretoken"] == ["tok"]
        assert again["confirm_cautions"] == ["on"] and again["safety_override_reason"][0]


def test_imports_without_django_so_the_load_test_can_use_it():
    code = "import sys, devtools.html_forms; assert 'django' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env={"PYTHONPATH": str(ROOT)})
