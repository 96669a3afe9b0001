"""workbench.calibration: normalization, distribution, qrels and the best cut-off (headless)."""

from __future__ import annotations

import statistics

import pytest

from workbench.calibration import (
    QrelsError,
    best_threshold,
    distribution,
    histogram,
    label_chunks,
    normalize,
    read_qrels,
    render_report,
    calibration_report,
)
from workbench.engine.types import ChunkScore, ChunkSettings, ChunkSpan, DocumentScore, ModelInfo, RankResult, RunStats, sigmoid


def make_result(docs: dict[str, list[float]]) -> RankResult:
    """A ranking with the given chunk logits per document (aggregate max)."""
    scored = []
    for doc_id, logits in docs.items():
        chunks = [ChunkScore(doc_id, ChunkSpan(doc_id, i, i * 10, i * 10 + 10, 5), x, sigmoid(x), 20, False)
                  for i, x in enumerate(logits)]
        scored.append(DocumentScore(doc_id, None, max(c.score for c in chunks), 0, chunks))
    scored.sort(key=lambda d: -d.score)
    for rank, d in enumerate(scored, 1):
        d.rank = rank
    model = ModelInfo("tiny", "qwen3-reranker", "cpu", "fp32")
    return RankResult("q", "i", model, ChunkSettings(), "max", 3, scored, RunStats())


# -- normalization ----------------------------------------------------------------------------


def test_minmax_spans_zero_to_one():
    values = [0.2, 0.9, 0.5, 0.2]
    out, note = normalize(values, "minmax")
    assert note is None
    assert min(out) == 0 and max(out) == 1 and all(0 <= v <= 1 for v in out)
    assert out[2] == pytest.approx((0.5 - 0.2) / 0.7)


def test_zscore_has_mean_zero_and_unit_deviation():
    values = [0.1, 0.4, 0.35, 0.8, 0.05]
    out, note = normalize(values, "zscore")
    assert note is None
    assert statistics.fmean(out) == pytest.approx(0, abs=1e-12)
    assert statistics.pstdev(out) == pytest.approx(1)


@pytest.mark.parametrize("method", ["minmax", "zscore"])
@pytest.mark.parametrize("values", [[0.3], [0.4, 0.4, 0.4]])
def test_undefined_normalization_is_null_with_a_note(method, values):
    out, note = normalize(values, method)
    assert out == [None] * len(values)
    assert note and method in note


def test_non_finite_values_are_left_out():
    out, _ = normalize([0.0, float("nan"), 1.0], "minmax")
    assert out == [0.0, None, 1.0]


def test_none_and_unknown_methods():
    assert normalize([1.0, 2.0], "none") == ([None, None], None)
    with pytest.raises(ValueError):
        normalize([1.0, 2.0], "softmax")


# -- distribution -----------------------------------------------------------------------------


def test_distribution_and_histogram():
    values = [0.05, 0.15, 0.15, 0.95, 1.0, float("nan")]
    assert distribution(values) == {"count": 5, "min": 0.05, "median": 0.15, "max": 1.0}
    bins = histogram(values, 10, 0.0, 1.0)
    assert len(bins) == 10 and [b["count"] for b in bins] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert histogram([], 10) == [] and distribution([])["count"] == 0
    assert [b["count"] for b in histogram([0.5, 0.5], 10)] == [2] + [0] * 9  # no range: one bin


# -- the best cut-off ---------------------------------------------------------------------------


def test_threshold_of_a_perfectly_separable_case():
    scored = [(0.9, True), (0.8, True), (0.7, True), (0.4, False), (0.2, False)]
    cut = best_threshold(scored)
    assert cut.threshold == 0.7 and cut.f1 == 1 and cut.precision == 1 and cut.recall == 1
    assert cut.selected == 3 and cut.relevant == 3


def test_threshold_with_a_known_best_cut():
    # cut at 0.9: P 1, R 1/3, F1 .5; at 0.7: P 2/3, R 2/3, F1 .667; at 0.5: P 3/4, R 1, F1 .857;
    # at 0.1: P 3/5, R 1, F1 .75. The best cut is 0.5.
    scored = [(0.9, True), (0.7, False), (0.6, True), (0.5, True), (0.1, False)]
    cut = best_threshold(scored)
    assert cut.threshold == 0.5
    assert cut.f1 == pytest.approx(6 / 7) and cut.precision == 0.75 and cut.recall == 1


def test_threshold_never_splits_equal_scores_and_prefers_the_higher_cut():
    # 0.8: P 1, R .5, F1 .667; 0.5 (both 0.5s kept together): P 2/3, R 1, F1 .8; 0.2: F1 .667
    cut = best_threshold([(0.8, True), (0.5, True), (0.5, False), (0.2, False)])
    assert cut.threshold == 0.5 and cut.selected == 3 and cut.f1 == pytest.approx(0.8)
    assert best_threshold([(0.5, False), (0.4, False)]) is None
    # 0.9: P 1, R .5, F1 .667; 0.8: P .5, R .5, F1 .5; 0.7: P 2/3, R 1, F1 .8
    assert best_threshold([(0.9, True), (0.8, False), (0.7, True)]).threshold == 0.7
    # equal F1 (.667 at 0.9 and at 0.3): the higher cut
    assert best_threshold([(0.9, True), (0.6, False), (0.5, False), (0.3, True)]).threshold == 0.9


