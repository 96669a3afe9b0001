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


def test_damaged_database_is_reported_by_list_and_set_aside_by_delete(runner, filled, data_dir):
    path = data_dir / "workbench.db"
    data = bytearray(path.read_bytes())
    data[4096:] = b"\x00garbage" * ((len(data) - 4096) // 8 + 1)  # keep page 1: ours by header
    path.write_bytes(bytes(data))
    result = runner.invoke(app, ["sessions", "list"])  # read-only: reports, moves nothing
    assert result.exit_code == 1 and "damaged" in result.stderr and "left as it is" in result.stderr
    assert "Traceback" not in result.output and path.read_bytes() == bytes(data)
    result = runner.invoke(app, ["sessions", "delete", "1", "--yes"])  # a writer sets it aside
    assert "damaged" in result.stderr and "moved to" in result.stderr
    assert [p for p in data_dir.iterdir() if ".corrupt-" in p.name]


# -- export must never write over the run database, or any file, unasked ----------------------


@pytest.mark.parametrize("target", ["db", "db-wal", "db-shm", "symlink", "relative"])
def test_export_refuses_to_write_over_the_database(runner, filled, data_dir, tmp_path, monkeypatch, target):
    db = data_dir / "workbench.db"
    before = db.read_bytes()
    output = {
        "db": db,
        "db-wal": data_dir / "workbench.db-wal",
        "db-shm": data_dir / "workbench.db-shm",
        "symlink": tmp_path / "link.json",
        "relative": "data/../data/workbench.db",
    }[target]
    if target == "symlink":
        output.symlink_to(db)
    monkeypatch.chdir(tmp_path)
    for force in ([], ["--force"]):  # --force does not make it safe
        result = runner.invoke(app, ["sessions", "export", "-o", str(output), *force])
        assert result.exit_code == 1, result.output
        assert "refusing to write the export over the run database" in result.stderr
        assert "Traceback" not in result.output
    assert db.read_bytes() == before  # not truncated
    store = open_store(db)
    assert store.notice is None and RunLog(store).count_runs() == 3
    store.close()


def test_export_refuses_an_existing_file_unless_forced(runner, filled, tmp_path):
    out = tmp_path / "runs.json"
    out.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["sessions", "export", "-o", str(out)])
    assert result.exit_code == 1 and "already exists; pass --force" in result.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    result = runner.invoke(app, ["sessions", "export", "-o", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 3


def test_export_dash_means_stdout(runner, filled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sessions", "export", "-o", "-", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3
    assert not (tmp_path / "-").exists()


def test_failed_export_leaves_no_empty_file(runner, filled, tmp_path):
    out = tmp_path / "runs.json"
    result = runner.invoke(app, ["sessions", "export", "--run", "999", "-o", str(out)])
    assert result.exit_code == 1 and "no run with id 999" in result.stderr
    assert not out.exists()
