"""Pure statistics for the outcomes report: mean, sample SD, the t quantile and the Wilson interval.

No database and no scipy: the t quantile is found by bisection on the Student t distribution's exact
closed form for whole degrees of freedom (tests/outcomes/test_statistics.py checks it against tables).
"""

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean, stdev

# The 97.5th percentile of the standard normal: two-sided 95%.
Z_975 = 1.959963984540054
# Above this many degrees of freedom the Cornish-Fisher expansion is exact to well under 1e-6.
_EXPANSION_FROM_DF = 200


def mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def sample_sd(values: Sequence[float]) -> float | None:
    """The sample standard deviation (n - 1); None under two values."""
    if len(values) < 2:
        return None
    total = sum(values)
    if isinstance(total, int):  # whole numbers only: one float (or Decimal) anywhere makes the sum one
        return _int_sd(values, total)  # type: ignore[arg-type]  # checked just above
    return stdev(values)


def _int_sd(values: Sequence[int], total: int) -> float:
    """stdev() of whole numbers from exact integer sums: the same variance, without stdev's slow Fractions."""
    n, squares = len(values), sum(map(operator.mul, values, values))
    return math.sqrt((n * squares - total * total) / (n * (n - 1)))


def _t_two_sided_mass(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with ``df`` whole degrees of freedom (Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    cos2 = math.cos(theta) ** 2
    if df % 2 == 1:
        term, total = 1.0, 0.0
        if df > 1:
            total = term = 1.0
            for k in range(3, df - 1, 2):
                term *= (k - 1) / k * cos2
                total += term
        return (2 / math.pi) * (theta + math.sin(theta) * math.cos(theta) * total)
    term = total = 1.0
    for k in range(2, df - 1, 2):
        term *= (k - 1) / k * cos2
        total += term
    return math.sin(theta) * total


def t_quantile_975(df: int) -> float:
    """t(0.975, df): the multiplier of a two-sided 95% confidence interval of a mean of df + 1 values."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df >= _EXPANSION_FROM_DF:
        z, n = Z_975, float(df)
        return (
            z
            + (z**3 + z) / (4 * n)
            + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * n**3)
        )
    low, high = 0.0, 700.0  # t(0.975, 1) is 12.7
    for _ in range(100):
        middle = (low + high) / 2
        if _t_two_sided_mass(middle, df) < 0.95:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def mean_interval(values: Sequence[float]) -> Interval | None:
    """mean +/- t(0.975, n-1) x SD / sqrt(n); None under two values."""
    n = len(values)
    if n < 2:
        return None
    centre, sd = fmean(values), sample_sd(values) or 0.0
    half = t_quantile_975(n - 1) * sd / math.sqrt(n)
    return Interval(centre - half, centre + half)


def interval_from_sums(n: int, total: int, squares: int) -> tuple[float | None, Interval | None]:
    """Mean and t-based 95% interval of n whole numbers given their sum and sum of squares (exact arithmetic)."""
    if n == 0:
        return None, None
    centre = total / n
    if n < 2:
        return centre, None
    variance = (n * squares - total * total) / (n * (n - 1))
    half = t_quantile_975(n - 1) * math.sqrt(max(variance, 0.0)) / math.sqrt(n)
    return centre, Interval(centre - half, centre + half)


def wilson_interval(successes: int, n: int) -> Interval | None:
    """The 95% Wilson score interval of a proportion; None under two trials (as the report's other intervals)."""
    if n < 2:
        return None
    p = successes / n
    z2 = Z_975 * Z_975
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = Z_975 / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))
