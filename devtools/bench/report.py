"""The benchmark's report: one dictionary (what ``--json`` writes), and the table printed from it."""

import json
import os
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection
from django.utils import timezone

from devtools.bench.dataset import BenchData
from devtools.bench.harness import Result


def build_report(
    data: BenchData,
    *,
    data_set: dict[str, int],
    results: list[Result],
    bare_ms: dict[str, float],
    repeat: int,
    warmup: int,
) -> dict[str, Any]:
    """The figures of one run with what is needed to compare runs: the database, its size, the versions."""
    return {
        "meta": {
            "time": timezone.now().isoformat(timespec="seconds"),
            "database": {"vendor": connection.vendor, "name": str(connection.settings_dict["NAME"])},
            "data_set": data_set,
            "caseload_size": data.caseload_size,
            "repeat": repeat,
            "warmup": warmup,
            "machine": _machine(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "commit": _git_commit(),
        },
        "bare_ms": {role: round(ms, 3) for role, ms in bare_ms.items()},
        "pages": [asdict(result) for result in results],
    }


def _machine() -> str:
    """The machine the figures were measured on: CPU model, cores and memory (Linux), else the platform."""
    model, memory_kb = platform.processor() or platform.machine(), 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    memory = f", {memory_kb / 1024 / 1024:.0f} GiB" if memory_kb else ""
    return f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(settings.BASE_DIR),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def format_table(report: dict[str, Any]) -> str:
    meta = report["meta"]
    size = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in meta["data_set"].items())
    lines = [
        f"Database: {meta['database']['vendor']} {meta['database']['name']} ({size})",
        f"Machine: {meta.get('machine', 'not recorded')}",
        f"Each page {meta['repeat']} times after {meta['warmup']} warm-up requests; times are server time in ms, "
        "cpu is the app process's CPU per request in ms, KB the response's size.",
        "Bare floor (empty view, same middleware): "
        + ", ".join(f"{role} {ms:.1f} ms" for role, ms in report["bare_ms"].items()),
        "",
    ]
    header = ("page", "median", "p95", "cpu", "queries", "x bare", "raw ms", "x raw", "KB", "target", "met")
    target_column = header.index("target")
    rows = [header]
    for page in report["pages"]:
        if page["status"] != "ok":
            rows.append((page["name"], page["status"], "", "", "", "", "", "", "", page["target"], ""))
            continue
        rows.append(
            (
                page["name"],
                f"{page['median_ms']:.1f}",
                f"{page['p95_ms']:.1f}",
                "" if page.get("cpu_ms") is None else f"{page['cpu_ms']:.1f}",
                str(page["queries"]),
                f"{page['x_bare']:.1f}",
                "" if page["raw_ms"] is None else f"{page['raw_ms']:.1f}",
                "" if page["x_raw"] is None else f"{page['x_raw']:.1f}",
                "" if page.get("size_bytes") is None else f"{page['size_bytes'] / 1000:.0f}",
                page["target"],
                {True: "yes", False: "NO", None: ""}[page["met"]],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for number, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i in (0, target_column) else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        if row[1] and not row[1][0].isdigit() and number:
            cells = [row[0].ljust(widths[0]), row[1]]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def read_json(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def write_json(report: dict[str, Any], path: str) -> None:
    Path(path).write_text(json.dumps(report, indent=2, default=str) + "\n")


def format_markdown(report: dict[str, Any]) -> str:
    """The README's table from a saved run (``bench --json``): the machine, the data set, then each page.

    The admin changelists' every option (pages named "admin option ...") are summed up in one line: how many,
    the slowest median, and how many missed their target.
    """
    meta = report["meta"]
    size = ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in meta["data_set"].items())
    lines = [
        f"Measured {meta['time'][:10]} at commit {meta.get('commit') or 'unknown'}"
        f" on {meta.get('machine', 'not recorded')};"
        f" {meta['database']['vendor']} with {size}; each page {meta['repeat']} times after {meta['warmup']} warm-up"
        " requests. Server time in ms; x bare: times an empty view through the same middleware"
        f" ({', '.join(f'{role} {ms:.1f} ms' for role, ms in report['bare_ms'].items())}); x raw: times the fetch of"
        " the page's rows on a plain driver connection (psycopg's own, on PostgreSQL).",
        "",
        "| page | median | p95 | queries | x bare | x raw | KB | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    options = [page for page in report["pages"] if page["name"].startswith("admin option ")]
    for page in report["pages"]:
        if page in options:
            continue
        if page["status"] != "ok":
            lines.append(f"| {page['name']} | {page['status']} | | | | | | {page['target']} | |")
            continue
        cells = [
            page["name"],
            f"{page['median_ms']:.0f}",
            f"{page['p95_ms']:.0f}",
            str(page["queries"]),
            f"{page['x_bare']:.1f}",
            "" if page["x_raw"] is None else f"{page['x_raw']:.1f}",
            "" if page.get("size_bytes") is None else f"{page['size_bytes'] / 1000:.0f}",
            page["target"],
            {True: "yes", False: "**no**", None: ""}[page["met"]],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    measured = [page for page in options if page["status"] == "ok"]
    if measured:
        slowest = max(measured, key=lambda page: page["median_ms"])
        missed = [page for page in measured if page["met"] is False]
        lines += [
            "",
            f"Every admin changelist option ({len(measured)} page{'s' if len(measured) != 1 else ''}: each filter"
            " choice, sortable column, search and"
            f" drill-down level, alone and with a year): slowest median {slowest['median_ms']:.0f} ms"
            f" ({slowest['name'].removeprefix('admin option ')}); {len(missed)} over their target"
            + (": " + ", ".join(page["name"].removeprefix("admin option ") for page in missed) if missed else "")
            + ".",
        ]
    return "\n".join(lines)
