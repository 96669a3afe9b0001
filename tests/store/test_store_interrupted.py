"""A run whose process died reads 'interrupted', not 'running' forever; and the schema step that
made room for that upgrades an old database without losing anything."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from store_factories import FINGERPRINT, kill_mid_run, make_documents, make_result
from typer.testing import CliRunner

from workbench.cli_sessions import sessions_app
from workbench.store import RunLog, open_store
from workbench.store.database import Store
from workbench.store.history import history_page
from workbench.store.liveness import this_writer
from workbench.store.migration import migrate
from workbench.store.schema import APPLICATION_ID, SCHEMA_STEPS, _V1_RUN_COLUMNS


app = typer.Typer()
app.add_typer(sessions_app)
runner = CliRunner()

BEGIN_AND_HANG = textwrap.dedent(
    """
    import sys, time
    from store_factories import make_documents, make_result
    from workbench.store import RunLog, open_store

    log = RunLog(open_store(sys.argv[1]))
    docs = make_documents(2, 2)
    result = make_result(docs, query="killed mid-run")
    run_id = log.begin_run(log.ensure_session("crash"), result.query, result.instruction, docs,
                           result.chunking, result.aggregate, result.top_k, result.model, {})
    print(run_id, flush=True)
    time.sleep(60)
    """
)


def begin(log: RunLog, session: int, query: str) -> int:
    docs = make_documents(2, 2)
    r = make_result(docs, query=query)
    return log.begin_run(session, query, r.instruction, docs, r.chunking, r.aggregate, r.top_k,
                         r.model, FINGERPRINT)


def status_in_file(db: Path, run_id: int) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()[0]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_run_whose_process_was_killed_shows_interrupted(tmp_path):
    db = tmp_path / "w.db"

    def logged_as_running(run_id: int) -> None:
        assert status_in_file(db, run_id) == "running"

    run_id = kill_mid_run(BEGIN_AND_HANG, db, while_alive=logged_as_running)

    listed = runner.invoke(app, ["sessions", "list", "--db", str(db)])
    assert listed.exit_code == 0, listed.output
    assert "1 interrupted" in listed.stdout
    shown = runner.invoke(app, ["sessions", "show", "1", "--db", str(db)])
    assert "interrupted" in shown.stdout and "running" not in shown.stdout
    one = runner.invoke(app, ["sessions", "show", str(run_id), "--run", "--db", str(db)])
    assert "interrupted" in one.stdout.splitlines()[0]
    assert status_in_file(db, run_id) == "running"  # those commands are read-only

    store = open_store(db)  # a writer (the app, `score`) records it for good
    assert [r.status for r in RunLog(store).history_page()] == ["interrupted"]
    store.close()
    assert status_in_file(db, run_id) == "interrupted"


def test_only_runs_whose_writer_is_certainly_gone_are_interrupted(tmp_path):
    db = tmp_path / "w.db"
    store = open_store(db)
    log = RunLog(store)
    session = log.ensure_session("s")
    mine, exited, elsewhere, unknown = (begin(log, session, q) for q in ("a", "b", "c", "d"))
    finished = begin(log, session, "e")
    docs = make_documents(2, 2)
    log.finish_run(finished, make_result(docs, query="e"))

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with store.write() as conn:  # rewrite the writers as other processes would have left them
        conn.execute("UPDATE runs SET writer_pid = ?, writer_process = NULL WHERE id = ?", [gone.pid, exited])
        conn.execute("UPDATE runs SET writer_pid = ?, writer_host = 'another-box' WHERE id = ?",
                     [gone.pid, elsewhere])
        conn.execute("UPDATE runs SET writer_pid = NULL, writer_host = NULL, writer_process = NULL "
                     "WHERE id = ?", [unknown])  # as logged before writers were recorded

    statuses = {r.id: r.status for r in log.history_page()}
    assert statuses == {mine: "running", exited: "interrupted", elsewhere: "running",
                        unknown: "running", finished: "done"}
    assert log.load_run(exited).status == "interrupted"
    assert {r.id: r.status for r in history_page(store, None, 10)}[exited] == "interrupted"
    assert log.get_session(session).interrupted == 1
    store.close()


def test_a_reused_pid_is_not_taken_for_the_writer(tmp_path):
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc: start times cannot be compared")
    store = open_store(tmp_path / "w.db")
    log = RunLog(store)
    run_id = begin(log, log.ensure_session("s"), "q")
    me = this_writer()
    boot, namespace, started = me.process.split(" ")
    older = f"{boot} {namespace} {int(started) - 1}"  # same pid, an earlier process
    with store.write() as conn:
        conn.execute("UPDATE runs SET writer_process = ? WHERE id = ?", [older, run_id])
    assert log.load_run(run_id).status == "interrupted"
    store.close()


# -- upgrading a version-1 database -----------------------------------------------------------

_TABLES_IN_ORDER = ("sessions", "documents", "chunks", "run_documents", "chunk_scores",
                    "score_cache", "instruction_presets")


def version_one_copy(source: Path, target: Path) -> None:
    """A database built by the first schema step only, holding everything `source` holds."""
    conn = sqlite3.connect(target, isolation_level=None)
    v1 = Store(conn, target, 5.0)
    migrate(v1, SCHEMA_STEPS[:1])
    conn.execute("ATTACH DATABASE ? AS new", [str(source)])
    conn.execute("BEGIN")
    conn.execute("DELETE FROM instruction_presets")
    for table in _TABLES_IN_ORDER:  # parents first: foreign keys are on
        if table == "run_documents":
            conn.execute(f"INSERT INTO runs ({_V1_RUN_COLUMNS}) SELECT {_V1_RUN_COLUMNS} FROM new.runs")
        # The version-1 columns only: later steps may have added some (sessions.origin).
        columns = ", ".join(f'"{c[1]}"' for c in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM new.{table}")
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE new")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_a_version_one_database_upgrades_without_losing_anything(tmp_path):
    latest = tmp_path / "latest.db"
    store = open_store(latest)
    log = RunLog(store)
    alpha, beta = log.create_session("alpha", notes="n"), log.create_session("beta")
    done = [log.log_result(s, d, make_result(d, query=q, seed=i), FINGERPRINT)
            for i, (s, q, d) in enumerate([(alpha, "one", make_documents(3, 3)),
                                           (beta, "two", make_documents(2, 4, prefix="x"))])]
    running = begin(log, alpha, "three")
    expected = {r: log.load_run(r) for r in [*done, running]}
    store.close()

    old = tmp_path / "old.db"
    version_one_copy(latest, old)
    with sqlite3.connect(old) as conn:
        before = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("runs", *_TABLES_IN_ORDER)}

    listed = runner.invoke(app, ["sessions", "list", "--db", str(old)])  # read as it is
    assert listed.exit_code == 0 and "alpha" in listed.stdout, listed.output

    store = open_store(old)
    assert store.schema_version == len(SCHEMA_STEPS)
    db = store.db
    after = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in before}
    assert after == before
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert {"runs_by_session", "runs_by_time", "runs_running"} <= {i.name for i in db["runs"].indexes}
    log = RunLog(store)
    for run_id, run in expected.items():
        # A run logged before writers were recorded cannot be judged: it stays 'running'.
        assert log.load_run(run_id) == run
    with store.write() as conn:  # the widened CHECK accepts the new status
        conn.execute("UPDATE runs SET status = 'interrupted' WHERE id = ?", [running])
    log.delete_session(alpha)  # foreign keys still cascade after the rebuild
    assert db.execute("SELECT COUNT(*) FROM run_documents WHERE run_id IN (?, ?)",
                      [done[0], running]).fetchone()[0] == 0
    assert log.count_runs() == 1
    store.close()
