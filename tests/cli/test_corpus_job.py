"""`workbench score --queries Q --docs-jsonl D --out R`: the corpus-scale batch job.

Its lines must say what `workbench score` says of each (query, document), a job killed with
SIGKILL must resume without scoring any pair twice and end with the output an uninterrupted run
writes, and an output written with other arguments must never be resumed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench import corpus_job
from workbench.cli import app
from workbench.engine import reranker

pytestmark = pytest.mark.usefixtures("shared_scorer")

runner = CliRunner()
CHUNKING = ["--chunk-tokens", "32", "--chunk-overlap", "4"]  # several chunks for the long documents
TOPICS = ["tides and the moon", "baking bread with yeast", "the capital of France", "rovers on Mars",
          "green tea water temperature", "disk full on a database server"]


def write_corpus(path: Path, n: int = 14, extra_lines: tuple[str, ...] = ()) -> Path:
    """n documents, every third one long (several chunks), one id given twice."""
    lines = []
    for i in range(n):
        text = f"Document {i} is about {TOPICS[i % len(TOPICS)]}. " + (long_text(i) if i % 3 == 0 else f"Short note {i}.")
        lines.append(json.dumps({"id": "dup" if i in (2, 5) else f"doc{i}", "text": text}))
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


def long_text(i: int) -> str:
    """Several chunks, each naming its document: no two documents share a chunk's prompt."""
    return " ".join(f"Sentence {k} tells of {TOPICS[(i + k) % len(TOPICS)]} (document {i})." for k in range(16))


def write_queries(path: Path) -> Path:
    """The three spellings accepted: labels export's {id, query}, {qid, text}, and a query with
    its own instruction (as eval's files have)."""
    rows = [
        {"id": "q1", "query": "When are tides highest?"},
        {"qid": "q2", "text": "How do I bake bread?"},
        {"id": "q3", "query": "Paris", "instruction": "Given a city name, find documents about that city"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def invoke(*args, model: Path):
    return runner.invoke(app, ["score", *map(str, args), "--model", str(model)])


def ok(result) -> None:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(corpus_job, "BATCH_DOCS", 4)  # several batches per query, ranks across them


def test_lines_equal_score_per_query(tmp_path, tiny_model_dir, small_batches):
    docs, queries, out = write_corpus(tmp_path / "docs.jsonl"), write_queries(tmp_path / "q.jsonl"), tmp_path / "r.jsonl"
    done = invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, *CHUNKING, model=tiny_model_dir)
    ok(done)
    assert done.stdout == ""  # results go to --out
    assert done.stderr.splitlines()[-1].startswith(f"wrote {out}: 14 documents x 3 queries = 42 lines")
    assert "ETA" not in done.stderr  # no progress bar when stderr is not a terminal
    lines = read_lines(out)
    asked = [json.loads(line) for line in queries.read_text().splitlines()]
    assert [line["qid"] for line in lines] == [q for q in ("q1", "q2", "q3") for _ in range(14)]
    for query in asked:
        qid = query.get("id", query.get("qid"))
        args = ["--docs-jsonl", docs, "-q", query.get("query", query.get("text")), "-f", "json", "--no-log", *CHUNKING]
        if "instruction" in query:
            args += ["-i", query["instruction"]]
        single = invoke(*args, model=tiny_model_dir)
        ok(single)
        expected = {}
        for d in json.loads(single.stdout)["documents"]:
            best = max(d["chunks"], key=lambda c: (c["logit"], -c["index"]))
            expected[d["id"]] = {"qid": qid, "doc_id": d["id"], "score": d["score"], "logit": best["logit"],
                                 "chunk": best["index"], "start": best["start"], "end": best["end"],
                                 "chunks": len(d["chunks"]), "rank": d["rank"]}
        mine = [line for line in lines if line["qid"] == qid]
        assert {line["doc_id"] for line in mine} == set(expected)  # the duplicate id renamed alike (dup#2)
        assert "dup#2" in expected
        same_lines(mine, [expected[line["doc_id"]] for line in mine])
        assert any(line["chunks"] > 1 and line["chunk"] is not None for line in mine)
    assert not (tmp_path / "r.jsonl.scores").exists()
    job = json.loads((tmp_path / "r.jsonl.job.json").read_text())
    assert job["complete"] and job["lines"] == 42 and job["stats"]["pairs"] == 42


def test_bad_lines_are_reported_by_file_and_line_and_skipped(tmp_path, tiny_model_dir):
    docs = write_corpus(tmp_path / "docs.jsonl", n=3, extra_lines=("{not json", json.dumps({"id": "e", "text": " "})))
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "q1", "query": "tides"}\n[1, 2]\n{"id": "q2", "query": ""}\n{"id": "q1", "query": "again"}\n')
    out = tmp_path / "r.jsonl"
    done = invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, model=tiny_model_dir)
    ok(done)
    for where in (f"{docs}:4:", f"{docs}:5:", f"{queries}:2:", f"{queries}:3:", f"{queries}:4:"):
        assert where in done.stderr, done.stderr
    assert [(line["qid"], line["doc_id"]) for line in read_lines(out)] == [("q1", "doc0"), ("q1", "doc1"), ("q1", "dup")]


