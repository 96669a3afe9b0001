"""The session store: runs, sessions, score cache and presets in one SQLite file.

Headless: nothing here imports Textual or torch (a test checks), so the CLI and scripts use it
as freely as the UI does.
"""

from workbench.store.compare import RunComparison, kendall_tau_b
from workbench.store.database import Store, open_store
from workbench.store.errors import (
    ForeignFileError,
    NoDatabaseError,
    NotFoundError,
    PresetNotFoundError,
    RunNotFoundError,
    SessionNotFoundError,
    StoreBusyError,
    StoreCorruptError,
    StoreError,
    StoreVersionError,
)
from workbench.store.fingerprint import run_fingerprint
from workbench.store.presets import Preset, Presets
from workbench.store.history import HistoryRow
from workbench.store.records import SessionInfo, StoredRun
from workbench.store.runs import RunLog
from workbench.store.score_cache import SqliteScoreCache
from workbench.store.embedding_cache import SqliteEmbeddingCache

__all__ = [
    "ForeignFileError",
    "HistoryRow",
    "NoDatabaseError",
    "NotFoundError",
    "Preset",
    "Presets",
    "PresetNotFoundError",
    "RunComparison",
    "RunLog",
    "RunNotFoundError",
    "SessionInfo",
    "SessionNotFoundError",
    "SqliteEmbeddingCache",
    "SqliteScoreCache",
    "Store",
    "StoreBusyError",
    "StoreCorruptError",
    "StoreError",
    "StoreVersionError",
    "StoredRun",
    "kendall_tau_b",
    "open_store",
    "run_fingerprint",
]
