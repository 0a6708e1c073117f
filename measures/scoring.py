"""Scoring a questionnaire: plain functions of an instrument's items and the answers, no database.

An instrument's items are data: ``[{"link_id", "text", "options": [{"value", "label"}]}]``. Scoring is
"sum" (the item values added up) or "single" (one item whose chosen value is the score).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

SUM = "sum"
SINGLE = "single"
SCORINGS = (SUM, SINGLE)


class ScoringError(ValueError):
    """Answers that cannot be scored: a missing answer, a value the item does not offer, a total out of range."""


def option_values(item: Mapping[str, Any]) -> list[int]:
    return [option["value"] for option in item["options"]]


def check_items(items: Any, scoring: str) -> None:
    """Refuse item lists the flow could not show or score (used by Instrument.clean and the seed's tests)."""
    if scoring not in SCORINGS:
        raise ScoringError(f"Unknown scoring {scoring!r}.")
    if not isinstance(items, list) or not items:
        raise ScoringError("An instrument needs at least one item.")
    if scoring == SINGLE and len(items) != 1:
        raise ScoringError("Single-item scoring needs exactly one item.")
    seen = set()
    for item in items:
        if not isinstance(item, dict) or not {"link_id", "text", "options"} <= item.keys():
            raise ScoringError("Each item needs a link_id, a text and options.")
        if item["link_id"] in seen:
            raise ScoringError(f"Item {item['link_id']!r} appears twice.")
        seen.add(item["link_id"])
        options = item["options"]
        if not options or any(not isinstance(o.get("value"), int) or not o.get("label") for o in options):
            raise ScoringError(f"Item {item['link_id']!r}: each option needs a whole-number value and a label.")
        if len(set(option_values(item))) != len(options):
            raise ScoringError(f"Item {item['link_id']!r}: two options share a value.")


def check_answer(items: Sequence[Mapping[str, Any]], link_id: str, value: Any) -> int:
    """The answer as a whole number, if ``link_id`` is an item and ``value`` one of its options."""
    item = next((item for item in items if item["link_id"] == link_id), None)
    if item is None:
        raise ScoringError(f"There is no question {link_id!r}.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ScoringError("Choose one of the answers.") from None
    if isinstance(value, bool) or number not in option_values(item) or str(number) != str(value).strip():
        raise ScoringError("Choose one of the answers.")
    return number


def missing_items(items: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]) -> list[str]:
    """The link_ids of the items not answered yet, in the instrument's order."""
    return [item["link_id"] for item in items if answers.get(item["link_id"]) is None]


def score(
    items: Sequence[Mapping[str, Any]], answers: Mapping[str, Any], *, scoring: str, score_min: int, score_max: int
) -> int:
    """The total, refusing missing answers, values an item does not offer, answers to no item, and a total
    outside [score_min, score_max] (an instrument whose options do not add up to its range)."""
    missing = missing_items(items, answers)
    if missing:
        raise ScoringError(f"{len(missing)} question{'s' if len(missing) != 1 else ''} not answered yet.")
    unknown = set(answers) - {item["link_id"] for item in items}
    if unknown:
        raise ScoringError(f"Answers to no question: {', '.join(sorted(unknown))}.")
    values = [check_answer(items, item["link_id"], answers[item["link_id"]]) for item in items]
    if scoring == SUM:
        total = sum(values)
    elif scoring == SINGLE and len(values) == 1:
        total = values[0]
    else:
        raise ScoringError(f"Cannot score {len(values)} items with {scoring!r} scoring.")
    if not score_min <= total <= score_max:
        raise ScoringError(f"The score {total} is outside the instrument's range {score_min}-{score_max}.")
    return total


@dataclass(frozen=True)
class Change:
    """A score against an earlier one, in words for the client and the therapist."""

    points: int
    words: str


def describe_change(
    score_now: int, earlier: int | None, *, mcid: Decimal | None, higher_is_worse: bool, short_name: str
) -> Change | None:
    """How ``score_now`` compares with ``earlier``; against the MCID only where one is published."""
    if earlier is None:
        return None
    points = score_now - earlier
    if points == 0:
        direction = "the same as"
    else:
        better = (points < 0) == higher_is_worse
        direction = f"{abs(points)} point{'s' if abs(points) != 1 else ''} {'better' if better else 'worse'} than"
    words = f"{direction} last time ({earlier})."
    threshold = format_number(mcid) if mcid is not None else ""
    if mcid is None:
        words += f" {short_name} has no published minimal important difference, so read small changes with care."
    elif abs(points) >= mcid:
        words += f" That is at least the {threshold}-point change known to matter."
    else:
        words += f" That is less than the {threshold}-point change known to matter."
    return Change(points, words[0].upper() + words[1:])


def format_number(value: Decimal) -> str:
    """2.00 -> "2", 2.50 -> "2.5", 10.00 -> "10" (an MCID as people write it; never "1E+1")."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
