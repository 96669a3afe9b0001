"""`workbench score --first-stage` and `--rerank-top` as a user or a script sees them."""

from __future__ import annotations

import csv
import io
import json

import bm25s
import pytest
from typer.testing import CliRunner

from workbench.cli import app

pytestmark = pytest.mark.usefixtures("shared_scorer")
runner = CliRunner()
QUERY = "visitor parking gate code on Saturday, or the encryption key of the spare server"


@pytest.fixture
def score(tiny_model_dir, small_corpus):
    def run(*args):
        result = runner.invoke(app, ["score", str(small_corpus), "-q", QUERY, "--model", str(tiny_model_dir),
                                     "--chunk-tokens", "16", "--chunk-overlap", "0", "--no-log", *map(str, args)])
        assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}"
        return result

    return run


def independent_bm25(small_corpus, documents: list[dict]) -> dict[str, float]:
    """Each document's best chunk score by bm25s itself, over the chunks the JSON lists."""
    chunks = [(d["id"], (small_corpus / d["id"]).read_text(encoding="utf-8")[c["start"] : c["end"]])
              for d in documents for c in d["chunks"]]
    index = bm25s.BM25()
    index.index(bm25s.tokenize([t for _, t in chunks], stopwords="en", show_progress=False), show_progress=False)
    scores = index.get_scores(bm25s.tokenize([QUERY], stopwords="en", return_ids=False, show_progress=False)[0])
    best: dict[str, float] = {}
    for (doc, _), s in zip(chunks, scores):
        best[doc] = max(best.get(doc, 0.0), float(s))
    return best


def test_json_carries_the_first_stage_rank_and_score_of_every_document_and_chunk(score, small_corpus):
    data = json.loads(score("--first-stage", "bm25", "-f", "json").stdout)
    docs = data["documents"]
    assert data["first_stage"]["method"] == "bm25" and data["first_stage"]["not_reranked"] == 0
    assert all(d["reranked"] for d in docs) and len(docs) == 4
    best = independent_bm25(small_corpus, docs)
    matched = sorted((doc for doc in best if best[doc] > 0), key=lambda doc: -best[doc])  # ties at 0: given order
    assert len(matched) >= 2 and len({best[doc] for doc in matched}) == len(matched)
    ranks = {d["id"]: d["first_stage_rank"] for d in docs}
    assert [ranks[doc] for doc in matched] == list(range(1, len(matched) + 1))
    assert matched[0] == "parking.txt"
    for d in docs:
        assert d["first_stage_score"] == pytest.approx(best[d["id"]], abs=1e-5)
        assert all("first_stage_rank" in c and "first_stage_score" in c for c in d["chunks"])
    chunk_ranks = sorted(c["first_stage_rank"] for d in docs for c in d["chunks"])
    assert chunk_ranks == list(range(1, len(chunk_ranks) + 1))


def test_rerank_top_scores_only_the_first_stage_best_documents(score, small_corpus):
    data = json.loads(score("--first-stage", "bm25", "--rerank-top", "2", "-f", "json").stdout)
    docs = data["documents"]
    reranked = [d for d in docs if d["reranked"]]
    assert len(reranked) == 2 and all(d["score"] is not None for d in reranked)
    assert {d["first_stage_rank"] for d in reranked} == {1, 2}
    # The model saw the chunks of those two documents and nothing else.
    assert data["stats"]["pairs"] == data["stats"]["scored"] == sum(len(d["chunks"]) for d in reranked)
    rest = docs[2:]
    assert [d["reranked"] for d in rest] == [False, False] and all(d["score"] is None for d in rest)
    assert [d["rank"] for d in docs] == [1, 2, 3, 4]
    assert [d["first_stage_rank"] for d in rest] == [3, 4]  # below, in first-stage order
    best = independent_bm25(small_corpus, docs)
    assert sorted(best.values(), reverse=True)[1] > sorted(best.values(), reverse=True)[2]  # no tie at the cut
    assert {d["id"] for d in reranked} == set(sorted(best, key=lambda doc: -best[doc])[:2])


def test_jsonl_csv_and_table_show_the_first_stage(score):
    lines = [json.loads(line) for line in score("--first-stage", "bm25", "--rerank-top", "3", "-f", "jsonl").stdout.splitlines()]
    assert len(lines) == 4 and all("first_stage_rank" in x and "first_stage_score" in x for x in lines)
    assert [x["reranked"] for x in lines] == [True, True, True, False]
    rows = list(csv.DictReader(io.StringIO(score("--first-stage", "bm25", "--rerank-top", "3", "-f", "csv").stdout)))
    assert {"first_stage_rank", "first_stage_score", "chunk_first_stage_rank", "reranked"} <= set(rows[0])
    assert {r["reranked"] for r in rows} == {"True", "False"}
    assert all(r["note"] == "not reranked" and r["score"] == "" for r in rows if r["reranked"] == "False")
    table = score("--first-stage", "bm25", "--rerank-top", "3").stdout
    assert "bm25 → rerank" in table and "(not reranked)" in table and "→" in table.split("bm25 → rerank")[1]


def test_rerank_top_without_a_first_stage_is_a_usage_error(tiny_model_dir, small_corpus):
    result = runner.invoke(app, ["score", str(small_corpus), "-q", "x", "--model", str(tiny_model_dir), "--rerank-top", "2"])
    assert result.exit_code == 2 and "--first-stage" in result.stderr and "Traceback" not in result.output
