"""Accessibility checks with axe-core (WCAG 2.1 A and AA) in the real browser.

axe-core is a development package (package.json's devDependencies): it is read from node_modules
and injected through WebDriver, never served by the app. Scripts run through WebDriver are not
subject to the page's Content-Security-Policy, so the strict policy stays as it is.
"""

from functools import cache
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SELECTORS_SHOWN = 3

_RUN_AXE = """
const done = arguments[arguments.length - 1];
window.axe
  .run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then(
    (results) => done({violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((node) => node.target.join(" ")),
      summary: v.nodes.length ? v.nodes[0].failureSummary : "",
    }))}),
    (error) => done({error: String(error)}),
  );
"""


@cache
def _axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        pytest.fail(
            f"axe-core is not installed ({AXE_SCRIPT} is missing): run `npm ci` (or `make install`) "
            "to install the development packages from package-lock.json."
        )
    return AXE_SCRIPT.read_text(encoding="utf-8")


def axe_violations(driver: WebDriver) -> list[dict]:
    """Run axe-core over the current page; the WCAG 2.1 A/AA violations it finds."""
    if not driver.execute_script("return !!window.axe"):
        # Injected once per page: every page load starts without it.
        driver.execute_script(_axe_source())
    driver.set_script_timeout(30)
    result = driver.execute_async_script(_RUN_AXE, WCAG_TAGS)
    if result.get("error"):
        pytest.fail(f"axe-core could not run on {driver.current_url}: {result['error']}")
    return result["violations"]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = violation["targets"]
        shown = ", ".join(targets[:SELECTORS_SHOWN])
        more = f" and {len(targets) - SELECTORS_SHOWN} more" if len(targets) > SELECTORS_SHOWN else ""
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    {len(targets)} node(s): {shown}{more}\n"
            f"    first: {' '.join(violation['summary'].split())}\n"
            f"    {violation['helpUrl']}"
        )
    return "\n".join(lines)


def assert_no_axe_violations(driver: WebDriver, context: str) -> None:
    """Fail with a readable list when axe-core finds any WCAG 2.1 A/AA violation on the current page."""
    violations = axe_violations(driver)
    if violations:
        pytest.fail(
            f"{context} ({driver.current_url}): {len(violations)} accessibility violation(s)\n"
            + format_violations(violations),
            pytrace=False,
        )
