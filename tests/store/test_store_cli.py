"""`workbench sessions ...` and `workbench locate`, through typer's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
import typer
from store_factories import FINGERPRINT, make_documents, make_result
from typer.testing import CliRunner

from workbench.cli_sessions import locate, sessions_app
from workbench.store import RunLog, open_store

app = typer.Typer()
app.add_typer(sessions_app)
app.command()(locate)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def filled(data_dir):
    """Two sessions: 'alpha' with two runs, 'beta' with one."""
    store = open_store()
    log = RunLog(store)
    alpha, beta = log.create_session("alpha", notes="first try"), log.create_session("beta")
    docs = make_documents(3, 2)
    runs = [
        log.log_result(alpha, docs, make_result(docs, query="alpha one", seed=1), FINGERPRINT),
        log.log_result(alpha, docs, make_result(docs, query="alpha two", seed=2), FINGERPRINT),
        log.log_result(beta, docs, make_result(docs, query="beta one", seed=3), FINGERPRINT),
    ]
    store.close()
    return {"alpha": alpha, "beta": beta, "runs": runs}


def test_locate(runner, data_dir, tmp_path):
    result = runner.invoke(app, ["locate"])
    assert result.exit_code == 0
    assert f"data dir:  {data_dir}" in result.output
    assert f"database:  {data_dir / 'workbench.db'}" in result.output
    assert f"config:    {tmp_path / 'config' / 'config.toml'}" in result.output
    other = tmp_path / "elsewhere.db"
    assert f"database:  {other}" in runner.invoke(app, ["locate", "--db", str(other)]).output


def test_list_and_show(runner, filled):
    result = runner.invoke(app, ["sessions", "list"])
    assert result.exit_code == 0, result.output
    assert "alpha" in result.output and "beta" in result.output and "first try" in result.output

    result = runner.invoke(app, ["sessions", "show", str(filled["alpha"])])
    assert result.exit_code == 0, result.output
    assert "alpha two" in result.output and "alpha one" in result.output
    assert "beta one" not in result.output

    run_id = filled["runs"][2]
    result = runner.invoke(app, ["sessions", "show", str(run_id), "--run"])
    assert result.exit_code == 0, result.output
    assert "beta one" in result.output and "Qwen/Qwen3-Reranker-0.6B" in result.output
    assert "doc0.txt" in result.output and "doc2.txt" in result.output


def test_export_formats(runner, filled, tmp_path):
    alpha = str(filled["alpha"])
    result = runner.invoke(app, ["sessions", "export", "--session", alpha, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [r["query"] for r in json.loads(result.stdout)] == ["alpha one", "alpha two"]

    run_ids = filled["runs"]
    result = runner.invoke(app, ["sessions", "export", "--run", str(run_ids[2]), "--run",
                                 str(run_ids[0]), "--format", "jsonl"])
    assert [json.loads(line)["run_id"] for line in result.stdout.splitlines()] == [run_ids[2], run_ids[0]]

    out = tmp_path / "all.csv"
    result = runner.invoke(app, ["sessions", "export", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 3 run(s)" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 3 * 6 and {int(r["run_id"]) for r in rows} == set(run_ids)


def test_delete(runner, filled):
    alpha = str(filled["alpha"])
    result = runner.invoke(app, ["sessions", "delete", alpha], input="n\n")
    assert result.exit_code == 1 and "Nothing deleted" in result.stderr
    result = runner.invoke(app, ["sessions", "delete", alpha, "--yes"])
    assert result.exit_code == 0 and "Deleted session" in result.output
    result = runner.invoke(app, ["sessions", "delete", str(filled["runs"][2]), "--run", "--yes"])
    assert result.exit_code == 0, result.output
    store = open_store()
    assert RunLog(store).count_runs() == 0 and len(RunLog(store).list_sessions()) == 1
    store.close()


@pytest.mark.parametrize(
    "args, message",
    [
        (["sessions", "show", "999"], "no session with id 999"),
        (["sessions", "show", "999", "--run"], "no run with id 999"),
        (["sessions", "export", "--run", "999"], "no run with id 999"),
        (["sessions", "export", "--session", "999"], "no session with id 999"),
        (["sessions", "delete", "999", "--yes"], "no session with id 999"),
    ],
)
def test_missing_ids_exit_1_without_traceback(runner, filled, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {message}"
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_locked_database_is_a_clear_error(runner, filled, data_dir, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DB_TIMEOUT", "0.2")
    holder = sqlite3.connect(data_dir / "workbench.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = runner.invoke(app, ["sessions", "delete", str(filled["beta"]), "--yes"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "is locked by another process; waited 0.2 s" in result.stderr
    assert "Traceback" not in result.output


def test_damaged_database_notice_on_stderr(runner, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "workbench.db").write_bytes(b"\x00garbage" * 1000)
    result = runner.invoke(app, ["sessions", "list"])
    assert result.exit_code == 0
    assert "damaged" in result.stderr and "No sessions yet." in result.stdout
