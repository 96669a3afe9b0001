"""The one door from the CLI and the app to the run log: open the store, pick the session, log runs.

A run log that fails (locked, read-only disk) must never stop scoring: failures become warnings
(`warnings`) and the score cache quietly degrades to memory only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .engine.prompt import template_hash
from .engine.types import ChunkSettings, Document, ModelInfo, RankResult
from .store import Presets, RunLog, SqliteScoreCache, Store, StoreError, open_store, run_fingerprint


class _TolerantCache:
    """The SQLite score cache, but a locked or broken database means 'not cached', not an error.

    After the first failure it steps aside for the rest of the process: every further call would
    otherwise wait out the busy timeout again (seconds per run) for nothing.
    """

    def __init__(self, cache: SqliteScoreCache, logger: "RunLogger"):
        self.cache = cache
        self.logger = logger
        self.failed = False

    def get_many(self, fingerprint: str, keys: list[str]) -> dict[str, float]:
        if self.failed:
            return {}
        try:
            return self.cache.get_many(fingerprint, keys)
        except StoreError as e:
            self._give_up(f"score cache unavailable, scores are kept in memory only: {e}")
            return {}

    def put_many(self, fingerprint: str, items: dict[str, float]) -> None:
        if self.failed:
            return
        try:
            self.cache.put_many(fingerprint, items)
        except StoreError as e:
            self._give_up(f"score cache not updated, scores are kept in memory only: {e}")

    def _give_up(self, message: str) -> None:
        self.failed = True
        self.logger.warn(message)


class RunLogger:
    def __init__(self, store: Store, session: str | None = None):
        self.store = store
        self.log = RunLog(store)
        self.notice = store.notice  # e.g. "damaged database set aside"
        self.session_name = session
        self._session_id: int | None = None
        self.warnings: list[str] = []

    @property
    def session_id(self) -> int:
        """Created on first use, so a process that logs nothing leaves no empty session."""
        if self._session_id is None:
            self._session_id = self.log.ensure_session(self.session_name)
        return self._session_id

    @classmethod
    def open(cls, db: Path | str | None = None, session: str | None = None) -> "RunLogger":
        return cls(open_store(Path(db) if db else None), session)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def score_cache(self) -> _TolerantCache:
        return _TolerantCache(SqliteScoreCache(self.store), self)

    def presets(self) -> Presets:
        return Presets(self.store)

    def begin(
        self,
        query: str,
        instruction: str,
        documents: Sequence[Document],
        chunking: ChunkSettings,
        aggregate: str,
        top_k: int,
        model: ModelInfo,
    ) -> int | None:
        """Record the run's inputs before scoring (kept even if the process dies); None on failure."""
        try:
            return self.log.begin_run(
                self.session_id, query, instruction, list(documents), chunking, aggregate, top_k, model,
                run_fingerprint(template_hash()),
            )
        except StoreError as e:
            self.warn(f"run not logged: {e}")
            return None

    def finish(self, run_id: int | None, result: RankResult) -> None:
        if run_id is None:
            return
        try:
            self.log.finish_run(run_id, result)
        except StoreError as e:
            self.warn(f"run {run_id} scores not logged: {e}")

    def discard(self, run_id: int | None) -> None:
        """Forget a run superseded before it finished (live typing); a crash keeps it instead."""
        if run_id is None:
            return
        try:
            self.log.delete_run(run_id)
        except StoreError as e:
            self.warn(f"run {run_id} could not be discarded: {e}")

    def close(self) -> None:
        self.store.close()