def test_rerun_with_other_arguments_is_refused(tmp_path, tiny_model_dir):
    docs, queries, out = write_corpus(tmp_path / "docs.jsonl", n=4), write_queries(tmp_path / "q.jsonl"), tmp_path / "r.jsonl"
    ok(invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, model=tiny_model_dir))
    before = out.read_bytes()
    again = invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, model=tiny_model_dir)
    ok(again)
    assert "nothing to do" in again.stderr
    other = invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, "--chunk-tokens", "64", model=tiny_model_dir)
    assert other.exit_code == 2 and "other arguments" in other.stderr and "chunk_tokens: 256 then, 64 now" in other.stderr
    write_corpus(docs, n=5)  # the corpus changed since
    changed = invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, model=tiny_model_dir)
    assert changed.exit_code == 2 and "docs_jsonl" in changed.stderr
    assert "Traceback" not in other.stderr + changed.stderr
    assert out.read_bytes() == before
    stranger = tmp_path / "mine.jsonl"
    stranger.write_text('{"a": 1}\n')
    refused = invoke("--queries", queries, "--docs-jsonl", docs, "--out", stranger, model=tiny_model_dir)
    assert refused.exit_code == 2 and "not written by" in refused.stderr
    assert stranger.read_text() == '{"a": 1}\n'


def test_usage_errors(tmp_path, tiny_model_dir):
    docs, queries = write_corpus(tmp_path / "docs.jsonl", n=2), write_queries(tmp_path / "q.jsonl")
    for args, needle in (
        (["--queries", queries, "--docs-jsonl", docs], "--out"),
        (["--out", tmp_path / "r.jsonl", "--docs-jsonl", docs], "--queries"),
        (["--queries", queries, "--out", tmp_path / "r.jsonl"], "--docs-jsonl"),
        (["--queries", queries, "--docs-jsonl", docs, "--out", tmp_path / "r.jsonl", "-q", "x"], "give one"),
        (["--queries", queries, "--docs-jsonl", docs, "--out", tmp_path / "r.jsonl", "-f", "json"], "--format"),
    ):
        result = invoke(*args, model=tiny_model_dir)
        assert result.exit_code == 2 and needle in result.stderr, result.stderr
    assert not (tmp_path / "r.jsonl").exists()


# The child: the real console entry, with batches small and slow enough to be killed midway.
CHILD = """
import sys, time
from workbench import corpus_job
from workbench.engine import reranker
corpus_job.BATCH_DOCS = 6
reranker.default_token_budget = lambda *args: 200  # a few prompts per model batch
real = reranker.Qwen3Reranker.score_prompts
def slow(self, prompts, should_cancel=None):
    for batch in real(self, prompts, should_cancel):
        yield batch
        time.sleep(0.3)
reranker.Qwen3Reranker.score_prompts = slow
from workbench.cli import main
sys.argv = ["workbench", *sys.argv[1:]]
main()
"""


