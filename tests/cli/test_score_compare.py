"""`workbench score -i A -i B` and `--compare-with RUN`: two rankings of one query side by side.

Also the statistics behind them (workbench.ab_compare): RBO against hand-derived values and its
known properties, Kendall tau-b through scipy as store/compare.py uses it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.ab_compare import Row, rbo_ext
from workbench.cli import app
from workbench.store import RunLog, open_store

pytestmark = pytest.mark.usefixtures("shared_scorer")

runner = CliRunner()

A, B = "Find the passage that answers the question", "Find passages about the sea"
STATS_KEYS = {"common_chunks", "chunks_a", "chunks_b", "kendall_tau_b", "rbo", "rbo_p", "top_k_overlap",
              "entered_top_k", "left_top_k"}
ROW_KEYS = {"id", "rank_a", "rank_b", "score_a", "score_b", "logit_a", "logit_b", "shift", "delta"}


@pytest.fixture
def score(tiny_model_dir):
    def run(*args, input: str | None = None):
        return runner.invoke(app, ["score", *map(str, args), "--model", str(tiny_model_dir)], input=input)

    return run


def ok(result) -> None:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.exception is None, result.exception


def clean_failure(result, *needles: str, code: int | None = None) -> None:
    assert result.exit_code != 0, result.stdout
    if code is not None:
        assert result.exit_code == code, result.stderr
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle.lower() in result.stderr.lower(), result.stderr


def stored_runs(db: Path):
    store = open_store(db)
    try:
        log = RunLog(store)
        return [log.load_run(r) for r in log.run_ids()]
    finally:
        store.close()


# --------------------------------------------------------------------------------------------
# RBO and Kendall tau
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # X1=1 X2=1 X3=3: (0.1/0.9)(0.9 + 0.5*0.81 + 0.729) + 0.729 = 0.226 + 0.729
        ("abc", "acb", 0.955),
        # X1=0 X2=2: (0.1/0.9)(0.81) + 0.81
        ("ab", "ba", 0.9),
        # X1=1 X2=1: (0.1/0.9)(0.9 + 0.405) + 0.5*0.81
        ("ab", "ac", 0.55),
        # uneven, s=1 l=2: X1=0, X2=1 (the short list whole vs the long one's prefix), X_s=0:
        # (0.1/0.9)(0 + 0.5*0.81 + 0) + ((1 - 0)/2 + 0/1) * 0.81 = 0.045 + 0.405
        ("a", "ba", 0.45),
    ],
)
def test_rbo_matches_hand_derived_values(a, b, expected):
    assert rbo_ext(list(a), list(b)) == pytest.approx(expected, abs=1e-12)
    assert rbo_ext(list(b), list(a)) == pytest.approx(expected, abs=1e-12)  # symmetric


def test_rbo_properties():
    items = [f"c{n}" for n in range(30)]
    assert rbo_ext(items, items) == pytest.approx(1.0)
    assert rbo_ext(items[:15], items[15:]) == 0.0
    assert rbo_ext(items[:5], items) == pytest.approx(1.0)  # a prefix extrapolates to agreement
    assert rbo_ext([], items) is None
    swapped_top = [items[1], items[0], *items[2:]]
    swapped_bottom = [*items[:-2], items[-1], items[-2]]
    # top-weighted: a swap at the top costs more than the same swap at the bottom
    assert rbo_ext(items, swapped_top) < rbo_ext(items, swapped_bottom) < 1.0
    reversed_ = list(reversed(items))
    assert 0 < rbo_ext(items, reversed_) < rbo_ext(items, swapped_top)
    with pytest.raises(ValueError):
        rbo_ext(items, items, p=1.0)


def test_rank_shift_arrows():
    assert Row("x", 4, 1, 0.1, 0.2).arrow() == "▲3"
    assert Row("x", 1, 3, 0.1, 0.2).arrow() == "▼2"
    assert Row("x", 2, 2, 0.1, 0.2).arrow() == "="
    assert Row("x", None, 2, None, 0.2).arrow() == "new"
    assert Row("x", 2, None, 0.2, None).arrow() == "gone"


# --------------------------------------------------------------------------------------------
# score -i A -i B
# --------------------------------------------------------------------------------------------


def test_ab_json(score, corpus, long_doc, tmp_path):
    db = tmp_path / "runs.db"
    result = score(corpus, long_doc, "-q", "tides", "--chunk-tokens", "32", "--chunk-overlap", "8",
                   "-i", A, "-i", B, "-f", "json", "--top", "3", "--db", db)
    ok(result)
    out = json.loads(result.stdout)  # strict JSON: stdout holds nothing else
    json.dumps(out, allow_nan=False)
    assert out["a"]["instruction"] == A and out["b"]["instruction"] == B
    assert out["a"]["query"] == out["b"]["query"] == "tides"
    assert out["k"] == 3
    stats = out["statistics"]
    assert set(stats) == STATS_KEYS
    n = stats["chunks_a"]
    assert n == stats["chunks_b"] == stats["common_chunks"] == len(out["chunks"]) > 5
    assert -1 <= stats["kendall_tau_b"] <= 1
    assert 0 <= stats["rbo"] <= 1
    assert len(stats["entered_top_k"]) == len(stats["left_top_k"]) == round(3 * (1 - stats["top_k_overlap"]))
    for row in out["chunks"]:
        assert set(row) == ROW_KEYS
        assert row["shift"] == row["rank_a"] - row["rank_b"]
        assert row["delta"] == pytest.approx(row["score_b"] - row["score_a"], abs=2e-6)
    assert [r["rank_b"] for r in out["chunks"]] == list(range(1, n + 1))  # by rank under B
    assert sorted(r["rank_a"] for r in out["chunks"]) == list(range(1, n + 1))
    # entered = in B's top 3 and not in A's
    top_a = {r["id"] for r in out["chunks"] if r["rank_a"] <= 3}
    top_b = {r["id"] for r in out["chunks"] if r["rank_b"] <= 3}
    assert set(stats["entered_top_k"]) == top_b - top_a and set(stats["left_top_k"]) == top_a - top_b
    # the movers are the 5 largest |delta|
    deltas = sorted((abs(r["delta"]) for r in out["chunks"]), reverse=True)
    assert [abs(r["delta"]) for r in out["movers"]] == pytest.approx(deltas[:5])
    assert {d["id"] for d in out["documents"]} == {"france.txt", "bread.md", "sub/tides.txt", "long.txt"}
    # both runs are logged, as usual, and their ids are named
    runs = stored_runs(db)
    assert [r.instruction for r in runs] == [A, B]
    assert (out["a"]["run_id"], out["b"]["run_id"]) == (runs[0].id, runs[1].id)


def test_ab_statistics_match_scipy_on_the_printed_logits(score, long_doc):
    from scipy.stats import kendalltau

    out = json.loads(score(long_doc, "-q", "moon", "--chunk-tokens", "32", "-i", A, "-i", B, "-f", "json", "--no-log").stdout)
    rows = out["chunks"]
    tau = kendalltau([r["logit_a"] for r in rows], [r["logit_b"] for r in rows], variant="b").statistic
    assert out["statistics"]["kendall_tau_b"] == pytest.approx(tau, abs=1e-4)
    by_a = [r["id"] for r in sorted(rows, key=lambda r: r["rank_a"])]
    by_b = [r["id"] for r in rows]
    assert out["statistics"]["rbo"] == pytest.approx(rbo_ext(by_a, by_b), abs=1e-6)


def test_ab_table(score, corpus, long_doc):
    result = score(corpus, long_doc, "-q", "tides", "--chunk-tokens", "32", "-i", A, "-i", B, "--no-log")
    ok(result)
    out = result.stdout
    assert f"A: {A}" in out and f"B: {B}" in out
    assert "Kendall tau-b" in out and "RBO(p=0.9)" in out and "top-10 overlap" in out
    assert "entered top 10:" in out and "left top 10:" in out
    assert "rank A" in out and "score B" in out
    assert "largest score moves (B - A):" in out
    assert "sub/tides.txt" in out and "document" in out  # the document ranking shift
    assert any(mark in out for mark in ("▲", "▼", " ="))


def test_identical_instructions_are_named_and_still_compared(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    result = score(corpus, "-q", "Paris", "-i", A, "-i", A, "-f", "json", "--db", db)
    ok(result)
    assert "same instruction" in result.stderr
    out = json.loads(result.stdout)
    assert out["statistics"]["kendall_tau_b"] == pytest.approx(1.0)
    assert out["statistics"]["rbo"] == pytest.approx(1.0)
    assert out["statistics"]["entered_top_k"] == out["statistics"]["left_top_k"] == []
    assert all(r["shift"] == 0 and r["delta"] == 0 for r in out["chunks"])
    assert any("same instruction" in n for n in out["notes"])
    assert len(stored_runs(db)) == 2


def test_one_instruction_is_a_plain_run(score, corpus):
    out = json.loads(score(corpus, "-q", "bread", "-i", A, "-f", "json", "--no-log").stdout)
    assert out["instruction"] == A and "statistics" not in out


def test_no_log_logs_neither_run(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    ok(score(corpus, "-q", "Paris", "-i", A, "-i", B, "--db", db, "--no-log"))
    assert stored_runs(db) == []


# --------------------------------------------------------------------------------------------
# --compare-with RUN
# --------------------------------------------------------------------------------------------


def test_compare_with_a_logged_run(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    args = (corpus, "-q", "tides", "--chunk-tokens", "32", "--db", db)
    first = json.loads(score(*args, "-i", A, "-f", "json").stdout)
    (run,) = stored_runs(db)
    result = score(*args, "-i", B, "--compare-with", run.id, "-f", "json")
    ok(result)
    out = json.loads(result.stdout)
    assert out["a"]["run_id"] == run.id and out["a"]["instruction"] == A
    assert out["b"]["instruction"] == B and out["b"]["run_id"] not in (None, run.id)
    printed = {(d["id"], c["index"]): c["score"] for d in first["documents"] for c in d["chunks"]}
    for row in out["chunks"]:
        doc, _, index = row["id"].rpartition("#")
        assert row["score_a"] == pytest.approx(printed[(doc, int(index))], abs=1e-6)
    assert out["statistics"]["common_chunks"] == len(printed)
    assert len(stored_runs(db)) == 2


def test_compare_with_the_same_setup_agrees_fully(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    ok(score(corpus, "-q", "Paris", "--db", db))
    (run,) = stored_runs(db)
    result = score(corpus, "-q", "Paris", "--db", db, "--compare-with", run.id)
    ok(result)
    assert "same instruction" in result.stderr
    assert "Kendall tau-b 1.000" in result.stdout and "RBO(p=0.9) 1.000" in result.stdout


def test_compare_with_an_unknown_run(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    ok(score(corpus, "-q", "Paris", "--db", db))
    clean_failure(score(corpus, "-q", "Paris", "--db", db, "--compare-with", "999"), "999", "no run")
    clean_failure(score(corpus, "-q", "Paris", "--db", tmp_path / "none.db", "--compare-with", "1"), "--compare-with 1")
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("-i", A, "-i", B, "-i", "C"), "two at a time"),
        (("-i", A, "-i", B, "--compare-with", "1"), "--compare-with"),
        (("-i", A, "-i", B, "-f", "csv"), "table or json"),
        (("-i", A, "-i", B, "--normalize", "minmax"), "single run"),
        (("-i", A, "-i", B, "--calibrate"), "single run"),
    ],
)
def test_comparison_usage_errors(score, corpus, extra, needle):
    clean_failure(score(corpus, "-q", "Paris", *extra), needle, code=2)


def test_rbo_is_nan_free_in_json(score, tmp_path):
    one = tmp_path / "one.txt"
    one.write_text("A single short document about the sea.\n", encoding="utf-8")
    out = json.loads(score(one, "-q", "sea", "-i", A, "-i", B, "-f", "json", "--no-log").stdout)
    assert out["statistics"]["kendall_tau_b"] is None  # one pair: undefined, written as null
    assert out["statistics"]["rbo"] == 1.0
    assert not any(isinstance(v, float) and math.isnan(v) for v in out["statistics"].values())
