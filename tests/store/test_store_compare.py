"""Kendall tau-b, top-k overlap and run comparison."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from store_factories import FINGERPRINT, make_documents, make_result

from workbench.store import RunNotFoundError, kendall_tau_b
from workbench.store.compare import top_k_overlap


def brute_tau_b(x, y):
    concordant = discordant = tied_x = tied_y = 0
    for (x1, y1), (x2, y2) in itertools.combinations(zip(x, y), 2):
        dx, dy = (x1 > x2) - (x1 < x2), (y1 > y2) - (y1 < y2)
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tied_x += 1
        elif dy == 0:
            tied_y += 1
        elif dx == dy:
            concordant += 1
        else:
            discordant += 1
    denominator = math.sqrt((concordant + discordant + tied_x) * (concordant + discordant + tied_y))
    return None if denominator == 0 else (concordant - discordant) / denominator


def test_tau_identical_and_reversed():
    x = [0.5, 2.0, -1.0, 3.5, 1.25]
    assert kendall_tau_b(x, x) == pytest.approx(1.0)
    assert kendall_tau_b(x, [-v for v in x]) == pytest.approx(-1.0)


def test_tau_known_case_with_ties():
    # The example from scipy.stats.kendalltau's documentation.
    assert kendall_tau_b([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) == pytest.approx(-0.47140452079103173)


def test_tau_hand_computed_values():
    # Computed by hand, not by scipy (which is what kendall_tau_b calls).
    ranks = [1, 2, 3, 4]
    assert kendall_tau_b(ranks, ranks) == pytest.approx(1.0)
    assert kendall_tau_b(ranks, ranks[::-1]) == pytest.approx(-1.0)
    # One adjacent swap in 4: 5 concordant, 1 discordant of 6 pairs -> 4/6.
    assert kendall_tau_b(ranks, [2, 1, 3, 4]) == pytest.approx(2 / 3)
    # Two items: concordant or discordant, nothing in between.
    assert kendall_tau_b([1, 2], [10, 20]) == pytest.approx(1.0)
    assert kendall_tau_b([1, 2], [20, 10]) == pytest.approx(-1.0)
    # Ties: x = 1,1,2; y = 1,2,3. Pairs: (1,2) tied on x; (1,3), (2,3) concordant.
    # tau-b = 2 / sqrt((3 - 1) * 3) = 2 / sqrt(6)
    assert kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6))
    # Identical rankings with ties still give exactly 1 under tau-b.
    assert kendall_tau_b([1, 1, 2, 3], [1, 1, 2, 3]) == pytest.approx(1.0)


def test_tau_degenerate_cases_never_nan():
    for x, y in [([], []), ([1.0], [2.0]), ([3.0, 3.0], [1.0, 2.0]), ([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]), ([2.0] * 4, [2.0] * 4)]:
        assert kendall_tau_b(x, y) is None


def test_tau_undefined_cases():
    assert kendall_tau_b([], []) is None
    assert kendall_tau_b([1.0], [2.0]) is None
    assert kendall_tau_b([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None  # no variation on one side
    with pytest.raises(ValueError):
        kendall_tau_b([1.0], [1.0, 2.0])


def test_tau_matches_brute_force_on_random_ties():
    rng = random.Random(42)
    for n in (2, 3, 7, 30, 101):
        for _ in range(20):
            x = [rng.randint(0, 5) for _ in range(n)]
            y = [rng.randint(0, 5) for _ in range(n)]
            expected = brute_tau_b(x, y)
            got = kendall_tau_b(x, y)
            assert (got is None and expected is None) or got == pytest.approx(expected)


def test_top_k_overlap():
    assert top_k_overlap("abcdef", "abcdef", 3) == 1.0
    assert top_k_overlap("abcdef", "fedcba", 3) == 0.0
    assert top_k_overlap("abcd", "bacd", 1) == 0.0
    assert top_k_overlap("abcdef", "acxbyz", 3) == pytest.approx(2 / 3)
    assert top_k_overlap("ab", "ba", 10) == 1.0  # k shrinks to the shorter run
    assert top_k_overlap("", "ab", 3) is None


def _run(log, session, docs, logits):
    return log.log_result(session, docs, make_result(docs, logits), FINGERPRINT)


def test_compare_identical_and_reversed_runs(log):
    session = log.ensure_session("tests")
    docs = make_documents(2, 3)
    logits = {"doc0.txt": [5.0, 1.0, -2.0], "doc1.txt": [3.0, 0.5, -4.0]}
    reversed_logits = {k: [-v for v in vs] for k, vs in logits.items()}
    a, b, c = _run(log, session, docs, logits), _run(log, session, docs, logits), _run(log, session, docs, reversed_logits)

    same = log.compare_runs(a, b)
    assert same.common == 6 and same.kendall_tau == pytest.approx(1.0)
    assert all(ch.change == 0 for ch in same.chunks)
    assert same.top_k_overlap == {1: 1.0, 3: 1.0, 5: 1.0, 10: 1.0}

    flipped = log.compare_runs(a, c)
    assert flipped.kendall_tau == pytest.approx(-1.0)
    assert flipped.top_k_overlap[1] == 0.0
    best_in_a = next(ch for ch in flipped.chunks if ch.rank_a == 1)
    assert best_in_a.rank_b == 6 and best_in_a.change == -5  # moved down five places
    worst_in_a = next(ch for ch in flipped.chunks if ch.rank_a == 6)
    assert worst_in_a.change == 5  # moved up


def test_compare_matches_by_text_not_label_and_reports_missing(log):
    session = log.ensure_session("tests")
    docs = make_documents(2, 2)
    a = _run(log, session, docs, {"doc0.txt": [4.0, 3.0], "doc1.txt": [2.0, 1.0]})
    # Same texts under new labels, doc1 dropped, an extra document added.
    renamed = [type(docs[0])("renamed", docs[0].text), make_documents(1, 2, prefix="new")[0]]
    b = _run(log, session, renamed, {"renamed": [1.0, 4.0], "new0.txt": [9.0, -9.0]})
    cmp = log.compare_runs(a, b)
    assert cmp.common == 2
    assert cmp.kendall_tau == pytest.approx(-1.0)
    assert len(cmp.chunks) == 6
    assert [ch.rank_b for ch in cmp.chunks] == [1, 2, 3, 4, None, None]
    only_a = [ch for ch in cmp.chunks if ch.rank_b is None]
    assert {ch.doc_id_a for ch in only_a} == {"doc1.txt"} and all(ch.change is None for ch in only_a)
    moved = next(ch for ch in cmp.chunks if ch.doc_id_b == "renamed" and ch.index_b == 1)
    assert (moved.rank_a, moved.rank_b, moved.change) == (2, 2, 0)
    assert cmp.top_k_overlap[1] == 0.0 and cmp.top_k_overlap[3] == pytest.approx(2 / 3)


def test_compare_unknown_run(log):
    with pytest.raises(RunNotFoundError):
        log.compare_runs(1, 2)
