"""HTML forms as a browser sends them, and the session form filled in as a therapist would.

One parser for every tool that posts a form from outside Django's test helpers: the page benchmark,
the load test (``loadtest/loadtest.py``) and tests that talk HTTP to real app servers. Standard library
only, so the load test imports it with the repository root on ``sys.path`` and no Django set up.
"""

from html.parser import HTMLParser

# A field only the new-session form has: FormFields(html, SESSION_FORM_FIELD) finds that form in a page.
SESSION_FORM_FIELD = "pain_before"
# Where fill_session_form puts its technique row: a value of clients.body_regions.BodyRegion.
DEFAULT_REGION = "upper_back"


class FormFields(HTMLParser):
    """The fields of a POST form in a page, with the values a browser would send untouched.

    The form is the first one with a field named ``containing`` (pages have a sign-out form too).
    ``fields`` maps each name to its values; ``options`` maps each <select> to its (value, label) pairs.
    """

    def __init__(self, html: str, containing: str = "csrfmiddlewaretoken") -> None:
        super().__init__(convert_charrefs=True)
        self.containing = containing
        self.fields: dict[str, list[str]] = {}
        self.options: dict[str, list[tuple[str, str]]] = {}
        self._state = "before"
        self._select: str | None = None
        self._selected = False
        self._option: str | None = None
        self._textarea: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and self._state == "before" and a.get("method", "").lower() == "post":
            self._state = "in"
        if self._state != "in" or not a.get("name") and tag not in ("option",):
            if tag == "option" and self._select is not None:
                self._start_option(a)
            return
        name = a.get("name", "")
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.fields.setdefault(name, [])
                return
            self.fields.setdefault(name, []).append(a.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select":
            self._select, self._selected = name, False
            self.options[name] = []
            self.fields.setdefault(name, [])
        elif tag == "option" and self._select is not None:
            self._start_option(a)
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = [""]

    def _start_option(self, a: dict[str, str]) -> None:
        if self._select is None:
            return  # an option outside any select: nothing to record
        self._option = a.get("value", "")
        self.options[self._select].append((self._option, ""))
        if "selected" in a:
            self.fields[self._select] = [self._option]
            self._selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea][-1] += data
        elif self._select is not None and self._option is not None:
            value, label = self.options[self._select][-1]
            self.options[self._select][-1] = (value, label + data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._state == "in":
            if self.containing in self.fields:
                self._state = "after"
            else:  # not the form wanted: forget it and look further
                self._state = "before"
                self.fields, self.options = {}, {}
        elif tag == "textarea":
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            if not self._selected and self.options[self._select]:
                self.fields[self._select] = [self.options[self._select][0][0]]  # a browser sends the first
            self._select = None


def fill_session_form(form: FormFields, *, marker: str, region: str = DEFAULT_REGION) -> dict[str, list[str]]:
    """The new-session form filled in as a therapist would: scores, one technique row, ``marker`` in the notes."""
    data = {name: list(values) for name, values in form.fields.items() if values}
    data.update(
        pain_before=["6"],
        fatigue_before=["6"],
        pain_after=["4"],
        fatigue_after=["5"],
        subjective=[marker],
        client_summary=["Gentle work on the upper back. Rest this evening."],
    )
    technique = next(
        (name for name in form.options if name.endswith("-technique")), None
    )  # the first technique row (uses-0-technique)
    if technique is not None:
        prefix = technique[: -len("technique")]
        choices = [(value, label) for value, label in form.options[technique] if value]
        swedish = next((value for value, label in choices if label.startswith("Swedish")), choices[0][0])
        data.update({technique: [swedish], f"{prefix}body_region": [region], f"{prefix}pressure": ["light"]})
    return data


def confirm_findings(form: FormFields, data: dict[str, list[str]]) -> dict[str, list[str]]:
    """After the form came back with safety findings: keep what was typed, confirm, give a reason."""
    again = dict(data)
    for name in ("reviewed", "csrfmiddlewaretoken", "version"):
        if form.fields.get(name):
            again[name] = form.fields[name]
    again["confirm_cautions"] = ["on"]
    again["safety_override_reason"] = ["Checked with the client and their physician before the session."]
    return again
