"""`workbench score` (and `locate` / `sessions` around it) as a user or a script sees it.

Most tests drive typer's CliRunner on `workbench.cli.app` with the tiny random Qwen3 reranker
(`--model <tiny_model_dir>`), which is loaded once and shared (see `shared_scorer`). A few run the
real console entry, `python -m workbench.cli` (= `main()`), in a subprocess.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import torch
from cli_helpers import LONG_TEXT, listed_sessions, python_cli
from no_hang import call_within
from typer.testing import CliRunner

from workbench.cli import app
from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.store import RunLog, open_store

pytestmark = pytest.mark.usefixtures("shared_scorer")

runner = CliRunner()

CORPUS_IDS = {"france.txt", "bread.md", "sub/tides.txt"}
MODEL_KEYS = {"id", "kind", "revision", "device", "dtype", "quantization", "fallback"}
CHUNK_KEYS = {"index", "start", "end", "tokens", "score", "logit", "truncated"}


@pytest.fixture
def score(tiny_model_dir):
    """`workbench score ARGS... --model <tiny>` in process; returns click's Result."""

    def run(*args, input: str | None = None, model: str | Path | None = tiny_model_dir):
        argv = ["score", *map(str, args)]
        if model is not None:
            argv += ["--model", str(model)]
        return runner.invoke(app, argv, input=input)

    return run


def ok(result) -> None:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.exception is None, result.exception


def ok_json(result) -> dict:
    ok(result)
    return json.loads(result.stdout)  # stdout is pure JSON: progress and warnings go to stderr


def clean_failure(result, *needles: str) -> None:
    """Non-zero exit through a handled error: no crash, no traceback, the message says why."""
    assert result.exit_code != 0, result.stdout
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip(), "a failure must say why on stderr"
    for needle in needles:
        assert needle.lower() in result.stderr.lower(), result.stderr


def stderr_lines_naming(result, name: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if name in line]


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def check_chunks_cover(text: str, chunks: list[dict]) -> None:
    """Chunks in document order: spans inside the text, overlapping neighbours, full coverage."""
    assert [c["index"] for c in chunks] == list(range(len(chunks)))
    assert chunks[0]["start"] == 0
    assert chunks[-1]["end"] == len(text)
    for c in chunks:
        assert 0 <= c["start"] < c["end"] <= len(text)
        assert text[c["start"] : c["end"]].strip()
    for a, b in zip(chunks, chunks[1:]):
        assert a["start"] < b["start"], "chunks must move forward"
        assert b["start"] < a["end"], "consecutive chunks must overlap"
        assert a["end"] <= b["end"]


# --------------------------------------------------------------------------------------------
# --format json: the contract scripts rely on
# --------------------------------------------------------------------------------------------


