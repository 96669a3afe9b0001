"""`workbench eval`: judged queries against a corpus: metrics per instruction, comparisons, TREC files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from no_hang import call_within
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


def _write_queries(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def test_eval_reports_where_the_answer_ranks(tmp_path, corpus, tiny_model_dir, shared_scorer):
    queries = tmp_path / "q.jsonl"
    _write_queries(queries, [
        {"id": "paris", "query": "capital of France", "instruction": None,
         "relevant": [{"doc": "france.txt", "contains": "Eiffel Tower"}]},
        {"id": "never", "query": "bread", "instruction": "Find recipes",
         "relevant": [{"doc": "bread.md", "contains": "flour"}]},
    ])
    qrels = tmp_path / "q.qrels"  # a span no chunk can hold whole at 8-token chunks: always a miss
    qrels.write_text("paris 0 france.txt 1\nparis 0 france.txt#0 1\nnever 0 bread.md@0-70 1\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir), "--qrels", str(qrels),
                                 "--chunk-tokens", "8", "--chunk-overlap", "0"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    paris = next(line for line in lines if "paris" in line)
    assert "#" in paris and "MISS" not in paris  # found at some rank (the tiny model is random)
    assert "MISS" in next(line for line in lines if "never" in line)
    summary = lines[-1]
    assert "hit@1" in summary and "MRR" in summary and "over 2 queries" in summary


def test_eval_rejects_a_malformed_queries_file_clearly(tmp_path, corpus, tiny_model_dir):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "x"}\n', encoding="utf-8")
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "q.jsonl:1" in result.stderr and "Traceback" not in result.output


def test_eval_refuses_a_named_pipe_as_queries_file(tmp_path, corpus, tiny_model_dir):
    fifo = tmp_path / "queries.jsonl"
    os.mkfifo(fifo)
    argv = ["eval", str(fifo), str(corpus), "--model", str(tiny_model_dir)]
    result = call_within(60, fifo, runner.invoke, app, argv)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "named pipe" in result.stderr and str(fifo) in result.stderr and "Traceback" not in result.output



def test_eval_refuses_a_judged_query_without_text(tmp_path, corpus, tiny_model_dir):
    queries = tmp_path / "q.jsonl"
    _write_queries(queries, [{"id": "blank", "query": "  ", "relevant": []}])
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "q.jsonl:1: query 'blank' has no query text" in result.stderr and "Traceback" not in result.output


def test_eval_records_no_run(tmp_path, corpus, tiny_model_dir, shared_scorer, cli_env):
    queries = tmp_path / "q.jsonl"
    _write_queries(queries, [{"id": "1", "query": "capital of France", "relevant": [{"doc": "france.txt"}]}])
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "wb-data" / "workbench.db").exists()  # judged sweeps stay out of the run log


SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
TWO = ["--instruction", "Given a web search query, retrieve relevant passages that answer the query",
       "--instruction", "Find the passage that answers the question"]
# A slice of sample_data that scores in seconds with the tiny model (the whole set, with its 57k-token
# handbook, takes minutes on a CPU): three judged queries, their documents and a distractor.
SUBSET_DOCS = ("faq_home_wifi.md", "note_visitor_parking.txt", "sre_runbook_disk_full.md", "backup_retention_policy.md")
SUBSET_QUERIES = {"q7", "q14", "q15"}


def _isolated(mp: pytest.MonkeyPatch, root: Path) -> None:
    """What the autouse `cli_env` does for each test, for a module-scoped run made before it."""
    mp.setenv("WORKBENCH_DATA_DIR", str(root / "wb-data"))
    mp.setenv("WORKBENCH_CONFIG_DIR", str(root / "wb-config"))
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    mp.setenv("COLUMNS", "200")
    for key in list(os.environ):
        if key.startswith("WORKBENCH_") and key not in ("WORKBENCH_DATA_DIR", "WORKBENCH_CONFIG_DIR"):
            mp.delenv(key)


@pytest.fixture(scope="module")
def sample_sweep(tmp_path_factory, tiny_model_dir):
    """Two instructions judged on the sample_data slice, run once for the tests below: the table
    run (which also writes the TREC run files), the --format json run, and their folder."""
    from workbench.engine import loading

    root = tmp_path_factory.mktemp("eval-sample")
    docs = root / "docs"
    docs.mkdir()
    for name in SUBSET_DOCS:
        shutil.copyfile(SAMPLE / "docs" / name, docs / name)
    lines = [line for line in (SAMPLE / "queries.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip() and json.loads(line)["id"] in SUBSET_QUERIES]
    assert len(lines) == len(SUBSET_QUERIES)
    queries = root / "queries.jsonl"
    queries.write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = ["eval", str(queries), str(docs), "--model", str(tiny_model_dir),
            "--chunk-tokens", "512", "--chunk-overlap", "0", *TWO, "--override-query-instructions", "--k", "5"]
    real, loaded = loading.load_scorer, {}

    def load_once(options, progress=None):  # as `shared_scorer` does: the two runs load the model once
        if options not in loaded:
            loaded[options] = real(options, progress)
        return loaded[options]

    with pytest.MonkeyPatch.context() as mp:
        _isolated(mp, root)
        mp.setattr(loading, "load_scorer", load_once)
        table = runner.invoke(app, [*base, "--run-file", str(root / "sweep")])
        as_json = runner.invoke(app, [*base, "--format", "json"])
    assert not (root / "wb-data" / "workbench.db").exists()
    return table, as_json, root


def test_eval_table_compares_two_instructions_on_sample_data(sample_sweep):
    table, _, _ = sample_sweep
    assert table.exit_code == 0, table.output
    out = table.stdout
    assert "chunk nDCG@5" in out and "doc MRR@5" in out and "chunk Recall@5" in out
    assert "i2 vs i1, chunk nDCG@5:" in out and "wins" in out and "permutation p=" in out and "t-test p=" in out
    assert "i2 vs i1, document nDCG@5:" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in SUBSET_QUERIES}
    assert set(rows) == SUBSET_QUERIES  # one per-query line each, with a rank or MISS per instruction


def test_eval_writes_trec_run_files_per_instruction(sample_sweep):
    table, _, root = sample_sweep
    assert table.exit_code == 0, table.output
    for n in (1, 2):
        for suffix, marker in ((".run", True), (".docs.run", False)):
            run = (root / f"sweep.{n}{suffix}").read_text().splitlines()
            assert {line.split()[0] for line in run} == SUBSET_QUERIES
            first = run[0].split()
            assert first[1] == "Q0" and first[3] == "1" and ("#" in first[2]) is marker
            assert first[5] == f"workbench-i{n}"
        assert f"wrote {root / f'sweep.{n}.run'} (i{n}, chunk level)" in table.stderr


def test_eval_json_compares_two_instructions_on_sample_data(sample_sweep):
    table, result, _ = sample_sweep
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert [i["label"] for i in data["instructions"]] == ["i1", "i2"]
    assert set(data["instructions"][0]["metrics"]) == {"chunk", "document"}
    assert data["instructions"][0]["metrics"]["document"]["queries"] == len(SUBSET_QUERIES)
    nd = next(c for c in data["comparisons"] if c["level"] == "chunk" and c["measure"] == "nDCG@5")
    assert nd["wins"] + nd["losses"] + nd["ties"] == nd["queries"] == len(SUBSET_QUERIES)
    assert set(nd["per_query"]) == SUBSET_QUERIES and set(nd["per_query"].values()) <= {"win", "loss", "tie"}
    assert nd["permutation_p"] is not None and 0 <= nd["permutation_p"] <= 1
    # The same scores as the table run (the tiny model is deterministic): its means are the table's.
    for row in data["instructions"]:
        line = next(line for line in table.stdout.splitlines() if line.startswith(row["label"] + " "))
        assert f"{row['metrics']['chunk']['nDCG@5']:.3f}" in line and f"{row['mrr']:.3f}" in line


def test_eval_json_metrics_equal_a_second_library_on_the_run_files_it_wrote(sample_sweep):
    """Document level: torchmetrics, fed the TREC run file `--run-file` wrote and the judged
    queries' documents as grade 1, gives the means `--format json` printed."""
    import torch
    from torchmetrics.functional.retrieval import retrieval_normalized_dcg, retrieval_recall, retrieval_reciprocal_rank

    table, result, root = sample_sweep
    data = json.loads(result.stdout)
    relevant = {}
    for line in (root / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        relevant[q["id"]] = {r["doc"] for r in q["relevant"]}
    for n, row in enumerate(data["instructions"], 1):
        runs: dict[str, list[tuple[str, float]]] = {}
        for line in (root / f"sweep.{n}.docs.run").read_text().splitlines():
            qid, _, doc, rank, score, _ = line.split()
            runs.setdefault(qid, []).append((doc, float(score)))
        per = {"nDCG@5": [], "MRR@5": [], "Recall@5": []}
        for qid, ranked in runs.items():
            preds = torch.tensor([float(len(ranked) - i) for i in range(len(ranked))])  # the file's order
            grades = torch.tensor([int(doc in relevant[qid]) for doc, _ in ranked])
            per["nDCG@5"].append(float(retrieval_normalized_dcg(preds, grades, top_k=5)))
            per["MRR@5"].append(float(retrieval_reciprocal_rank(preds, grades > 0, top_k=5)))
            per["Recall@5"].append(float(retrieval_recall(preds, grades > 0, top_k=5)))
        for measure, values in per.items():
            assert row["metrics"]["document"][measure] == pytest.approx(sum(values) / len(values), abs=1e-6), measure


def test_eval_reads_the_sample_qrels(tiny_model_dir, shared_scorer):
    """sample_data/qrels.txt with the sample queries and all the documents: accepted, and every
    judgment lands in a chunk. Each document is scored whole, cut to 128 tokens, so that the 15
    queries take seconds (tests/evaluation/test_sample_qrels.py checks the judgments themselves)."""
    result = runner.invoke(app, ["eval", str(SAMPLE / "queries.jsonl"), str(SAMPLE / "docs"),
                                 "--qrels", str(SAMPLE / "qrels.txt"), "--model", str(tiny_model_dir),
                                 "--chunk-tokens", "0", "--max-length", "128", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["queries"] == 15 and data["notes"] == []
    metrics = data["instructions"][0]["metrics"]
    assert metrics["chunk"]["queries"] == metrics["document"]["queries"] == 15


def test_eval_with_one_instruction_and_identical_instructions(tmp_path, corpus, tiny_model_dir, shared_scorer):
    queries = tmp_path / "q.jsonl"
    _write_queries(queries, [
        {"id": "a", "query": "capital of France", "relevant": [{"doc": "france.txt", "contains": "Eiffel"}]},
        {"id": "b", "query": "how to bake bread", "relevant": [{"doc": "bread.md", "grade": 2}]},
        {"id": "c", "query": "tides", "relevant": [{"doc": "sub/tides.txt", "contains": "Fundy"}]},
    ])
    one = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir), "--format", "json"])
    assert one.exit_code == 0, one.output
    data = json.loads(one.stdout)
    assert data["comparisons"] == [] and data["instructions"][0]["label"] == "default"
    assert data["instructions"][0]["metrics"]["chunk"]["queries"] == 2  # b is judged whole only
    same = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir), "--format", "json",
                               "-i", "Find it", "-i", "Find it"])
    assert same.exit_code == 0, same.output
    for c in json.loads(same.stdout)["comparisons"]:
        assert c["wins"] == c["losses"] == 0 and c["t_test_p"] == 1.0 and c["permutation_p"] == 1.0


