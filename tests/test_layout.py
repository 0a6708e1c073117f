"""The layout's dependencies run one way: practice <- clients <- sessions <- portal <- workspace <- outcomes.

practice/ is the foundation and imports no clinical app; each app imports only the apps below it.
Development tools (devtools/) may use everything; nothing in the product imports them.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["practice", "clients", "measures", "sessions", "portal", "workspace", "outcomes"]
PRODUCT_APPS = {*LAYERS, "devtools"}
# The outcomes report's definitions and statistics: plain Python, tested without a database or Django.
PURE_MODULES = ["outcomes/statistics.py", "outcomes/courses.py", "measures/schedule.py"]


def imported_apps(package: str) -> dict[str, set[str]]:
    """Top-level project packages each module of ``package`` imports (migrations excepted)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names & PRODUCT_APPS
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_each_app_imports_only_the_apps_below_it(package):
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    wrong = {module: sorted(names - allowed) for module, names in imported_apps(package).items() if names - allowed}
    assert wrong == {}, f"{package} may import only {sorted(allowed)}"


def test_practice_names_clinical_apps_only_in_url_includes():
    urls = (ROOT / "practice" / "urls.py").read_text()
    assert 'include("workspace.urls")' in urls  # by name, so the foundation needs no import
    assert imported_apps("practice")["practice/urls.py"] == {"practice"}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_the_definitions_and_statistics_are_plain_python(module):
    """They import the standard library and each other only: no Django, no other project module (relative
    imports count as the project)."""
    pure = {path.removesuffix(".py").replace("/", ".") for path in PURE_MODULES}
    source = (ROOT / module).read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            name = "." * node.level + (node.module or "")
            imported.add(name if name in pure else name.split(".")[0])
    wrong = imported - sys.stdlib_module_names - pure
    assert not wrong, f"{module} imports {sorted(wrong)}"
