"""`workbench eval`: judged queries against a corpus, reported as hit@1 / hit@5 / MRR."""

from __future__ import annotations

import json
import os

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
         "relevant": [{"doc": "bread.md", "contains": "this phrase is nowhere"}]},
    ])
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir)])
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
    _write_queries(queries, [{"id": "1", "query": "capital of France", "relevant": []}])
    result = runner.invoke(app, ["eval", str(queries), str(corpus), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "wb-data" / "workbench.db").exists()  # judged sweeps stay out of the run log