def test_eval_bad_judgments_are_all_reported_before_loading(tmp_path, corpus, tiny_model_dir):
    queries = tmp_path / "q.jsonl"
    _write_queries(queries, [{"id": "a", "query": "x", "relevant": [{"doc": "missing.txt", "contains": "y"}]}])
    qrels = tmp_path / "bad.qrels"
    qrels.write_text("a 0 france.txt 1\na 0 france.txt 1\na 0 bread.md 9\nz 0 bread.md 1\nshort line\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", "/nonexistent/model", "--qrels", str(qrels)])
    assert result.exit_code == 2, result.output
    err = result.stderr
    for where in ("bad.qrels:2: duplicate", "bad.qrels:3: grade '9'", "bad.qrels:4: query 'z' is not in the queries file",
                  "bad.qrels:5: expected"):
        assert where in err
    assert "Traceback" not in result.output and "nonexistent" not in err  # stopped before loading a model


def test_eval_reports_unknown_documents_and_empty_judgments(tmp_path, corpus, tiny_model_dir):
    queries = tmp_path / "q.jsonl"
    _write_queries(queries, [{"id": "a", "query": "x", "relevant": [{"doc": "missing.txt", "contains": "y"}]}])
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2 and "q.jsonl:1: query 'a': unknown document 'missing.txt'" in result.stderr
    _write_queries(queries, [{"id": "a", "query": "x", "relevant": []}])
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2 and "nothing to measure" in result.stderr and "Traceback" not in result.output


def test_eval_unknown_preset_lists_the_known_ones(tmp_path, corpus, tiny_model_dir):
    queries = tmp_path / "q.jsonl"
    _write_queries(queries, [{"id": "a", "query": "x", "relevant": [{"doc": "france.txt"}]}])
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir),
                                 "--presets", "question answering,no such preset"])
    assert result.exit_code == 2
    assert "unknown instruction preset 'no such preset'; known presets: web search (official default), question answering" in result.stderr
