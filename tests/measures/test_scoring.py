"""Scoring tables, no database."""

from decimal import Decimal

import pytest

from measures import scoring
from measures.scoring import ScoringError, check_answer, check_items, describe_change, missing_items, score

OPTIONS = [{"value": v, "label": str(v)} for v in range(5)]
FIVE = [{"link_id": f"q{n}", "text": f"Q{n}", "options": OPTIONS} for n in range(1, 6)]
ONE = [{"link_id": "level", "text": "Level", "options": [{"value": v, "label": str(v)} for v in range(9)]}]


def answers(*values):
    return {f"q{n}": v for n, v in enumerate(values, start=1)}


@pytest.mark.parametrize(
    ("values", "total"),
    [((0, 0, 0, 0, 0), 0), ((4, 4, 4, 4, 4), 20), ((1, 2, 3, 4, 0), 10), ((2, 2, 2, 2, 3), 11)],
)
def test_sum_scoring_adds_the_item_values(values, total):
    assert score(FIVE, answers(*values), scoring=scoring.SUM, score_min=0, score_max=20) == total


@pytest.mark.parametrize("level", [0, 3, 8])
def test_single_scoring_is_the_chosen_level(level):
    assert score(ONE, {"level": level}, scoring=scoring.SINGLE, score_min=0, score_max=8) == level


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (answers(1, 2, 3, 4), "1 question not answered yet."),
        ({}, "5 questions not answered yet."),
        ({**answers(1, 1, 1, 1), "q5": None}, "1 question not answered yet."),
        ({**answers(1, 1, 1, 1, 1), "q6": 1}, "Answers to no question: q6."),
        (answers(1, 1, 1, 1, 5), "Choose one of the answers."),
        (answers(1, 1, 1, 1, -1), "Choose one of the answers."),
        (answers(1, 1, 1, 1, "two"), "Choose one of the answers."),
    ],
)
def test_missing_unknown_and_out_of_range_answers_are_refused(given, message):
    with pytest.raises(ScoringError, match=message.replace(".", r"\.")):
        score(FIVE, given, scoring=scoring.SUM, score_min=0, score_max=20)


def test_a_total_outside_the_instrument_range_is_refused():
    with pytest.raises(ScoringError, match="outside the instrument's range 0-10"):
        score(FIVE, answers(4, 4, 4, 0, 0), scoring=scoring.SUM, score_min=0, score_max=10)


@pytest.mark.parametrize(("value", "expected"), [("3", 3), (0, 0), (" 4 ", 4)])
def test_answers_from_forms_become_whole_numbers(value, expected):
    assert check_answer(FIVE, "q1", value) == expected


@pytest.mark.parametrize("value", ["3.0", "", None, True, "1e1", "04x"])
def test_answers_that_are_not_an_option_are_refused(value):
    with pytest.raises(ScoringError):
        check_answer(FIVE, "q1", value)


def test_missing_items_keeps_the_instrument_order():
    assert missing_items(FIVE, {"q2": 1, "q4": 0}) == ["q1", "q3", "q5"]


@pytest.mark.parametrize(
    ("items", "kind", "message"),
    [
        ([], "sum", "at least one item"),
        (FIVE, "single", "exactly one item"),
        (FIVE, "mean", "Unknown scoring"),
        ([FIVE[0], FIVE[0]], "sum", "appears twice"),
        (
            [{"link_id": "x", "text": "X", "options": [{"value": 1, "label": "a"}, {"value": 1, "label": "b"}]}],
            "sum",
            "share a value",
        ),
        ([{"link_id": "x", "text": "X", "options": [{"value": "1", "label": "a"}]}], "sum", "whole-number value"),
        ([{"link_id": "x", "text": "X"}], "sum", "needs a link_id"),
    ],
)
def test_item_lists_the_flow_cannot_use_are_refused(items, kind, message):
    with pytest.raises(ScoringError, match=message):
        check_items(items, kind)


@pytest.mark.parametrize(
    ("now", "earlier", "mcid", "higher_is_worse", "points", "words"),
    [
        (12, None, None, True, None, None),
        (8, 12, None, True, -4, "4 points better than last time (12). MFIS-5 has no published minimal important"),
        (13, 12, None, True, 1, "1 point worse than last time (12)."),
        (12, 12, Decimal(2), True, 0, "The same as last time (12). That is less than the 2-point change"),
        (9, 12, Decimal(3), True, -3, "That is at least the 3-point change known to matter."),
        (15, 12, Decimal(2), False, 3, "3 points better than last time"),
    ],
)
def test_a_change_is_read_against_the_mcid_only_where_one_is_published(
    now, earlier, mcid, higher_is_worse, points, words
):
    change = describe_change(now, earlier, mcid=mcid, higher_is_worse=higher_is_worse, short_name="MFIS-5")
    if points is None:
        assert change is None
        return
    assert change.points == points
    assert words in change.words
    assert ("no published minimal important difference" in change.words) == (mcid is None)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("2.00"), "2"),
        (Decimal("2.50"), "2.5"),
        (Decimal("0.25"), "0.25"),
        (Decimal("10.00"), "10"),  # Decimal.normalize() gives "1E+1"
        (Decimal("20"), "20"),
        (Decimal("100.00"), "100"),
    ],
)
def test_numbers_are_written_as_people_write_them(value, text):
    assert scoring.format_number(value) == text
