"""The database file and its neighbours: a --db naming someone else's file is refused and left
byte-for-byte as it was; read-only commands create nothing and work on read-only media and
beside a writer; what we create is private to the user."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from store_factories import FINGERPRINT, make_documents, make_result
from typer.testing import CliRunner

from workbench.cli_sessions import sessions_app
from workbench.store import ForeignFileError, RunLog, open_store

REPO = Path(__file__).parent.parent.parent

app = typer.Typer()
app.add_typer(sessions_app)
runner = CliRunner()


def listing(dir_: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in dir_.iterdir() if p.is_file()}


def filled_db(path: Path) -> Path:
    store = open_store(path)
    log = RunLog(store)
    docs = make_documents(2, 2)
    log.log_result(log.create_session("kept"), docs, make_result(docs, query="q1"), FINGERPRINT)
    store.close()
    return path


def notes_file(tmp_path: Path) -> Path:
    path = tmp_path / "some_notes.md"
    path.write_text("# my notes\n\nnot a database\n", encoding="utf-8")
    return path


def other_programs_sqlite(tmp_path: Path, user_version: int = 0) -> Path:
    path = tmp_path / "contacts.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('Ada', '123')")
    conn.execute(f"PRAGMA user_version = {user_version}")  # 1: as if at our first step
    conn.commit()
    conn.close()
    return path


# -- files that are not ours ----------------------------------------------------------------


@pytest.mark.parametrize("make", [notes_file, other_programs_sqlite,
                                  lambda tmp: other_programs_sqlite(tmp, user_version=1)])
@pytest.mark.parametrize("command", [["list"], ["show", "1"], ["export"], ["delete", "1", "--yes"]])
def test_a_file_that_is_not_ours_is_refused_and_left_untouched(tmp_path, make, command):
    path = make(tmp_path)
    before = listing(tmp_path)
    result = runner.invoke(app, ["sessions", *command, "--db", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {path} is not a workbench database")
    assert "left untouched" in result.stderr and "Traceback" not in result.output
    assert listing(tmp_path) == before  # same files, same bytes: nothing renamed, nothing added


@pytest.mark.parametrize("make", [notes_file, other_programs_sqlite])
def test_opening_a_file_that_is_not_ours_for_writing_is_refused(tmp_path, make):
    path = make(tmp_path)
    before = listing(tmp_path)
    with pytest.raises(ForeignFileError, match="left untouched"):
        open_store(path)
    assert listing(tmp_path) == before


# -- read-only commands -----------------------------------------------------------------------


def test_read_only_commands_on_a_missing_database_create_nothing(tmp_path, data_dir):
    result = runner.invoke(app, ["sessions", "list"])
    assert result.exit_code == 0, result.output
    assert "No runs yet" in result.stdout and str(data_dir / "workbench.db") in result.stdout
    result = runner.invoke(app, ["sessions", "export", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "no runs yet" in result.stderr
    assert not data_dir.exists() and not (tmp_path / "none.db").exists()


def test_read_only_commands_list_while_another_process_holds_the_write_lock(tmp_path, monkeypatch):
    db = filled_db(tmp_path / "w.db")
    monkeypatch.setenv("WORKBENCH_DB_TIMEOUT", "0.2")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO sessions (name, created_at) VALUES ('uncommitted', 'now')")
    try:
        listed = runner.invoke(app, ["sessions", "list", "--db", str(db)])
        shown = runner.invoke(app, ["sessions", "show", "1", "--db", str(db)])
        exported = runner.invoke(app, ["sessions", "export", "--db", str(db)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert listed.exit_code == 0, listed.output
    assert "kept" in listed.stdout and "uncommitted" not in listed.stdout
    assert shown.exit_code == 0 and "q1" in shown.stdout
    assert exported.exit_code == 0 and '"query": "q1"' in exported.stdout


def _read_only_runner() -> list[str] | None:
    """How to run a command with a directory read-only: chmod does it for a user, not for root,
    whom a read-only bind mount in a private mount namespace stops instead."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("unshare"):
        return None
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return ["unshare", "-m"] if probe.returncode == 0 else None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions and mounts")
def test_read_only_commands_work_on_read_only_media(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    db = filled_db(media / "runs.db")
    assert sorted(p.name for p in media.iterdir()) == ["runs.db"]  # closed cleanly: no -wal/-shm
    before = listing(media)
    prefix = _read_only_runner()
    if prefix is None:
        pytest.skip("running as root without a way to mount read-only")
    command = [sys.executable, "-m", "workbench.cli", "sessions", "list", "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if prefix:  # root: remount the directory read-only, then run the command in there
        mount = f"mount --bind {media} {media} && mount -o remount,bind,ro {media}"
        script = f'{mount} && touch {media}/probe 2>/dev/null && exit 99; exec "$@"'
        command = [*prefix, "sh", "-c", script, "sh", *command]
    else:
        db.chmod(0o444)
        media.chmod(0o555)
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    finally:
        media.chmod(0o755)
        db.chmod(0o644)
    assert result.returncode != 99, "the directory was still writable"
    assert result.returncode == 0, result.stderr
    assert "kept" in result.stdout and "Traceback" not in result.stderr
    assert listing(media) == before


# -- what we create is private ----------------------------------------------------------------


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual default, under which files come out world-readable
    yield
    os.umask(old)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_created_directories_are_0700_and_the_database_0600(data_dir, umask_022):
    store = open_store()  # creates data_dir
    RunLog(store).ensure_session("s")
    for name in ("workbench.db", "workbench.db-wal", "workbench.db-shm"):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    store.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_an_existing_directory_keeps_its_mode(tmp_path, umask_022):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    db = shared / "deeper" / "runs.db"
    open_store(db).close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the user's choice
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700  # ours: we made it
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