@pytest.mark.parametrize("scores, shown", [
    ([0.98276253, 0.4], "0.98"),  # far apart: two decimals keep the same chunks
    ([0.987, 0.4], "0.98"),  # rounded down: 0.99 would drop the chunk kept at 0.987
    ([0.98276253, 0.98276249], "0.9827625"),  # rounded to nearest, six places would drop the kept chunk
    ([0.9827625, 0.982762], "0.9827625"),
    ([0.5], "0.50"),  # nothing below: every chunk kept
])
def test_the_cut_off_shown_keeps_exactly_the_chunks_the_cut_keeps(scores, shown):
    cut = best_threshold([(scores[0], True), *((s, False) for s in scores[1:])])
    assert cut.shown() == shown
    value = float(cut.shown())
    assert value <= cut.threshold  # the lowest kept chunk passes the copied cut-off...
    assert all(s < value for s in scores[1:])  # ...and nothing the cut leaves out does


# -- qrels --------------------------------------------------------------------------------------


def test_read_qrels_single_and_chosen_qid(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("q1 0 a.md 2\n\n# a comment\nq1 0 b.md#1 1\n", encoding="utf-8")
    qid, judged = read_qrels(path)
    assert qid == "q1" and [(j.target, j.grade, j.line) for j in judged] == [("a.md", 2, f"{path}:1"), ("b.md#1", 1, f"{path}:4")]
    path.write_text("q1 0 a.md 2\nq2 0 b.md 1\n", encoding="utf-8")
    with pytest.raises(QrelsError, match="--qid"):
        read_qrels(path)
    assert [j.target for j in read_qrels(path, "q2")[1]] == ["b.md"]
    with pytest.raises(QrelsError, match="q3"):
        read_qrels(path, "q3")


@pytest.mark.parametrize(
    ("line", "needle"),
    [("q1 0 a.md 4", "0..3"), ("q1 0 a.md -1", "0..3"), ("q1 0 a.md x", "not an integer"),
     ("q1 a.md 1", "expected"), ("q1 0 a.md@9-3 1", "empty")],
)
def test_bad_qrels_lines_name_file_and_line(tmp_path, line, needle):
    path = tmp_path / "q.txt"
    path.write_text(f"q1 0 ok.md 1\n{line}\n", encoding="utf-8")
    with pytest.raises(QrelsError, match=needle) as e:
        read_qrels(path)
    assert f"{path}:2" in str(e.value)


def test_labels_documents_chunks_and_unknown_names():
    from workbench.calibration import Judgment

    # chunk i of each document spans characters [10 i, 10 i + 10)
    result = make_result({"a.md": [1.0, -1.0], "b.md": [2.0, 0.5, -2.0], "notes.md#2": [0.0], "c.md": [0.1, 0.2]})
    labels = label_chunks(result, [Judgment("a.md", 2, 1), Judgment("b.md#1", 1, 2), Judgment("b.md#9", 1, 3),
                                   Judgment("zzz.md", 3, 4), Judgment("notes.md%232", 1, 5),  # '#' in an id: %23
                                   Judgment("c.md@12-18", 3, 6)], "q.txt")
    assert labels.grades == {("a.md", 0): 2, ("a.md", 1): 2, ("b.md", 0): 0, ("b.md", 1): 1, ("b.md", 2): 0,
                             ("notes.md#2", 0): 1, ("c.md", 0): 0, ("c.md", 1): 3}
    assert labels.unjudged == 3
    assert len(labels.unknown) == 2 and "q.txt:3" in labels.unknown[0] and "'zzz.md'" in labels.unknown[1]


def test_report_on_a_constructed_run():
    from workbench.calibration import Judgment, normalize_run

    result = make_result({"rel.md": [3.0, 2.0], "other.md": [1.0, -1.0]})
    labels = label_chunks(result, [Judgment("rel.md", 1, 1)])
    report = calibration_report(result, normalize_run(result, "minmax"), labels)
    assert report["best_threshold"]["threshold"] == pytest.approx(sigmoid(2.0))
    assert report["best_threshold"]["f1"] == 1
    assert report["normalized"] == {"count": 4, "min": 0.0, "median": pytest.approx(report["normalized"]["median"]),
                                    "max": 1.0, "method": "minmax"}
    assert report["logit"]["min"] == -1.0 and report["logit"]["max"] == 3.0
    text = "\n".join(render_report(report))
    assert "best cut-off: score >=" in text and "F1 1.000" in text and "histogram" in text
