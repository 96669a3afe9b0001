"""The run log must never stop scoring: a failing score cache degrades to memory, once."""

from __future__ import annotations

from workbench.runlog import RunLogger
from workbench.store import StoreBusyError


class _LockedCache:
    def __init__(self):
        self.calls = 0

    def get_many(self, fingerprint, keys):
        self.calls += 1
        raise StoreBusyError("database x is locked by another process; waited 5 s")

    put_many = get_many


def test_a_locked_score_cache_is_skipped_after_the_first_failure(tmp_path):
    logger = RunLogger.open(tmp_path / "wb.db")
    cache = logger.score_cache()
    locked = cache.cache = _LockedCache()
    assert cache.get_many("fp", ["a", "b"]) == {}
    cache.put_many("fp", {"a": 1.0})
    assert cache.get_many("fp", ["a"]) == {}
    assert locked.calls == 1  # no second wait on the busy timeout
    assert len(logger.warnings) == 1 and "kept in memory only" in logger.warnings[0]
