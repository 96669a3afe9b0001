"""The one contract between a workbench session and wherever its runs are written.

Modelled on an adapter contract: a base class whose every method has a working default, so a
recorder overrides only what it can do and says so in its capability flags. The error contract is
the same for all: recording must never stop scoring, so no method raises for a storage problem;
it queues a notice (`notice`) that the session hands to the user (`take_notices`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from workbench.engine.scorer import EmbeddingCache, ScoreCache
from workbench.engine.types import Document, ModelInfo, RankResult
from workbench.store.labels import Label
from workbench.store.runs import text_hash

from .inputs import RunInputs

if TYPE_CHECKING:
    from workbench.store import StoredRun

    from .history import RunHistory


class RunRecorder(ABC):
    records_runs: ClassVar[bool] = False  # begin/finish/discard write something
    caches_scores: ClassVar[bool] = False  # score_cache() returns a persistent cache
    keeps_history: ClassVar[bool] = False  # history() can list, reopen and compare runs
    restores_state: ClassVar[bool] = False  # last_state() can return the previous launch's run
    keeps_labels: ClassVar[bool] = False  # relevance labels outlive the process

    # Labels are kept in memory by default, so labelling works with any recorder.
    _memory_labels: dict[tuple[str, str, int, int], Label]

    def __init__(self) -> None:
        self._notices: list[str] = []
        self._notices_lock = threading.Lock()
        self._memory_labels = {}

    @property
    @abstractmethod
    def description(self) -> str:
        """Where runs go, in a few words for the status line ("not recorded", a file path…)."""

    def score_cache(self) -> ScoreCache | None:
        """A persistent cache to put in front of the model; None keeps scores in memory only."""
        return None

    def embedding_cache(self) -> EmbeddingCache | None:
        """A persistent cache of chunk embeddings, for scorers that embed texts independently of
        the query (Scorer.keep_embeddings_in); None keeps them in memory only."""
        return None

    def begin(self, inputs: RunInputs, model: ModelInfo) -> int | None:
        """Record a run's inputs before it is scored; its id, or None when it is not recorded."""
        return None

    def finish(self, run_id: int | None, result: RankResult) -> None:
        """Record a run's result (called after the user has it: recording never delays display)."""

    def discard(self, run_id: int | None) -> None:
        """Forget a run that was superseded or failed: it is not history."""

    def history(self) -> RunHistory | None:
        """The runs recorded so far, to list, reopen and compare; None when none are kept."""
        return None

    def last_state(self) -> StoredRun | None:
        """The newest run of the previous launch, to start where the user left off."""
        return None

    def labels(self, query: str) -> list[Label]:
        """The relevance labels given for `query` (exact text), any document."""
        return [label for (q, *_), label in self._memory_labels.items() if q == query]

    def set_label(self, query: str, document: Document, start: int, end: int, grade: int | None) -> None:
        """Grade a span of `document` for `query` (0-3); None removes the label."""
        key = (query, text_hash(document.text), start, end)
        if grade is None:
            self._memory_labels.pop(key, None)
        else:
            self._memory_labels[key] = Label(key[1], document.id, start, end, grade)

    def close(self) -> None:
        """Release files and connections; further calls may do nothing."""

    # -- the error contract -----------------------------------------------------------------

    def notice(self, text: str) -> None:
        """Queue a problem for the user (thread-safe); used instead of raising."""
        with self._notices_lock:
            self._notices.append(text)

    def take_notices(self) -> list[str]:
        """The problems queued since the last call."""
        with self._notices_lock:
            taken, self._notices = self._notices, []
        return taken


class NullRecorder(RunRecorder):
    """Records nothing: `--no-log`, tests, or a run log that could not be opened."""

    def __init__(self, why: str = "runs are not recorded") -> None:
        super().__init__()
        self.why = why

    @property
    def description(self) -> str:
        return self.why
