"""Values as the JSON columns and files of the record hold them."""

import datetime as dt
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it: dates as ISO 8601 text, decimals and other values as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return str(value)
