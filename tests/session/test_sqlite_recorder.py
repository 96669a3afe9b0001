"""The SQLite recorder keeps the recorder contract: a store problem is a notice, never a failure."""

from __future__ import annotations

import pytest

from workbench.engine.types import ChunkSettings
from workbench.session import RunSettings, Workbench
from workbench.session.sqlite_recorder import SqliteRecorder, open_recorder
from workbench.store import StoreBusyError, open_store


class _LockedCache:
    def __init__(self):
        self.calls = 0

    def get_many(self, fingerprint, keys):
        self.calls += 1
        raise StoreBusyError("database x is locked by another process; waited 5 s")

    put_many = get_many


@pytest.mark.parametrize("which, what", [("score_cache", "score cache"), ("embedding_cache", "embedding cache")])
def test_a_locked_cache_is_skipped_after_the_first_failure(tmp_path, which, what):
    recorder = SqliteRecorder(open_store(tmp_path / "wb.db"), origin="score")
    cache = getattr(recorder, which)()
    locked = cache.cache = _LockedCache()
    assert cache.get_many("fp", ["a", "b"]) == {}
    cache.put_many("fp", {"a": 1.0})
    assert cache.get_many("fp", ["a"]) == {}
    assert locked.calls == 1  # no second wait on the busy timeout
    notices = recorder.take_notices()
    assert len(notices) == 1 and "kept in memory only" in notices[0] and notices[0].startswith(what)
    assert recorder.take_notices() == []


def test_an_unopenable_database_gives_a_null_recorder_with_the_reason(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    recorder = open_recorder(blocker / "runs.db", origin="app")
    assert not recorder.records_runs and recorder.history() is None
    assert "could not be opened" in recorder.description
    assert any("run log unavailable" in n for n in recorder.take_notices())


def test_each_launch_records_into_its_own_session_and_the_last_one_is_restored(tiny_scorer, documents, tmp_path):
    db = tmp_path / "runs.db"
    for query in ("first launch", "second launch"):
        recorder = open_recorder(db, origin="app")
        wb = Workbench(RunSettings(ChunkSettings(24, 4)), recorder, query=query, documents=documents)
        wb.attach(tiny_scorer)
        wb.run_now()
        recorder.close()
    script = open_recorder(db, origin="score")  # a script run afterwards is not the app's state
    wb = Workbench(RunSettings(), script, query="from a script", documents=documents[:1])
    wb.attach(tiny_scorer)
    wb.run_now()
    later = open_recorder(db, origin="app")
    history = later.history()
    sessions = {row.session_name for row in history.page(all_sessions=True).rows}
    assert len(sessions) == 3
    last = later.last_state()
    assert last.query == "second launch" and [d.id for d in last.documents] == [d.id for d in documents]
    restored = Workbench()
    restored.restore_inputs(last)
    assert restored.query == "second launch" and restored.settings.chunking == ChunkSettings(24, 4)
    assert restored.reopen(last) and restored.result is not None and restored.reopened_run == last.id
