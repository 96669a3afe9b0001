"""Paired significance against the baseline instruction (scipy)."""

from __future__ import annotations

import random

from workbench.evaluation import compare


def test_a_clearly_better_instruction_has_a_small_p():
    rng = random.Random(7)
    base = [rng.uniform(0.0, 0.5) for _ in range(30)]
    better = [b + rng.uniform(0.2, 0.4) for b in base]
    c = compare(base, better)
    assert (c.wins, c.losses, c.ties, c.queries) == (30, 0, 0, 30)
    assert c.t_test_p < 1e-6 and c.permutation_p < 0.001
    assert c.mean_difference > 0.2


def test_identical_instructions_cannot_be_told_apart():
    values = [0.1, 0.5, 1.0, 0.0, 0.3]
    c = compare(values, list(values))
    assert (c.wins, c.losses, c.ties) == (0, 0, 5)
    assert c.t_test_p == 1.0 and c.permutation_p == 1.0 and c.mean_difference == 0.0


def test_small_sets_use_the_exact_permutation_test_and_one_query_has_no_test():
    c = compare([0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.5])
    assert c.permutation_p == 0.125  # 2 of the 16 sign assignments are as extreme (two-sided)
    assert compare([0.2], [0.4]).t_test_p is None