def cached_prompts(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM score_cache").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def test_killed_job_resumes_without_rescoring(tmp_path, tiny_model_dir, cli_env, monkeypatch):
    docs, queries = write_corpus(tmp_path / "docs.jsonl", n=24), write_queries(tmp_path / "q.jsonl")
    docs.write_text(docs.read_text().replace('"dup"', '"other"', 1))  # distinct texts: one prompt each
    db, out, reference = tmp_path / "runs.db", tmp_path / "r.jsonl", tmp_path / "reference.jsonl"
    args = ["score", "--queries", str(queries), "--docs-jsonl", str(docs), "--out", str(out), "--db", str(db),
            "--model", str(tiny_model_dir), *CHUNKING]
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], env=cli_env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        # Killed once some lines are out and the cache holds more prompts than those lines: the
        # model had scored part of a batch whose lines were not yet written.
        while not (out.exists() and out.read_text().count("\n") >= 6 and cached_prompts(db) > written_prompts(out)):
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline, "the job never got going"
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    kept_before, written_before = cached_prompts(db), written_prompts(out)
    with out.open("a") as f:
        f.write('{"qid": "q2", "doc_')  # a torn last line, as a crash mid-write leaves
    lines_before = out.read_text().count("\n")
    assert 0 < lines_before < 72

    scored = []
    real = reranker.Qwen3Reranker.score_prompts

    def counting(self, prompts, should_cancel=None):
        for batch in real(self, prompts, should_cancel):
            scored.extend(batch)
            yield batch

    monkeypatch.setattr(reranker.Qwen3Reranker, "score_prompts", counting)
    ok(runner.invoke(app, args))  # the same command again
    stats = json.loads((tmp_path / "r.jsonl.job.json").read_text())["stats"]
    assert stats["resumed"] == lines_before and stats["scored"] == len(scored)
    assert stats["cached"] == kept_before - written_before > 0  # the killed batch's scores, from the cache
    assert kept_before + len(scored) == cached_prompts(db)  # nothing scored twice...
    uninterrupted = runner.invoke(app, ["score", "--queries", str(queries), "--docs-jsonl", str(docs), "--out",
                                        str(reference), "--no-cache", "--model", str(tiny_model_dir), *CHUNKING])
    ok(uninterrupted)
    total = json.loads((tmp_path / "reference.jsonl.job.json").read_text())["stats"]["prompts"]
    assert cached_prompts(db) == total  # ...and every prompt scored once
    same_lines(read_lines(out), read_lines(reference))


def same_lines(got: list[dict], expected: list[dict]) -> None:
    """Equal lines, scores up to float noise: padded batches of other shapes (a resumed job's
    batches start elsewhere) move a logit by ~1e-7, which can flip its 6th decimal."""
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.keys() == b.keys()
        assert {k: v for k, v in a.items() if k not in ("score", "logit")} == {k: v for k, v in b.items() if k not in ("score", "logit")}
        assert a["score"] == pytest.approx(b["score"], abs=1e-5) and a["logit"] == pytest.approx(b["logit"], abs=1e-5)


def written_prompts(out: Path) -> int:
    return sum(json.loads(line)["chunks"] for line in out.read_text().splitlines() if line.endswith("}"))


def test_a_second_job_on_the_same_output_is_refused(tmp_path, tiny_model_dir):
    import fcntl

    docs, queries, out = write_corpus(tmp_path / "docs.jsonl", n=2), write_queries(tmp_path / "q.jsonl"), tmp_path / "r.jsonl"
    with out.open("ab") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running job holds it
        busy = invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, model=tiny_model_dir)
    assert busy.exit_code == 2 and "another job is writing" in busy.stderr
    ok(invoke("--queries", queries, "--docs-jsonl", docs, "--out", out, model=tiny_model_dir))


def test_killed_while_adding_ranks_ranks_once(tmp_path):
    """A kill after the ranked file replaced the output, before the job file says complete."""
    from workbench.corpus_output import Appender, add_ranks, begin

    out, arguments = tmp_path / "r.jsonl", {"docs_jsonl": "x"}
    assert begin(out, arguments) == 0
    appender = Appender(out)
    appender.write([{"qid": "q", "doc_id": d} for d in "abc"], [0.2, 0.9, 0.2])
    appender.close()
    add_ranks(out, 3)
    ranked = out.read_text()
    assert [line["rank"] for line in read_lines(out)] == [2, 1, 3]  # ties: corpus order
    assert begin(out, arguments) == 3  # restarted: every line done
    add_ranks(out, 3)
    assert out.read_text() == ranked
