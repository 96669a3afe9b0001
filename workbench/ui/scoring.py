"""One live run, as the UI's scoring worker performs it; free of Textual so it can be unit-tested.

The model and its tokenizer are used by one thread at a time (`model_lock`): a superseded run
still finishing its batch holds the lock until it notices it was cancelled, then the new run
starts. Results are reported through callbacks the worker turns into messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from workbench.engine.ranking import Ranker, RankProgress
from workbench.engine.types import ChunkScore, ChunkSettings, ChunkSpan, Document, RankResult

from .run_logging import RunLog


@dataclass(frozen=True)
class RunInputs:
    """Everything a run depends on, captured on the UI thread when the run is started."""

    generation: int
    query: str
    instruction: str
    documents: tuple[Document, ...]
    chunking: ChunkSettings
    aggregate: str
    top_k: int


@dataclass
class FinishedRun:
    result: RankResult
    run_id: object | None  # the run log's id, when the run was logged


class LiveScorer:
    """Owns the one Ranker of a loaded scorer (its cache persists across runs) and the run log."""

    def __init__(self, ranker: Ranker, log: RunLog | None = None):
        self.ranker = ranker
        self.log = log
        self.model_lock = threading.Lock()

    def run(
        self,
        inputs: RunInputs,
        should_cancel: Callable[[], bool],
        on_start: Callable[[dict[str, list[ChunkSpan]]], None],
        on_scores: Callable[[list[ChunkScore], int, int], None],
        on_notice: Callable[[str], None],
    ) -> FinishedRun | None:
        """Rank; None or a result marked cancelled when superseded. Logs completed runs only."""
        with self.model_lock:
            if should_cancel():
                return None
            spans = {d.id: self.ranker.chunk(d, inputs.chunking) for d in inputs.documents}
            on_start(spans)
            run_id = None
            if self.log is not None:
                run_id, problem = self.log.begin(
                    inputs.query,
                    inputs.instruction,
                    list(inputs.documents),
                    inputs.chunking,
                    inputs.aggregate,
                    inputs.top_k,
                    self.ranker.scorer.info,
                )
                if problem:
                    on_notice(problem)
            # Progress messages carry every score so far, so a newer one can replace an older
            # one still queued (the UI thread never falls behind a fast model).
            so_far: dict[tuple[str, int], ChunkScore] = {}

            def progress(p: RankProgress) -> None:
                for s in p.new:
                    so_far[(s.doc_id, s.chunk.index)] = s
                on_scores(list(so_far.values()), p.done, p.total)

            try:
                result = self.ranker.rank(
                    inputs.query,
                    inputs.instruction,
                    inputs.documents,
                    chunking=inputs.chunking,
                    aggregate=inputs.aggregate,
                    top_k=inputs.top_k,
                    should_cancel=should_cancel,
                    on_progress=progress,
                )
            except Exception:
                self._discard(run_id)
                raise
            if result.cancelled:
                # Superseded by newer typing: not a run anyone asked for, keep the history clean.
                self._discard(run_id)
        return FinishedRun(result, run_id)

    def _discard(self, run_id) -> None:
        if self.log is not None:
            self.log.discard(run_id)

    def finish_log(self, run: FinishedRun) -> str | None:
        """Record a completed run (called after the UI has it, so logging never delays display)."""
        if self.log is None or run.run_id is None or run.result.cancelled:
            return None
        return self.log.finish(run.run_id, run.result)

    def memory_in_use(self) -> int | None:
        try:
            return self.ranker.scorer.memory_in_use()
        except Exception:  # noqa: BLE001 - a figure for the status bar, never worth a failure
            return None