def test_json_contract(score, corpus, tiny_model_dir):
    out = ok_json(score(corpus, "-q", "What is the capital of France?", "--format", "json"))

    model = out["model"]
    assert MODEL_KEYS <= model.keys()
    assert model["id"] == str(tiny_model_dir)
    assert model["kind"] == "qwen3-reranker"
    assert model["fallback"] is False
    assert model["revision"].startswith("sha256:")  # local weights: a content hash
    assert model["device"] == "cpu" and model["dtype"] == "fp32" and model["quantization"] == "none"
    assert out["query"] == "What is the capital of France?"
    assert out["instruction"] == DEFAULT_INSTRUCTION

    docs = out["documents"]
    assert {d["id"] for d in docs} == CORPUS_IDS  # .py / .json in the folder are not documents
    assert [d["rank"] for d in docs] == [1, 2, 3]
    scores = [d["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)
    for d in docs:
        assert {"id", "path", "score", "rank", "chunks"} <= d.keys()
        text = Path(d["path"]).read_text(encoding="utf-8")
        assert Path(d["path"]) == corpus / d["id"]
        assert d["chunks"], d
        for c in d["chunks"]:
            assert CHUNK_KEYS <= c.keys()
            assert c["truncated"] is False
            assert c["score"] == pytest.approx(sigmoid(c["logit"]), abs=2e-6)
            assert 0 < c["score"] < 1
        check_chunks_cover(text, d["chunks"])  # default 256-token chunks: one chunk each here
        assert d["score"] == max(c["score"] for c in d["chunks"])  # default aggregate max

    stats = out["stats"]
    assert stats["pairs"] == sum(len(d["chunks"]) for d in docs)
    assert stats["scored"] == stats["pairs"] and stats["cached"] == 0
    assert out["settings"] == {"chunk_tokens": 256, "chunk_overlap": 32, "aggregate": "max", "top_k": 3}


def test_json_custom_instruction_is_reported(score, corpus):
    out = ok_json(score(corpus, "-q", "bread", "-i", "Find recipes", "-f", "json"))
    assert out["instruction"] == "Find recipes"


def test_top_limits_documents(score, corpus):
    full = ok_json(score(corpus, "-q", "ocean tides", "-f", "json"))
    top = ok_json(score(corpus, "-q", "ocean tides", "-f", "json", "--top", "2"))
    assert [d["id"] for d in top["documents"]] == [d["id"] for d in full["documents"][:2]]
    assert [d["rank"] for d in top["documents"]] == [1, 2]


@pytest.mark.parametrize("bad", ["0", "-1"])
def test_top_must_be_positive(score, corpus, bad):
    result = score(corpus, "-q", "tides", "--top", bad)
    assert result.exit_code == 2  # usage error, before any model is loaded
    assert "--top" in result.stderr and "Traceback" not in result.stderr


def test_chunking_off_gives_one_chunk_per_document(score, corpus, long_doc):
    out = ok_json(score(long_doc, corpus / "france.txt", "-q", "tides", "--chunk-tokens", "0", "-f", "json"))
    assert out["settings"]["chunk_tokens"] == 0
    for d in out["documents"]:
        text = Path(d["path"]).read_text(encoding="utf-8")
        assert len(d["chunks"]) == 1
        (chunk,) = d["chunks"]
        assert (chunk["index"], chunk["start"], chunk["end"]) == (0, 0, len(text))


def test_small_chunks_overlap_and_cover_the_text(score, long_doc, qwen_tokenizer):
    out = ok_json(score(long_doc, "-q", "tides", "--chunk-tokens", "32", "--chunk-overlap", "8", "-f", "json"))
    assert out["settings"]["chunk_tokens"] == 32 and out["settings"]["chunk_overlap"] == 8
    (doc,) = out["documents"]
    chunks = doc["chunks"]
    assert len(chunks) > 3
    check_chunks_cover(LONG_TEXT, chunks)
    for c in chunks:
        assert 0 < c["tokens"] <= 32
        # `tokens` counts the chunk's own tokens (re-tokenising a slice may differ at its edges)
        alone = len(qwen_tokenizer(LONG_TEXT[c["start"] : c["end"]], add_special_tokens=False)["input_ids"])
        assert abs(alone - c["tokens"]) <= 2
        assert c["score"] == pytest.approx(sigmoid(c["logit"]), abs=2e-6)
    assert doc["score"] == max(c["score"] for c in chunks)
    assert out["stats"]["pairs"] == len(chunks)


def test_aggregate_mean_is_the_mean_of_chunk_scores(score, long_doc):
    out = ok_json(score(long_doc, "-q", "tides", "--chunk-tokens", "32", "--aggregate", "mean", "-f", "json"))
    (doc,) = out["documents"]
    assert doc["score"] == pytest.approx(sum(c["score"] for c in doc["chunks"]) / len(doc["chunks"]), abs=1e-5)


# --------------------------------------------------------------------------------------------
# Other output formats
# --------------------------------------------------------------------------------------------


def test_jsonl_one_document_per_line(score, corpus, tiny_model_dir):
    result = score(corpus, "-q", "capital of France", "-f", "jsonl")
    ok(result)
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    rows = [json.loads(line) for line in lines]
    assert {r["id"] for r in rows} == CORPUS_IDS
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    for r in rows:  # each line stands alone
        assert r["query"] == "capital of France"
        assert r["model"] == str(tiny_model_dir)
        assert r["chunks"] and CHUNK_KEYS <= r["chunks"][0].keys()


def test_csv_one_row_per_chunk(score, corpus, long_doc):
    args = (corpus, long_doc, "-q", "tides", "--chunk-tokens", "32", "--chunk-overlap", "8")
    as_json = ok_json(score(*args, "-f", "json"))
    result = score(*args, "-f", "csv")
    ok(result)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == sum(len(d["chunks"]) for d in as_json["documents"]) > len(as_json["documents"])
    assert {"doc_rank", "doc_id", "path", "doc_score", "chunk_index", "start", "end", "tokens", "score",
            "logit", "truncated"} <= rows[0].keys()
    expected = [(d["id"], c["index"], c["start"], c["end"]) for d in as_json["documents"] for c in d["chunks"]]
    got = [(r["doc_id"], int(r["chunk_index"]), int(r["start"]), int(r["end"])) for r in rows]
    assert got == expected  # documents best first, chunks in document order
    ranks = [int(r["doc_rank"]) for r in rows]
    assert ranks == sorted(ranks)
    for r in rows:
        assert float(r["score"]) == pytest.approx(sigmoid(float(r["logit"])), abs=2e-6)


def test_table_names_documents_and_model(score, corpus, tiny_model_dir):
    result = score(corpus, "-q", "capital of France")  # table is the default format
    ok(result)
    flat = "".join(result.stdout.split())  # rich may wrap a long title; compare without whitespace
    for doc_id in CORPUS_IDS:
        assert doc_id in result.stdout
    assert "".join(str(tiny_model_dir).split()) in flat
    assert "capital of France" in result.stdout
    assert "pairs" in result.stdout and "cached" in result.stdout


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def test_single_file_and_stdin(score, corpus):
    piped = "Tide tables list high and low water for every harbour.\n"
    out = ok_json(score(corpus / "france.txt", "-", "-q", "tide tables", "-f", "json", input=piped))
    by_id = {d["id"]: d for d in out["documents"]}
    assert set(by_id) == {"france.txt", "stdin"}
    assert by_id["stdin"]["path"] is None
    assert by_id["stdin"]["chunks"][0]["end"] == len(piped)
    assert by_id["france.txt"]["path"] == str(corpus / "france.txt")


def test_empty_stdin_is_reported_and_the_rest_scored(score, corpus):
    result = score(corpus / "bread.md", "-", "-q", "bread", "-f", "json", input="")
    out = ok_json(result)
    assert [d["id"] for d in out["documents"]] == ["bread.md"]
    assert len(stderr_lines_naming(result, "stdin")) == 1


def test_docs_jsonl_with_a_malformed_line(score, tmp_path):
    jsonl = tmp_path / "docs.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps({"id": "moon", "text": "The Moon causes most of the tide."}),
                '{"id": "broken", "text": "no closing brace"',
                "",
                json.dumps({"id": "no-text"}),
                json.dumps({"id": "sun", "text": "The Sun adds spring and neap tides."}),
                json.dumps({"id": "blank", "text": "   "}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = score("-q", "tides", "--docs-jsonl", jsonl, "-f", "json")
    out = ok_json(result)
    assert {d["id"] for d in out["documents"]} == {"moon", "sun"}
    assert {d["path"] for d in out["documents"]} == {f"{jsonl}:1", f"{jsonl}:5"}
    for n in (2, 4, 6):
        assert len(stderr_lines_naming(result, f"{jsonl}:{n}:")) == 1, result.stderr
    assert f"{jsonl}:3" not in result.stderr  # a blank line is no problem
    assert "Traceback" not in result.stderr


def test_docs_jsonl_together_with_files(score, corpus, tmp_path):
    jsonl = tmp_path / "extra.jsonl"
    jsonl.write_text(json.dumps({"id": "france.txt", "text": "Lyon is in France too."}) + "\n", encoding="utf-8")
    out = ok_json(score(corpus / "france.txt", "-q", "France", "--docs-jsonl", jsonl, "-f", "json"))
    # the same name from two inputs: both scored, under unique ids
    assert {d["id"] for d in out["documents"]} == {"france.txt", "france.txt#2"}


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    bad = tmp_path / "bad"
    bad.mkdir()
    files = {
        "binary": bad / "binary.txt",
        "latin1": bad / "latin1.txt",
        "empty": bad / "empty.txt",
        "missing": bad / "missing.txt",
    }
    files["binary"].write_bytes(b"PK\x03\x04\x00\x00binary\x00stuff")
    files["latin1"].write_bytes("Caf\u00e9 cr\u00e8me au lait".encode("latin-1"))
    files["empty"].write_text("  \n\n", encoding="utf-8")
    return files


def test_bad_inputs_are_named_and_the_rest_scored(score, corpus, bad_files):
    result = score(*bad_files.values(), corpus / "france.txt", "-q", "Paris", "-f", "json")
    out = ok_json(result)
    assert [d["id"] for d in out["documents"]] == ["france.txt"]
    assert "Traceback" not in result.stderr
    reasons = {"binary": "binary", "latin1": "utf-8", "empty": "empty", "missing": "no such file"}
    for kind, path in bad_files.items():
        lines = stderr_lines_naming(result, str(path))
        assert len(lines) == 1, f"{kind}: expected one line naming {path} in\n{result.stderr}"
        assert reasons[kind] in lines[0].lower(), lines[0]


def test_bad_files_inside_a_folder_are_named(score, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("Bread needs flour.", encoding="utf-8")
    (folder / "zero.txt").write_bytes(b"\x00\x01\x02")
    result = score(folder, "-q", "flour", "-f", "json")
    out = ok_json(result)
    assert [d["id"] for d in out["documents"]] == ["good.md"]
    assert len(stderr_lines_naming(result, str(folder / "zero.txt"))) == 1


def test_named_pipe_is_named_and_the_rest_scored(score, corpus, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result = call_within(120, fifo, score, fifo, corpus / "france.txt", "-q", "Paris", "-f", "json")
    out = ok_json(result)
    assert [d["id"] for d in out["documents"]] == ["france.txt"]
    (line,) = stderr_lines_naming(result, str(fifo))
    assert "named pipe" in line and "not a regular file" in line


def test_a_cut_chunk_is_reported_in_one_line(score, long_doc):
    result = score(long_doc, "-q", "tides", "--chunk-tokens", "0", "--max-length", "64", "-f", "json")
    out = ok_json(result)
    assert out["documents"][0]["chunks"][0]["truncated"] is True
    (line,) = [line for line in result.stderr.splitlines() if "cut" in line]
    assert line.startswith("note: 1 chunk did not fit the model and was cut")


def test_nothing_readable_fails_cleanly(score, bad_files, tmp_path):
    empty_folder = tmp_path / "nothing-here"
    empty_folder.mkdir()
    result = score(*bad_files.values(), empty_folder, "-q", "anything")
    clean_failure(result, "nothing to score")
    assert result.stdout == ""
    for path in [*bad_files.values(), empty_folder]:  # every input still explained
        assert stderr_lines_naming(result, str(path)), path


def test_no_inputs_at_all_fails_cleanly(score):
    clean_failure(score("-q", "anything"), "nothing to score")


# --------------------------------------------------------------------------------------------
# Bad options
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_fails_cleanly(score, corpus, query):
    result = score(corpus, "--query", query)
    clean_failure(result, "query is empty")
    assert result.stdout == ""


def test_missing_query_is_a_usage_error(score, corpus):
    result = score(corpus)
    assert result.exit_code == 2
    assert "--query" in result.stderr and "Traceback" not in result.stderr


def test_named_model_that_does_not_exist_never_falls_back(score, corpus):
    result = score(corpus, "-q", "Paris", model="/nonexistent/dir")
    clean_failure(result, "/nonexistent/dir")
    assert "fallback" not in result.stderr.lower()
    assert result.stdout == ""


def test_named_directory_without_a_model_fails_cleanly(score, corpus, tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    result = score(corpus, "-q", "Paris", model=empty)
    clean_failure(result, "could not load", str(empty))
    assert "fallback" not in result.stderr.lower()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_device_cuda_without_a_gpu(score, corpus):
    clean_failure(score(corpus, "-q", "Paris", "--device", "cuda"), "--device cuda", "gpu")


def test_unknown_device_is_a_usage_error(score, corpus):
    result = score(corpus, "-q", "Paris", "--device", "tpu")
    assert result.exit_code == 2 and "--device" in result.stderr


def test_chunk_overlap_not_smaller_than_chunk_size_is_refused(score, long_doc):
    for overlap in ("32", "40"):
        result = score(long_doc, "-q", "tides", "--chunk-tokens", "32", "--chunk-overlap", overlap)
        clean_failure(result, "overlap")
        assert result.exit_code == 2
    clean_failure(score(long_doc, "-q", "tides", "--chunk-overlap", "-1"), "overlap")
    clean_failure(score(long_doc, "-q", "tides", "--chunk-tokens", "-5"), "chunk size")


def test_small_chunk_size_with_the_default_overlap_still_works(score, long_doc):
    # the default overlap (32) would not fit 16-token chunks: it is shrunk, and the JSON says so
    out = ok_json(score(long_doc, "-q", "tides", "--chunk-tokens", "16", "-f", "json"))
    assert out["settings"]["chunk_tokens"] == 16
    assert 0 <= out["settings"]["chunk_overlap"] < 16
    check_chunks_cover(LONG_TEXT, out["documents"][0]["chunks"])


# --------------------------------------------------------------------------------------------
# Run log and persistent score cache
# --------------------------------------------------------------------------------------------


def stored_runs(db: Path):
    store = open_store(db)
    try:
        log = RunLog(store)
        return [log.load_run(r) for r in log.run_ids()]
    finally:
        store.close()


def test_a_run_is_logged_and_listed(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    out = ok_json(score(corpus, "-q", "capital of France", "--db", db, "-f", "json"))

    (run,) = stored_runs(db)
    assert run.status == "done"
    assert run.query == "capital of France"
    assert run.model.model_id == out["model"]["id"]
    assert [d.doc_id for d in run.document_scores] == [d["id"] for d in out["documents"]]
    assert len(run.chunk_scores) == out["stats"]["pairs"]
    stored = {(c.doc_id, c.chunk.index): round(c.logit, 6) for c in run.chunk_scores}
    printed = {(d["id"], c["index"]): c["logit"] for d in out["documents"] for c in d["chunks"]}
    assert stored == pytest.approx(printed, abs=1e-5)

    listed = runner.invoke(app, ["sessions", "list", "--db", str(db)])
    ok(listed)
    assert "No sessions" not in listed.stdout
    ((name, runs),) = listed_sessions(listed.stdout)
    assert runs == 1 and name.startswith("score ")  # a new session for this invocation

    shown = runner.invoke(app, ["sessions", "show", str(run.id), "--run", "--db", str(db)])
    ok(shown)
    assert "capital of France" in shown.stdout and "france.txt" in shown.stdout


def test_default_db_is_in_the_data_dir(score, corpus, cli_env):
    ok(score(corpus, "-q", "Paris"))
    db = Path(cli_env["WORKBENCH_DATA_DIR"]) / "workbench.db"
    assert db.is_file()
    assert len(stored_runs(db)) == 1
    located = runner.invoke(app, ["locate"])
    ok(located)
    assert f"database:  {db}" in located.stdout


def test_no_log_records_no_run(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    ok(score(corpus, "-q", "Paris", "--db", db, "--no-log"))
    assert stored_runs(db) == []

    db2 = tmp_path / "untouched.db"
    ok(score(corpus, "-q", "Paris", "--db", db2, "--no-log", "--no-cache"))
    assert not db2.exists()  # neither log nor cache: the database is not even created


def test_no_log_leaves_no_session_behind(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    ok(score(corpus, "-q", "Paris", "--db", db, "--no-log"))
    listed = runner.invoke(app, ["sessions", "list", "--db", str(db)])
    ok(listed)
    assert "No sessions yet." in listed.stdout


def test_second_identical_run_comes_from_the_score_cache(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    args = (corpus, "-q", "capital of France", "--db", db, "-f", "json")
    first = ok_json(score(*args))
    assert first["stats"]["cached"] == 0 and first["stats"]["scored"] == first["stats"]["pairs"]

    second = ok_json(score(*args))
    assert second["stats"]["pairs"] == first["stats"]["pairs"]
    assert second["stats"]["cached"] == second["stats"]["pairs"]
    assert second["stats"]["scored"] == 0
    assert second["documents"] == first["documents"]  # same ranking, same numbers

    # --no-log still uses the cache; --no-cache neither reads nor writes it
    assert ok_json(score(*args, "--no-log"))["stats"]["cached"] == first["stats"]["pairs"]
    uncached = ok_json(score(*args, "--no-cache"))
    assert uncached["stats"]["cached"] == 0
    assert uncached["stats"]["scored"] == first["stats"]["pairs"]
    assert len(stored_runs(db)) == 3  # the --no-log run is not among them


def test_a_different_query_is_not_served_from_the_cache(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    ok_json(score(corpus, "-q", "capital of France", "--db", db, "-f", "json"))
    other = ok_json(score(corpus, "-q", "how to bake bread", "--db", db, "-f", "json"))
    assert other["stats"]["cached"] == 0


def test_a_db_that_is_not_ours_is_left_untouched_and_scoring_goes_on(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    garbage = b"this is not a database at all \x00\xff" * 200
    db.write_bytes(garbage)
    result = score(corpus, "-q", "Paris", "--db", db, "-f", "json")
    out = ok_json(result)
    assert {d["id"] for d in out["documents"]} == CORPUS_IDS
    assert f"{db} is not a workbench database" in result.stderr and "not recorded" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("runs.db") and p != db]
    assert db.read_bytes() == garbage


def test_unusable_database_path_only_warns(score, corpus, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = score(corpus, "-q", "Paris", "--db", blocker / "runs.db", "-f", "json")
    out = ok_json(result)  # a log that cannot be opened must not stop scoring
    assert len(out["documents"]) == 3
    assert "not recorded" in result.stderr


def test_sqlite_file_from_a_run_is_a_plain_database(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    ok(score(corpus, "-q", "Paris", "--db", db))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)


# --------------------------------------------------------------------------------------------
# The console entry, end to end (subprocesses: the real `main()`, real model loading)
# --------------------------------------------------------------------------------------------


def test_console_entry_locate_and_bare_path(cli_env, tmp_path):
    done = subprocess.run([*python_cli(), "locate"], env=cli_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"database:  {Path(cli_env['WORKBENCH_DATA_DIR']) / 'workbench.db'}" in done.stdout
    assert f"config:    {Path(cli_env['WORKBENCH_CONFIG_DIR']) / 'config.toml'}" in done.stdout

    # A bare `workbench PATH ...` means `workbench open PATH ...` (--help: do not start the TUI)
    bare = subprocess.run(
        [*python_cli(), str(tmp_path), "--help"], env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert bare.returncode == 0, bare.stderr
    assert "interactive workbench" in bare.stdout
    top = subprocess.run([*python_cli(), "--help"], env=cli_env, capture_output=True, text=True, timeout=120)
    assert top.returncode == 0 and "score" in top.stdout and "sessions" in top.stdout


def test_default_model_offline_falls_back_loudly(cli_env, corpus, tmp_path):
    """No --model and no network: the offline embedding fallback ranks, and says so."""
    env = dict(cli_env, HF_HOME=str(tmp_path / "empty-hf-home"))  # no cached Qwen3 reranker
    done = subprocess.run(
        [*python_cli(), "score", str(corpus / "france.txt"), "-", "-q", "capital of France", "-f", "json"],
        input="Bread is baked from flour and water.\n",
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "WARNING" in done.stderr and "fallback" in done.stderr.lower()
    out = json.loads(done.stdout)
    assert out["model"]["fallback"] is True
    assert out["model"]["kind"] == "embedding-fallback"
    assert "Qwen/Qwen3-Reranker-0.6B" in (out["model"]["fallback_reason"] or "")
    assert [d["id"] for d in out["documents"]] == ["france.txt", "stdin"]  # a sensible ranking
    assert [d["rank"] for d in out["documents"]] == [1, 2]


def test_sessions_and_locate_follow_the_db_setting_that_score_uses(score, corpus, tmp_path, monkeypatch):
    db = tmp_path / "elsewhere.db"
    monkeypatch.setenv("WORKBENCH_DB", str(db))
    ok(score(corpus, "-q", "Paris"))
    assert db.exists()
    located = runner.invoke(app, ["locate"])
    assert str(db) in located.stdout
    listed = runner.invoke(app, ["sessions", "list"])
    ok(listed)
    assert "No sessions yet." not in listed.stdout


# --------------------------------------------------------------------------------------------
# One run format: `score` output and `sessions export` of the same logged run agree
# --------------------------------------------------------------------------------------------

CORE_KEYS = ("model", "query", "instruction", "settings", "stats", "problems", "documents")


def test_score_json_equals_the_export_of_its_logged_run(score, corpus, long_doc, tmp_path):
    db = tmp_path / "runs.db"
    args = (corpus, long_doc, "-q", "tides", "--chunk-tokens", "32", "--chunk-overlap", "8", "--db", db)
    printed = ok_json(score(*args, "-f", "json"))
    (run,) = stored_runs(db)
    exported = runner.invoke(app, ["sessions", "export", "--run", str(run.id), "--format", "json", "--db", str(db)])
    ok(exported)
    (logged,) = json.loads(exported.stdout)
    assert {k: logged[k] for k in CORE_KEYS} == {k: printed[k] for k in CORE_KEYS}  # exactly: same rounding
    assert set(printed) == set(CORE_KEYS)
    assert logged["run_id"] == run.id and logged["status"] == "done"
    assert {"session", "created_at", "finished_at"} <= logged.keys()


def test_score_csv_and_export_csv_share_their_columns(score, corpus, tmp_path):
    db = tmp_path / "runs.db"
    printed = score(corpus, "-q", "capital of France", "--db", db, "-f", "csv")
    ok(printed)
    (run,) = stored_runs(db)
    exported = runner.invoke(app, ["sessions", "export", "--run", str(run.id), "--format", "csv", "--db", str(db)])
    ok(exported)
    assert printed.stdout.splitlines()[0] == exported.stdout.splitlines()[0]
    mine = list(csv.DictReader(io.StringIO(printed.stdout)))
    theirs = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["run_id"] for r in mine] == [""] * len(mine)  # not read from the log
    assert [r | {"run_id": ""} for r in theirs] == mine


# --------------------------------------------------------------------------------------------
# --normalize and --calibrate
# --------------------------------------------------------------------------------------------

NORM_ARGS = ("-q", "tides", "--chunk-tokens", "32", "--chunk-overlap", "8", "--no-log")


def without_timings(out: dict) -> dict:
    """Stats differ between runs (timings; a second run comes from the score cache)."""
    return {k: v for k, v in out.items() if k != "stats"}


def strip_normalized(out: dict) -> dict:
    out = {k: v for k, v in out.items() if k != "normalization"}
    out["documents"] = [
        {k: v for k, v in d.items() if k != "normalized"} | {"chunks": [{k: v for k, v in c.items() if k != "normalized"}
                                                                         for c in d["chunks"]]}
        for d in out["documents"]
    ]
    return out


def test_json_without_normalize_is_unchanged(score, corpus, long_doc):
    plain = ok_json(score(corpus, long_doc, *NORM_ARGS, "-f", "json"))
    assert set(plain) == set(CORE_KEYS)
    for d in plain["documents"]:
        assert set(d) == {"id", "path", "score", "rank", "chunks"}
        assert all(set(c) == CHUNK_KEYS for c in d["chunks"])
    explicit = ok_json(score(corpus, long_doc, *NORM_ARGS, "-f", "json", "--normalize", "none"))
    assert without_timings(explicit) == without_timings(plain)
    normalized = ok_json(score(corpus, long_doc, *NORM_ARGS, "-f", "json", "--normalize", "minmax"))
    assert without_timings(strip_normalized(normalized)) == without_timings(plain)  # score, logit as they were


def test_normalize_minmax_and_zscore(score, corpus, long_doc):
    for method in ("minmax", "zscore"):
        out = ok_json(score(corpus, long_doc, *NORM_ARGS, "-f", "json", "--normalize", method))
        assert out["normalization"] == {"method": method, "of": "score", "notes": []}
        chunks = [c for d in out["documents"] for c in d["chunks"]]
        values = [c["normalized"] for c in chunks]
        docs = [d["normalized"] for d in out["documents"]]
        if method == "minmax":
            assert min(values) == 0 and max(values) == 1 and all(0 <= v <= 1 for v in values)
            assert min(docs) == 0 and max(docs) == 1
            lo, hi = min(c["score"] for c in chunks), max(c["score"] for c in chunks)
            for c in chunks:
                assert c["normalized"] == pytest.approx((c["score"] - lo) / (hi - lo), abs=1e-4)
        else:
            assert sum(values) / len(values) == pytest.approx(0, abs=1e-5)
            assert sum(docs) / len(docs) == pytest.approx(0, abs=1e-5)
            assert sum(v * v for v in values) / len(values) == pytest.approx(1, abs=1e-4)
        # the same order as the scores
        by_score = sorted(chunks, key=lambda c: c["score"])
        assert [c["normalized"] for c in by_score] == sorted(values)


def test_normalize_in_csv_jsonl_and_table(score, corpus):
    result = score(corpus, *NORM_ARGS, "-f", "csv", "--normalize", "minmax")
    ok(result)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {float(r["normalized"]) for r in rows} >= {0.0, 1.0}
    assert all(r["doc_normalized"] != "" for r in rows)
    plain = list(csv.DictReader(io.StringIO(score(corpus, *NORM_ARGS, "-f", "csv").stdout)))
    assert {r["normalized"] for r in plain} == {""} and {r["doc_normalized"] for r in plain} == {""}

    lines = [json.loads(line) for line in score(corpus, *NORM_ARGS, "-f", "jsonl", "--normalize", "zscore").stdout.splitlines()]
    assert all(r["normalization"] == "zscore" and "normalized" in r and "normalized" in r["chunks"][0] for r in lines)

    table = score(corpus, *NORM_ARGS, "--normalize", "minmax")
    ok(table)
    assert "normalized" in table.stdout and "1.0000" in table.stdout
    assert "normalized" not in score(corpus, *NORM_ARGS).stdout


def test_zscore_of_one_chunk_is_null_with_a_note(score, corpus):
    result = score(corpus / "france.txt", "-q", "Paris", "--no-log", "-f", "json", "--normalize", "zscore")
    out = ok_json(result)
    (doc,) = out["documents"]
    assert doc["normalized"] is None and doc["chunks"][0]["normalized"] is None
    assert any("undefined" in n for n in out["normalization"]["notes"])
    assert "undefined" in result.stderr


def test_calibrate_prints_the_distribution(score, corpus, long_doc):
    table = score(corpus, long_doc, *NORM_ARGS, "--calibrate", "--normalize", "zscore")
    ok(table)
    assert "score distribution over" in table.stdout and "median" in table.stdout
    assert "probability histogram (10 bins)" in table.stdout
    assert "normalized (zscore)" in table.stdout
    assert table.stdout.count("[0.") >= 9  # ten bins

    result = score(corpus, long_doc, *NORM_ARGS, "-f", "json", "--calibrate")
    out = ok_json(result)
    cal = out["calibration"]
    scores = [c["score"] for d in out["documents"] for c in d["chunks"]]
    assert cal["chunks"] == len(scores)
    assert cal["score"]["min"] == pytest.approx(min(scores), abs=1e-6)
    assert cal["score"]["max"] == pytest.approx(max(scores), abs=1e-6)
    assert sum(b["count"] for b in cal["histogram"]) == len(scores) and len(cal["histogram"]) == 10
    assert "best_threshold" not in cal  # no labels given

    csv_run = score(corpus, *NORM_ARGS, "-f", "csv", "--calibrate")
    ok(csv_run)
    assert "score distribution" in csv_run.stderr and "distribution" not in csv_run.stdout


def test_calibrate_with_qrels_finds_the_cut_that_separates(score, corpus, long_doc, tmp_path):
    out = ok_json(score(corpus, long_doc, *NORM_ARGS, "-f", "json"))
    chunks = sorted(((c["score"], d["id"], c["index"]) for d in out["documents"] for c in d["chunks"]), reverse=True)
    assert chunks[1][0] > chunks[2][0]
    qrels = tmp_path / "qrels.txt"
    lines = [f"7 0 {doc}#{index} 2" for _, doc, index in chunks[:2]]
    lines.append(f"7 0 {chunks[-1][1]} 0")  # a whole document judged not relevant
    lines.append("7 0 missing.md 3")  # not in this run: warned about, ignored
    qrels.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = score(corpus, long_doc, *NORM_ARGS, "-f", "json", "--qrels", qrels)  # --qrels implies --calibrate
    cal = ok_json(result)["calibration"]
    cut = cal["best_threshold"]
    assert cut["threshold"] == pytest.approx(chunks[1][0], abs=1e-6)
    assert cut["f1"] == 1 and cut["precision"] == 1 and cut["recall"] == 1 and cut["selected"] == 2
    assert chunks[2][0] < float(cut["shown"]) <= cut["threshold"]  # the printed cut keeps the same two chunks
    assert cal["labels"]["relevant"] == 2
    assert "missing.md" in result.stderr and "ignored" in result.stderr and f"{qrels}:4" in result.stderr

    table = score(corpus, long_doc, *NORM_ARGS, "--qrels", qrels, "--qid", "7", "--calibrate")
    ok(table)
    assert f"best cut-off: score >= {cut['shown']}  F1 1.000" in table.stdout


@pytest.mark.parametrize(
    ("content", "extra", "needles"),
    [
        ("1 0 france.txt 1\n1 0 bread.md 5\n", (), (":2", "0..3")),
        ("1 0 france.txt 1\n2 0 bread.md 1\n", (), ("--qid",)),
        ("1 0 france.txt 1\n", ("--qid", "9"), ("qid '9'",)),
        ("1 0 france.txt one\n", (), (":1", "not an integer")),
    ],
)
def test_bad_qrels_fail_cleanly(score, corpus, tmp_path, content, extra, needles):
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(content, encoding="utf-8")
    result = score(corpus, *NORM_ARGS, "--calibrate", "--qrels", qrels, *extra)
    assert result.exit_code == 2, result.stderr
    clean_failure(result, *needles)


def test_qid_without_qrels_is_a_usage_error(score, corpus):
    result = score(corpus, *NORM_ARGS, "--qid", "1")
    assert result.exit_code == 2
    clean_failure(result, "--qrels")
