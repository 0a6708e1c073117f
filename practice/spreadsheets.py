"""CSV files that spreadsheet programs open safely: one writer for every download the product offers.

Files are UTF-8 with a byte-order mark, so spreadsheet programs show accents correctly, and text
that a spreadsheet would run as a formula is neutralised.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.http import HttpResponse

# Characters that make a spreadsheet treat a cell as a formula (or smuggle one in after a tab or return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A row is a mapping by column name, or a sequence in the columns' order.
Rows = Iterable[Mapping[str, Any] | Sequence[Any]]


def spreadsheet_safe(value: Any) -> Any:
    """The value as a cell: None is empty, formula-like text gets a leading apostrophe, numbers stay numbers.

    A change of -3 is data, not a formula, so only text is quoted.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_bytes(columns: Sequence[str], rows: Rows) -> bytes:
    """A CSV file: a header of ``columns``, then one line per row (a mapping by column, or a sequence in order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        cells = [row.get(name) for name in columns] if isinstance(row, Mapping) else row
        writer.writerow([spreadsheet_safe(value) for value in cells])
    return buffer.getvalue().encode("utf-8-sig")


def csv_response(
    filename: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]]
) -> HttpResponse:
    """A CSV download named ``filename`` (which must not carry names or other health data)."""
    response = HttpResponse(csv_bytes(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
