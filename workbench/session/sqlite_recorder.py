"""Runs recorded in the SQLite run log, with the persistent score cache.

A locked, read-only or damaged database must never stop scoring: every failure becomes a notice
(see recorder.py), the run goes unrecorded, and the score cache quietly falls back to memory.
"""

from __future__ import annotations

import threading
from pathlib import Path

from workbench.engine.prompt import template_hash
from workbench.engine.types import Document, ModelInfo, RankResult
from workbench.store import RunLog, SqliteEmbeddingCache, SqliteScoreCache, Store, StoredRun, StoreError, open_store, run_fingerprint
from workbench.store.history import session_named
from workbench.store.labels import Label, labels_for, set_label
from workbench.store.runs import text_hash
from workbench.store.sessions import create_launch_session, latest_run_of_origin

from .history import RunHistory
from .inputs import RunInputs
from .recorder import NullRecorder, RunRecorder


class _TolerantCache:
    """A SQLite cache (scores, or embeddings), but a locked or broken database means 'not
    cached', not an error.

    After the first failure it steps aside for the rest of the process: every further call would
    otherwise wait out the busy timeout again (seconds per run) for nothing.
    """

    def __init__(self, cache: SqliteScoreCache | SqliteEmbeddingCache, recorder: RunRecorder,
                 what: str = "score cache", kept: str = "scores"):
        self.cache = cache
        self.recorder = recorder
        self.what, self.kept = what, kept
        self.failed = False

    def get_many(self, fingerprint: str, keys: list[str]) -> dict:
        if self.failed:
            return {}
        try:
            return self.cache.get_many(fingerprint, keys)
        except StoreError as e:
            self._give_up(f"{self.what} unavailable, {self.kept} are kept in memory only: {e}")
            return {}

    def put_many(self, fingerprint: str, items: dict) -> None:
        if self.failed:
            return
        try:
            self.cache.put_many(fingerprint, items)
        except StoreError as e:
            self._give_up(f"{self.what} not updated, {self.kept} are kept in memory only: {e}")

    def _give_up(self, message: str) -> None:
        self.failed = True
        self.recorder.notice(message)


class SqliteRecorder(RunRecorder):
    """Writes runs into one session: a new one per launch (named after the origin and the time),
    or the session called `session` when one is named."""

    records_runs = True
    caches_scores = True
    keeps_history = True
    restores_state = True
    keeps_labels = True

    def __init__(self, store: Store, *, origin: str, session: str | None = None, log_runs: bool = True,
                 cache_scores: bool = True) -> None:
        super().__init__()
        self.store = store
        self.log = RunLog(store)
        self.origin = origin
        self.session_name = session
        self.session_id: int | None = None  # created with the first recorded run
        self.log_runs, self.cache_scores = log_runs, cache_scores
        self._lock = threading.Lock()  # one store call at a time from the scoring threads
        if store.notice:
            self.notice(store.notice)

    @property
    def description(self) -> str:
        name = self.session_name or "a new session"
        return f"runs recorded in {self.store.path} ({name})"

    def _session(self) -> int:
        """Created on first use, so a launch that records nothing leaves no empty session."""
        if self.session_id is None:
            self.session_id, self.session_name = create_launch_session(self.store, self.origin, self.session_name)
        return self.session_id

    def current_session(self) -> tuple[int | None, str]:
        with self._lock:
            if self.session_id is None and self.session_name is not None:
                return session_named(self.store, self.session_name), self.session_name
            return self.session_id, self.session_name or "(nothing recorded yet)"

    def score_cache(self) -> _TolerantCache | None:
        return _TolerantCache(SqliteScoreCache(self.store), self) if self.cache_scores else None

    def embedding_cache(self) -> _TolerantCache | None:
        if not self.cache_scores:
            return None
        return _TolerantCache(SqliteEmbeddingCache(self.store), self, "embedding cache", "chunk embeddings")

    def begin(self, inputs: RunInputs, model: ModelInfo) -> int | None:
        if not self.log_runs:
            return None
        try:
            with self._lock:
                return self.log.begin_run(
                    self._session(), inputs.query, inputs.instruction, list(inputs.documents),
                    inputs.chunking, inputs.aggregate, inputs.top_k, model, run_fingerprint(template_hash(), **_served_by(model)),
                )
        except StoreError as e:
            self.notice(f"run log: this run is not recorded ({e})")
            return None

    def finish(self, run_id: int | None, result: RankResult) -> None:
        if run_id is None:
            return
        try:
            with self._lock:
                self.log.finish_run(run_id, result)
        except StoreError as e:
            self.notice(f"run log: the scores of run {run_id} are not recorded ({e})")

    def discard(self, run_id: int | None) -> None:
        if run_id is None:
            return
        try:
            with self._lock:
                self.log.delete_run(run_id)
        except StoreError as e:
            self.notice(f"run log: run {run_id} could not be discarded ({e})")

    def history(self) -> RunHistory:
        return RunHistory(self.store, self.current_session)

    def last_state(self) -> StoredRun | None:
        try:
            run_id = latest_run_of_origin(self.store, self.origin)
            return self.log.load_run(run_id) if run_id is not None else None
        except StoreError as e:
            self.notice(f"run log: the last session could not be restored ({e})")
            return None

    def labels(self, query: str) -> list[Label]:
        try:
            return labels_for(self.store, query)
        except StoreError as e:
            self.notice(f"run log: labels could not be read ({e}); showing those of this launch")
            return super().labels(query)

    def set_label(self, query: str, document: Document, start: int, end: int, grade: int | None) -> None:
        super().set_label(query, document, start, end, grade)  # kept in memory whatever happens
        try:
            set_label(self.store, query, text_hash(document.text), document.id, start, end, grade)
        except StoreError as e:
            self.notice(f"run log: the label is kept for this launch only ({e})")

    def close(self) -> None:
        self.store.close()


def open_recorder(db: Path | str | None, *, origin: str, session: str | None = None, log_runs: bool = True,
                  cache_scores: bool = True) -> RunRecorder:
    """The SQLite recorder, or a NullRecorder carrying the reason when the store cannot be used."""
    if not (log_runs or cache_scores):
        return NullRecorder("runs are not recorded (--no-log --no-cache)")
    try:
        store = open_store(Path(db) if db else None)
    except StoreError as e:
        recorder = NullRecorder("runs are not recorded: the run log could not be opened")
        recorder.notice(f"run log unavailable, runs are not recorded ({e})")
        return recorder
    return SqliteRecorder(store, origin=origin, session=session, log_runs=log_runs, cache_scores=cache_scores)


def _served_by(model) -> dict:
    """A rerank server's identity, kept with the run (the runs table has no column for it)."""
    return {"backend": model.backend, "backend_identity": model.backend_identity} if model.backend else {}
