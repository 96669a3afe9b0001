"""Sessions belong to one launch of a process: named after their origin and start time, never
shared by two launches; the app finds the last run it wrote; an older database gains the origin
column on upgrade without losing anything."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from store_factories import FINGERPRINT, make_documents, make_result

from workbench.store import RunLog, StoreError, open_store, sessions
from workbench.store.database import Store
from workbench.store.migration import migrate
from workbench.store.schema import SCHEMA_STEPS, SESSION_ORIGIN_VERSION

SECOND = "app 2026-11-29 23:41:07"


def log_run(log: RunLog, session_id: int, query: str) -> int:
    docs = make_documents(2, 2)
    return log.log_result(session_id, docs, make_result(docs, query=query), FINGERPRINT)


def begin_run(log: RunLog, session_id: int, query: str) -> int:
    docs = make_documents(2, 2)
    r = make_result(docs, query=query)
    return log.begin_run(session_id, query, r.instruction, docs, r.chunking, r.aggregate, r.top_k,
                         r.model, FINGERPRINT)


def origin_of(store: Store, session_id: int) -> str | None:
    return store.db.execute("SELECT origin FROM sessions WHERE id = ?", [session_id]).fetchone()[0]


def test_launch_session_name_is_origin_and_local_second():
    assert sessions.launch_session_name("app", datetime(2026, 11, 29, 23, 41, 7, 999_999)) == SECOND
    aware = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone(timedelta(hours=5)))
    local = aware.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert sessions.launch_session_name("score", aware) == f"score {local}"
    now = sessions.launch_session_name("eval")
    assert now.startswith("eval ") and len(now) == len("eval 2026-11-29 23:41:07")


def test_two_launches_in_the_same_second_get_two_sessions(log, store, monkeypatch):
    monkeypatch.setattr(sessions, "launch_session_name", lambda origin, now=None: SECOND)
    launches = [log.create_launch_session("app") for _ in range(3)]
    assert [name for _, name in launches] == [SECOND, f"{SECOND} (2)", f"{SECOND} (3)"]
    assert len({session_id for session_id, _ in launches}) == 3
    assert all(origin_of(store, session_id) == "app" for session_id, _ in launches)


def test_a_launch_without_a_name_never_reuses_a_session(log):
    first, second = log.create_launch_session("score"), log.create_launch_session("score")
    assert first != second and first[1].startswith("score ")


def test_a_named_launch_session_is_reused(log, store):
    session_id, name = log.create_launch_session("app", "  my experiments ")
    assert name == "my experiments"
    assert origin_of(store, session_id) == "app"
    assert log.create_launch_session("app", "my experiments") == (session_id, "my experiments")
    # Reused by another origin, it keeps the origin it was created with.
    assert log.create_launch_session("score", "my experiments") == (session_id, "my experiments")
    assert origin_of(store, session_id) == "app"
    # A session made before origins existed (or by ensure_session) is reused as it is.
    older = log.ensure_session("older")
    assert log.create_launch_session("eval", "older") == (older, "older")
    assert origin_of(store, older) is None
    assert len(log.list_sessions()) == 2


def test_unknown_origin_and_empty_name_are_refused(log):
    with pytest.raises(ValueError, match="unknown session origin"):
        log.create_launch_session("cron")
    with pytest.raises(StoreError, match="cannot be empty"):
        log.create_launch_session("app", "   ")
    assert log.list_sessions() == []


def test_latest_run_of_origin_ignores_other_origins(log):
    assert log.latest_run_of_origin() is None
    first_app, _ = log.create_launch_session("app")
    older = log_run(log, first_app, "app one")
    newer = log_run(log, first_app, "app two")
    score, _ = log.create_launch_session("score")
    newest_score = log_run(log, score, "from score")
    undated = log.ensure_session("no origin")
    log_run(log, undated, "no origin")
    assert log.latest_run_of_origin("app") == newer != older
    assert log.latest_run_of_origin("score") == newest_score
    assert log.latest_run_of_origin("eval") is None

    second_app, _ = log.create_launch_session("app")
    assert log.latest_run_of_origin() == newer  # an app session with no runs yet changes nothing
    running = begin_run(log, second_app, "still scoring")
    assert log.latest_run_of_origin() == running  # whatever its status
    log_run(log, score, "score again")
    assert log.latest_run_of_origin() == running


# -- upgrading a database of the previous version -----------------------------------------------


def previous_version_database(path) -> dict:
    """A database built by the steps before the origin column, holding sessions and runs."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    store = Store(conn, path, 5.0)
    migrate(store, SCHEMA_STEPS[: SESSION_ORIGIN_VERSION - 1])
    assert store.schema_version == SESSION_ORIGIN_VERSION - 1
    log = RunLog(store)
    alpha, day = log.create_session("alpha", notes="n"), log.ensure_session("tests")
    runs = [log_run(log, alpha, "one"), log_run(log, day, "two"), begin_run(log, alpha, "three")]
    expected = {
        "sessions": log.list_sessions(),
        "runs": {r: log.load_run(r) for r in runs},
        "page": log.history_page(),
    }
    store.close()
    return expected


def test_a_previous_version_database_gains_the_origin_column(tmp_path):
    path = tmp_path / "old.db"
    expected = previous_version_database(path)

    readonly = open_store(path, readonly=True)  # read as it is: no column, no upgrade
    assert readonly.schema_version == SESSION_ORIGIN_VERSION - 1
    assert RunLog(readonly).latest_run_of_origin() is None
    assert RunLog(readonly).history_page() == expected["page"]
    readonly.close()

    store = open_store(path)
    log = RunLog(store)
    assert store.schema_version == len(SCHEMA_STEPS)
    assert "origin" in store.db["sessions"].columns_dict
    assert "run_documents_top" in {i.name for i in store.db["run_documents"].indexes}
    assert store.db.execute("SELECT COUNT(*) FROM sessions WHERE origin IS NOT NULL").fetchone()[0] == 0
    assert log.list_sessions() == expected["sessions"]
    assert {r: log.load_run(r) for r in expected["runs"]} == expected["runs"]
    assert log.history_page() == expected["page"]
    assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert log.latest_run_of_origin() is None  # old sessions have no origin

    launch, _ = log.create_launch_session("app")
    run_id = log_run(log, launch, "after the upgrade")
    assert log.latest_run_of_origin() == run_id
    store.close()
