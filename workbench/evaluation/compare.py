"""Paired comparison of one instruction against a baseline over the same queries.

Per query: a win when the candidate's value is higher than the baseline's, a loss when lower, a
tie otherwise (within 1e-9). Significance, from scipy, on the per-query differences:

- `t_test_p`: the two-sided paired t-test (scipy.stats.ttest_rel);
- `permutation_p`: the two-sided paired permutation test of the mean difference
  (scipy.stats.permutation_test, permutation_type="samples": each query's pair may swap). Exact
  (every one of the 2^n sign assignments) up to 13 queries, else 9,999 seeded resamples.

When every difference is zero the instructions cannot be told apart: both p-values are 1.0 (the
t statistic is undefined there). With fewer than two shared queries there is no test (None).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

TIE = 1e-9
EXACT_UP_TO = 13
RESAMPLES = 9999


@dataclass(frozen=True)
class Comparison:
    queries: int
    wins: int
    losses: int
    ties: int
    mean_difference: float | None  # candidate - baseline
    t_test_p: float | None
    permutation_p: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def compare(baseline: list[float], candidate: list[float]) -> Comparison:
    """The two lists hold one value per query, in the same query order."""
    if len(baseline) != len(candidate):
        raise ValueError("paired values must come in pairs")
    diffs = [c - b for b, c in zip(baseline, candidate)]
    wins = sum(d > TIE for d in diffs)
    losses = sum(d < -TIE for d in diffs)
    n = len(diffs)
    mean = sum(diffs) / n if n else None
    t_p = perm_p = None
    if n >= 2:
        if all(abs(d) <= TIE for d in diffs):
            t_p = perm_p = 1.0
        else:
            t_p, perm_p = _t_test(baseline, candidate), _permutation(baseline, candidate)
    return Comparison(n, wins, losses, n - wins - losses, mean, t_p, perm_p)


def _t_test(baseline: list[float], candidate: list[float]) -> float | None:
    import warnings

    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant non-zero differences: t = inf
        p = float(stats.ttest_rel(candidate, baseline).pvalue)
    return p if math.isfinite(p) else None


def _permutation(baseline: list[float], candidate: list[float]) -> float:
    import numpy as np
    from scipy import stats

    x, y = np.asarray(candidate, dtype=float), np.asarray(baseline, dtype=float)
    exact = len(x) <= EXACT_UP_TO
    kwargs = {"n_resamples": 2 ** len(x) if exact else RESAMPLES}
    if not exact:  # the same answer every time for the same inputs
        kwargs.update(_seed())

    def mean_difference(a, b, axis):
        return np.mean(a - b, axis=axis)

    res = stats.permutation_test(
        (x, y), mean_difference, permutation_type="samples", vectorized=True, alternative="two-sided", **kwargs
    )
    return min(1.0, float(res.pvalue))


def _seed() -> dict:
    import inspect

    from scipy import stats

    params = inspect.signature(stats.permutation_test).parameters
    return {"rng": 0} if "rng" in params else {"random_state": 0}
