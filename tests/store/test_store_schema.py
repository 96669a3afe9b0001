"""Schema creation, versioned upgrades, pragmas, and the headless-import rule."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from workbench import paths
from workbench.store import StoreVersionError, open_store
from workbench.store import schema
from workbench.store.migration import migrate
from workbench.store.schema import SCHEMA_STEPS

TABLES = {"sessions", "documents", "chunks", "runs", "run_documents", "chunk_scores",
          "score_cache", "instruction_presets"}


def test_paths_follow_env(data_dir, tmp_path):
    assert paths.data_dir() == data_dir
    assert paths.default_db_path() == data_dir / "workbench.db"
    assert paths.config_file_path() == tmp_path / "config" / "config.toml"


def test_fresh_database_gets_latest_schema(store, data_dir):
    assert store.path == data_dir / "workbench.db"  # parent dir was created
    assert store.schema_version == len(SCHEMA_STEPS)
    assert TABLES <= set(store.db.table_names())
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.notice is None
    indexes = {i.name for i in store.db["runs"].indexes}
    assert {"runs_by_session", "runs_by_time"} <= indexes


def test_upgrade_from_version_zero(tmp_path):
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode = WAL")  # an SQLite file with nothing in it yet
    raw.close()
    assert path.stat().st_size > 0
    store = open_store(path)
    assert store.schema_version == len(SCHEMA_STEPS)
    assert TABLES <= set(store.db.table_names())
    store.close()
    # Reopening runs no step again (a second CREATE TABLE would fail).
    open_store(path).close()


def test_added_step_runs_once_in_order(tmp_path):
    path = tmp_path / "w.db"
    open_store(path).close()
    calls = []

    def v2(db):
        calls.append("v2")
        db.execute("ALTER TABLE sessions ADD COLUMN colour TEXT")

    store = open_store(path)
    migrate(store, [*SCHEMA_STEPS, v2])
    migrate(store, [*SCHEMA_STEPS, v2])
    assert calls == ["v2"]
    assert store.schema_version == len(SCHEMA_STEPS) + 1
    assert "colour" in store.db["sessions"].columns_dict
    store.close()


def test_failed_step_rolls_back_with_its_version(tmp_path):
    path = tmp_path / "w.db"
    store = open_store(path)

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        migrate(store, [*SCHEMA_STEPS, broken])
    assert store.schema_version == len(SCHEMA_STEPS)
    assert "half_done" not in store.db.table_names()
    store.close()


def test_newer_schema_is_refused_clearly(tmp_path, monkeypatch):
    path = tmp_path / "w.db"
    open_store(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {len(SCHEMA_STEPS) + 5}")
    raw.close()
    with pytest.raises(StoreVersionError, match="newer than this workbench understands"):
        open_store(path)


def test_defaults_seeded_once(store):
    assert store.db["instruction_presets"].count == len(schema.DEFAULT_PRESETS)


def test_store_never_imports_textual_or_torch():
    code = (
        "import sys\n"
        "import workbench.paths, workbench.store, workbench.cli_sessions\n"
        "import workbench.store.runs, workbench.store.score_cache, workbench.store.presets\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'torch'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
