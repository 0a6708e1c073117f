"""The test suite's own plumbing: the browser marker deselects every browser test, and only those."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _collected(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_not_browser_deselects_every_browser_test_and_nothing_else():
    everything = _collected("tests/browser", "tests/test_layout.py")
    without = _collected("-m", "not browser", "tests/browser", "tests/test_layout.py")
    browser = [node for node in everything if node.startswith("tests/browser/")]
    assert browser, "the browser tests were not collected at all"
    assert [node for node in without if node.startswith("tests/browser/")] == []
    assert without == [node for node in everything if not node.startswith("tests/browser/")]


def test_browser_selects_only_browser_tests():
    only = _collected("-m", "browser", "tests/browser", "tests/test_layout.py")
    assert only and all(node.startswith("tests/browser/") for node in only)


def _run_browser_tests(**env: str) -> subprocess.CompletedProcess:
    # Without DATABASE_URL the inner run uses SQLite: on PostgreSQL it would take the name of this run's
    # test database, and drop it.
    inherited = {k: v for k, v in os.environ.items() if k not in ("CI", "DATABASE_URL")}
    environment = inherited | {"CHROMIUM": "/nonexistent/chromium"} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/browser/test_login.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


@pytest.mark.parametrize("env", [{}, {"CI": "false"}], ids=["no CI variable", "CI=false"])
def test_a_missing_browser_is_a_clear_skip_on_a_developer_machine(env):
    result = _run_browser_tests(**env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "apt-get install chromium chromium-driver" in result.stdout
    assert " skipped" in result.stdout and " failed" not in result.stdout


def test_a_missing_browser_fails_ci_with_the_same_message():
    result = _run_browser_tests(CI="true")
    assert result.returncode == 1
    assert "apt-get install chromium chromium-driver" in result.stdout
