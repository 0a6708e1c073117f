"""The report's statistics, without a database: known quantiles, hand-worked means, SDs and intervals."""

import math

import pytest

from outcomes.statistics import (
    interval_from_sums,
    mean,
    mean_interval,
    sample_sd,
    t_quantile_975,
    wilson_interval,
)


@pytest.mark.parametrize(
    "df, expected",
    [(1, 12.706), (2, 4.303), (5, 2.571), (10, 2.228), (30, 2.042), (60, 2.000), (120, 1.980), (1000, 1.962)],
)
def test_t_quantile_matches_published_tables(df, expected):
    assert t_quantile_975(df) == pytest.approx(expected, abs=0.0006)


def test_t_quantile_is_continuous_where_the_expansion_takes_over():
    assert t_quantile_975(199) == pytest.approx(t_quantile_975(200), abs=0.0005)
    assert t_quantile_975(199) > t_quantile_975(200)


def test_t_quantile_refuses_zero_degrees_of_freedom():
    with pytest.raises(ValueError):
        t_quantile_975(0)


def test_mean_and_sample_sd_by_hand():
    assert mean([2, 4, 4, 4, 5, 5, 7, 9]) == 5
    # Sum of squared deviations 32 over n - 1 = 7.
    assert sample_sd([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(math.sqrt(32 / 7))
    assert mean([]) is None
    assert sample_sd([3]) is None


def test_mean_interval_by_hand():
    # Changes -3, -1, -2: mean -2, SD 1, n 3: -2 +/- 4.303 / sqrt(3).
    ci = mean_interval([-3, -1, -2])
    half = 4.302653 / math.sqrt(3)
    assert ci.low == pytest.approx(-2 - half, abs=1e-5)
    assert ci.high == pytest.approx(-2 + half, abs=1e-5)


def test_intervals_are_empty_under_two_values():
    assert mean_interval([]) is None
    assert mean_interval([4]) is None
    assert wilson_interval(1, 1) is None
    assert wilson_interval(0, 0) is None
    assert interval_from_sums(1, -2, 4) == (-2, None)
    assert interval_from_sums(0, 0, 0) == (None, None)


def test_interval_from_sums_equals_the_interval_of_the_values():
    values = [-3, -1, -2, 0, 2, -4]
    centre, ci = interval_from_sums(len(values), sum(values), sum(v * v for v in values))
    direct = mean_interval(values)
    assert centre == pytest.approx(mean(values))
    assert (ci.low, ci.high) == pytest.approx((direct.low, direct.high))


def test_wilson_interval_by_hand():
    # 7 of 10: centre (0.7 + 1.92/10) / 1.384, half 1.96 / 1.384 * sqrt(0.021 + 0.00960)
    ci = wilson_interval(7, 10)
    assert ci.low == pytest.approx(0.3968, abs=0.0001)
    assert ci.high == pytest.approx(0.8922, abs=0.0001)


def test_wilson_interval_stays_inside_zero_and_one():
    assert wilson_interval(0, 5).low == 0.0
    assert wilson_interval(5, 5).high == pytest.approx(1.0)
