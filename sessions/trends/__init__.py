"""A client's pain and fatigue over time, with MS phases behind them and what seems to help.

Shared by the therapist's trend page, its CSV and the client portal. Nothing here sees a
request: callers pass a client and a date range. One module per job:

- ``report``: what a report holds (SessionPoint, PhaseBand, Comparison, ChangeSummary, TrendReport, ...)
  and the thresholds the summaries use (MEANINGFUL_CHANGE, ROLLING_WINDOW, ...).
- ``statistics``: the summaries, pure functions of the points: no database, tested without one.
- ``queries``: ``trend_report(client, start=..., end=..., signed_only=...)`` loads a report in five
  queries whatever the number of sessions (sessions, technique uses, amendments, phases, self-reports).
- ``chart``: ``chart_data(report)``, the JSON-able data the chart draws (emit with json_script).
- ``export``: ``CSV_COLUMNS`` and ``csv_rows(report)``, documented in docs/trends-csv.md.
- ``ranges``: the range control: TrendRange, TrendRangeForm and ``resolve_range(request.GET, today=...)``.

    form, trend_range = resolve_range(request.GET, today=timezone.localdate())
    report = trend_report(client, start=trend_range.start, end=trend_range.end, signed_only=True)
    chart_data(report)
    csv_rows(report)

Scores are "after minus before", so a negative change means less pain or fatigue.
Signed sessions are shown with their amendments applied: the corrected values count.
SOAP notes are never read here, so nothing built from a report can leak them.
"""
