"""Setup files on the command line: `score --setup` (flags win over the file) and
`sessions export-setup` (a logged run, or the best instruction tried under the labels), and a
setup whose model is a rerank server."""

from __future__ import annotations

import json

import pytest
from api_data import DOCS, QUERY
from typer.testing import CliRunner

import workbench
from workbench.cli import app
from workbench.setup_file import read_setup, write_setup
from workbench.store import RunLog, open_store
from workbench.store.labels import set_label
from workbench.store.runs import text_hash

runner = CliRunner()


@pytest.fixture
def corpus(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{n}", "text": t}) + "\n" for n, t in enumerate(DOCS)), encoding="utf-8")
    return docs


def _score(*args) -> dict:
    result = runner.invoke(app, ["score", *map(str, args), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_flags_win_over_the_setup_file_and_the_file_over_the_environment(tiny_setup, tmp_path, corpus, monkeypatch):
    path = write_setup(read_setup({**tiny_setup, "normalize": "zscore"}), tmp_path / "s.toml")
    monkeypatch.setenv("WORKBENCH_AGGREGATE", "first")
    monkeypatch.setenv("WORKBENCH_INSTRUCTION", "From the environment")
    out = _score("--docs-jsonl", corpus, "-q", QUERY, "--setup", path, "--chunk-tokens", 40, "--no-log")
    assert out["instruction"] == tiny_setup["instruction"] and out["settings"]["aggregate"] == "topk"
    assert out["settings"]["chunk_tokens"] == 40 and out["settings"]["chunk_overlap"] == 4
    assert out["normalization"]["method"] == "zscore"
    out = _score("--docs-jsonl", corpus, "-q", QUERY, "--setup", path, "-i", "Other", "--normalize", "none", "--no-log")
    assert out["instruction"] == "Other" and "normalization" not in out
    default_chunks = write_setup(read_setup({"model": tiny_setup["model"]}), tmp_path / "plain.toml")
    monkeypatch.setenv("WORKBENCH_CHUNK_TOKENS", "40")
    out = _score("--docs-jsonl", corpus, "-q", QUERY, "--setup", default_chunks, "--no-log")
    assert out["settings"]["chunk_tokens"] == 256 and out["settings"]["aggregate"] == "max"


def test_a_bad_setup_file_is_one_line_and_exit_2(tmp_path, corpus):
    bad = tmp_path / "bad.toml"
    bad.write_text("chunk_tokens = -3\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--docs-jsonl", str(corpus), "-q", QUERY, "--setup", str(bad)])
    assert result.exit_code == 2 and "bad.toml: chunk_tokens must be at least 0" in result.stderr
    result = runner.invoke(app, ["score", "--docs-jsonl", str(corpus), "-q", QUERY, "--setup", str(tmp_path / "no.toml")])
    assert result.exit_code == 2 and "setup file not found" in result.stderr


def test_export_a_logged_run_and_rank_with_it_again(tiny_model_dir, tmp_path, corpus):
    db = tmp_path / "runs.db"
    logged = _score("--docs-jsonl", corpus, "-q", QUERY, "--model", tiny_model_dir, "-i", "Find how long data is kept",
                    "--chunk-tokens", 32, "--aggregate", "mean", "--db", db)
    run_id = _run_ids(db)[-1]
    out = tmp_path / "exported.toml"
    result = runner.invoke(app, ["sessions", "export-setup", str(run_id), "-o", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    setup = read_setup(out)
    assert (setup.model, setup.instruction, setup.chunk_tokens, setup.aggregate) == \
        (str(tiny_model_dir), "Find how long data is kept", 32, "mean")
    hits = workbench.load_setup(out).rerank(QUERY, DOCS)
    assert [f"d{h.index}" for h in hits] == [d["id"] for d in logged["documents"]]
    assert [h.score for h in hits] == pytest.approx([d["score"] for d in logged["documents"]], abs=1e-6)
    again = runner.invoke(app, ["sessions", "export-setup", str(run_id), "-o", str(out), "--db", str(db)])
    assert again.exit_code == 1 and "already exists; choose another name or pass --force" in again.stderr
    printed = runner.invoke(app, ["sessions", "export-setup", str(run_id), "--db", str(db)])
    assert printed.stdout == out.read_text(encoding="utf-8")
    missing = runner.invoke(app, ["sessions", "export-setup", "999", "--db", str(db)])
    assert missing.exit_code == 1 and "999" in missing.stderr



def _run_ids(db) -> list[int]:
    store = open_store(db, readonly=True)
    try:
        return sorted(RunLog(store).run_ids())
    finally:
        store.close()


def test_export_best_takes_the_instruction_that_ranks_the_labelled_document_highest(tiny_model_dir, tmp_path, corpus):
    db = tmp_path / "runs.db"
    # The tiny random model hardly reads the instruction: each one comes with its own aggregate,
    # which moves documents. "Best" compares instructions by their newest run under the labels.
    tried = [("Find retention rules", "max"), ("Find the cafeteria hours", "first"), ("Judge relevance", "mean"),
             ("Find password policy", "topk")]
    instructions = [i for i, _ in tried]
    runs = [_score("--docs-jsonl", corpus, "-q", QUERY, "--model", tiny_model_dir, "-i", i, "--aggregate", how,
                   "--chunk-tokens", 16, "--db", db) for i, how in tried]
    rank_of = {f"d{n}": [next(d["rank"] for d in run["documents"] if d["id"] == f"d{n}") for run in runs]
               for n in range(len(DOCS))}
    # The labelled document: one the instructions rank differently (the tiny model is random).
    labelled = next((d for d, ranks in rank_of.items() if len(set(ranks)) > 1), None)
    assert labelled is not None, "the test needs instructions that rank some document differently"
    ranks = rank_of[labelled]
    best = min(ranks)
    expected = instructions[max(n for n, r in enumerate(ranks) if r == best)]  # ties: the newest

    no_labels = runner.invoke(app, ["sessions", "export-setup", str(_run_ids(db)[0]), "--best", "--db", str(db)])
    assert no_labels.exit_code == 1 and "--best needs relevance labels" in no_labels.stderr
    store = open_store(db)
    text = DOCS[int(labelled[1:])]
    set_label(store, QUERY, text_hash(text), labelled, 0, len(text), 3)
    store.close()
    result = runner.invoke(app, ["sessions", "export-setup", str(_run_ids(db)[0]), "--best", "--db", str(db)])
    assert result.exit_code == 0, result.stderr
    assert read_setup_text(result.stdout).instruction == expected and "best so far: run" in result.stderr


def read_setup_text(text: str):
    import tomllib

    return read_setup(tomllib.loads(text))


def test_a_setup_whose_model_is_a_rerank_server(tiny_model_dir, tmp_path, corpus):
    from workbench.testing.protocol_server import ProtocolServer

    def overlap(query: str, documents: list[str]) -> list[float]:  # the server's own relevance
        words = set(query.lower().split())
        return [len(words & set(d.lower().split())) / (len(words) + 1) for d in documents]

    with ProtocolServer(overlap, model="test/tiny", root=str(tiny_model_dir), vllm=False) as server:
        setup = {"model": server.url, "tokenizer": str(tiny_model_dir), "backend_api": "rerank", "chunk_tokens": 0}
        hits = workbench.load_setup(setup).rerank(QUERY, DOCS)
        expected = overlap(QUERY, DOCS)
        assert [h.score for h in hits] == pytest.approx(sorted(expected, reverse=True), abs=1e-6)  # 0 is clamped to 1e-7
        assert [expected[h.index] for h in hits] == pytest.approx([h.score for h in hits], abs=1e-6)
        # logged through the CLI, exported, and the export names the server again
        db = tmp_path / "runs.db"
        path = write_setup(read_setup(setup), tmp_path / "remote.toml")
        _score("--docs-jsonl", corpus, "-q", QUERY, "--setup", path, "--db", db)
        result = runner.invoke(app, ["sessions", "export-setup", str(_run_ids(db)[-1]), "--db", str(db)])
        assert result.exit_code == 0, result.stderr
        exported = read_setup_text(result.stdout)
        assert (exported.model, exported.backend_api, exported.chunk_tokens) == (server.url, "rerank", 0)
