"""Damaged files, locks, kill -9 mid-run, and several processes writing at once."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from store_factories import FINGERPRINT, kill_mid_run, make_documents, make_result, write_runs

from workbench.store import RunLog, StoreBusyError, open_store



def _damage_pages(path: Path) -> None:
    """Overwrite stretches of a closed database past its first pages with random bytes."""
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    for offset in range(2 * page, len(data) - page, 3 * page):
        data[offset : offset + 512] = os.urandom(512)
    path.write_bytes(bytes(data))


def _filled_database(path: Path, runs: int = 30) -> None:
    store = open_store(path)
    log = RunLog(store)
    session = log.ensure_session("tests")
    for i in range(runs):
        docs = make_documents(3, 3, prefix=f"r{i}-")
        log.log_result(session, docs, make_result(docs, seed=i), FINGERPRINT)
    store.close()  # last connection: the WAL is checkpointed into the main file


def test_damaged_database_of_ours_is_set_aside_with_its_wal(data_dir):
    path = data_dir / "workbench.db"
    _filled_database(path)
    _damage_pages(path)
    damaged = path.read_bytes()
    (data_dir / "workbench.db-wal").write_bytes(b"not a wal either")

    store = open_store(path)
    assert store.notice and "damaged" in store.notice and "fresh database" in store.notice
    moved = [p for p in data_dir.iterdir() if ".corrupt-" in p.name]
    assert {p.name.split(".corrupt-")[0] for p in moved} == {"workbench.db"}
    main = next(p for p in moved if not p.name.endswith(("-wal", "-shm")))
    assert main.read_bytes() == damaged  # set aside untouched, for whoever wants to look
    wal = next(p for p in moved if p.name.endswith("-wal"))
    assert wal.read_bytes() == b"not a wal either"  # SQLite would have deleted it on close
    assert str(main) in store.notice

    log = RunLog(store)
    docs = make_documents(1, 2)
    run_id = log.log_result(log.ensure_session("tests"), docs, make_result(docs), FINGERPRINT)
    assert log.load_run(run_id).status == "done"
    store.close()
    assert open_store(path).notice is None  # the fresh one is healthy


def test_malformed_pages_fail_quick_check_and_are_set_aside(tmp_path):
    path = tmp_path / "w.db"
    _filled_database(path)
    _damage_pages(path)

    store = open_store(path)
    assert store.notice and "damaged" in store.notice
    assert RunLog(store).count_runs() == 0
    assert list(tmp_path.glob("w.db.corrupt-*"))
    store.close()


def test_locked_database_raises_busy_error_quickly(tmp_path):
    path = tmp_path / "w.db"
    store = open_store(path, busy_timeout=0.3)
    log = RunLog(store)
    session = log.ensure_session("tests")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError) as err:
            docs = make_documents(1, 1)
            log.log_result(session, docs, make_result(docs), FINGERPRINT)
        assert time.monotonic() - started < 3
        assert str(err.value) == f"database {path} is locked by another process; waited 0.3 s"
        assert log.count_runs() == 0  # reads still work while another process writes (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    docs = make_documents(1, 1)
    log.log_result(session, docs, make_result(docs), FINGERPRINT)  # and writes once it lets go
    store.close()


def test_locked_fresh_database_cannot_be_created_clear_error(tmp_path):
    path = tmp_path / "w.db"
    holder = sqlite3.connect(path, isolation_level=None)  # an empty file, write-locked
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match="locked by another process; waited 0.2 s"):
            open_store(path, busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_new_database_opens_once_another_process_lets_go_of_its_lock(tmp_path):
    # SQLite refuses the switch to WAL at once, without waiting, while another connection holds
    # a lock: two processes creating one database together (the app and a script started at
    # once) made one of them fail with "locked" although it was to wait up to its busy timeout.
    path = tmp_path / "w.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:
        started = time.monotonic()
        store = open_store(path, busy_timeout=10)
        waited = time.monotonic() - started
    finally:
        release.join()
        holder.close()
    assert 0.4 < waited < 10
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


KILLED_CHILD = textwrap.dedent(
    """
    import sys, time
    from store_factories import FINGERPRINT, make_documents, make_result
    from workbench.store import RunLog, open_store

    store = open_store(sys.argv[1])
    log = RunLog(store)
    docs = make_documents(3, 3)
    result = make_result(docs, query="typed before the crash")
    run_id = log.begin_run(log.ensure_session("crash"), result.query, result.instruction, docs,
                           result.chunking, result.aggregate, result.top_k, result.model, {})
    # Scores half-written in an open transaction when the kill lands.
    with store.write() as db:
        db.execute("UPDATE runs SET query = 'half-written' WHERE id = ?", [run_id])
        db.execute("INSERT INTO chunks (document_hash, chunk_index, start, \\"end\\", tokens) "
                   "SELECT document_hash, 0, 0, 1, 1 FROM run_documents WHERE run_id = ?", [run_id])
        print(run_id, flush=True)
        time.sleep(60)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_9_mid_run_keeps_inputs_and_the_run_reads_interrupted(tmp_path):
    path = tmp_path / "w.db"
    run_id = kill_mid_run(KILLED_CHILD, path)

    store = open_store(path, busy_timeout=1)
    assert store.notice is None
    assert store.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    stored = RunLog(store).load_run(run_id)
    assert stored.status == "interrupted"  # its process is gone: not 'running' forever
    assert stored.query == "typed before the crash"
    assert stored.documents == make_documents(3, 3)
    assert stored.chunk_scores == [] and store.db["chunks"].count == 0
    store.close()


def test_two_processes_write_runs_concurrently(tmp_path):
    path = tmp_path / "shared.db"  # not created yet: both processes race to create the schema
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        counts = pool.starmap(write_runs, [(str(path), 0, 50), (str(path), 1, 50)])
    assert counts == [50, 50]
    store = open_store(path)
    log = RunLog(store)
    assert log.count_runs() == 100
    assert len(log.list_sessions()) == 1
    queries = {log.load_run(r).query for r in log.run_ids()}
    assert queries == {f"w{w} q{i}" for w in (0, 1) for i in range(50)}
    assert all(r.status == "done" for r in log.history_page(limit=200))
    store.close()
