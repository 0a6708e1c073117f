"""The page benchmark behind ``manage.py bench``.

Against the configured database it prepares, idempotently, what the pages need inside the data set
(``dataset``), then requests each page (``pages``) in-process with all the middleware and measures the
median and 95th percentile server time, the number of queries, and two floors measured in the same run:
an empty view and a raw SQL fetch of the page's rows (``harness``). ``report`` holds the table and the
JSON figures. Pages whose view does not exist (yet) are reported as not available.
"""

from collections.abc import Callable
from typing import Any

from devtools.bench import dataset, harness, pages, report
from devtools.bench.dataset import DEFAULT_AUDIT_EVENTS


def run_bench(
    *,
    repeat: int,
    warmup: int,
    only: str = "",
    audit_events: int = DEFAULT_AUDIT_EVENTS,
    admin_options: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Prepare, measure every page (and every admin changelist option), and return the report (as in the JSON)."""
    data = dataset.prepare(audit_events=audit_events, log=log)
    measured = pages.pages() + (pages.admin_option_pages() if admin_options else [])
    newest = dataset.newest_session_id()  # the POST page adds sessions: the data set is what came before
    results, bare_ms = harness.measure(data, measured, repeat=repeat, warmup=warmup, only=only, log=log)
    # Counted after measuring: counting millions of rows first left the first pages measured some 10 ms slower.
    size = dataset.data_set_size(sessions_up_to=newest)
    return report.build_report(data, data_set=size, results=results, bare_ms=bare_ms, repeat=repeat, warmup=warmup)
