"""The headless owner of a workbench session: its state, and every operation on it.

The app, the CLI and tests drive a session through this class alone. State (documents, query,
instruction, settings, the results on screen) changes only through its methods, called from one
thread (the app's event loop, or the CLI's main thread). Scoring runs elsewhere: `start_run`
captures the inputs, `execute` ranks them on any thread and reports through a `RunListener`, and
the owner thread applies what arrives with `accept_*`, which drop anything from a superseded run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from workbench.documents import unique_ids
from workbench.engine.cache import MemoryScoreCache
from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.engine.ranking import PromptView, Ranker, RankProgress
from workbench.engine.scorer import Scorer
from workbench.engine.types import AGGREGATES, ChunkScore, ChunkSettings, ChunkSpan, Document, ModelInfo, RankResult
from workbench.store import StoredRun

from .ab import ABPin
from .history import stored_spans
from .inputs import RunInputs, RunSettings
from .labelling import QueryLabels
from .listener import DirectListener, RunListener
from .recorder import NullRecorder, RunRecorder
from .view_model import ResultsView, ViewOptions, results_view

ChunkKey = tuple[str, int]  # (document id, chunk index)


@dataclass
class Preparation:
    """What `Workbench.prepare` did: documents prepared, and one pass's seconds (None: not timed)."""

    documents: int = 0
    pass_s: float | None = None


class SessionInputError(ValueError):
    """An edit that cannot be applied; the message is for the user."""


class Workbench:
    def __init__(self, settings: RunSettings | None = None, recorder: RunRecorder | None = None, *, query: str = "",
                 instruction: str = DEFAULT_INSTRUCTION, documents: list[Document] | tuple[Document, ...] = ()) -> None:
        self.recorder = recorder or NullRecorder()
        self.settings = settings or RunSettings()
        self.settings_error: str | None = None  # settings typed but not valid: runs wait for a fix
        self.query, self.instruction = query, instruction
        self.documents: list[Document] = unique_ids(list(documents))
        self.edited: set[str] = set()  # documents changed in the app (no longer their file's text)
        self.ranker: Ranker | None = None
        # The model and its tokenizer serve one thread at a time: a superseded run still finishing
        # its batch holds the lock until it notices, then the next run (or prompt view) starts.
        self.model_lock = threading.Lock()
        self.generation = 0  # bumped by every run started or cancelled
        self.running = False
        self.current: RunInputs | None = None  # the latest run started
        self.shown: RunInputs | None = None  # the run whose scores are on screen
        self.spans: dict[str, list[ChunkSpan]] = {}
        self.scores: dict[ChunkKey, ChunkScore] = {}
        self.result: RankResult | None = None  # the last complete run
        self.reopened_run: int | None = None  # the log's id of the run on screen, when reopened
        self.options = ViewOptions()  # sort, filter and selection of the result views
        self.labels, self.ab = QueryLabels(), ABPin()  # grades for the query on screen; pinned A
        self.query_set = None  # judged queries scored in the background (query_set.QuerySet)

    def attach(self, scorer: Scorer) -> None:
        """Score with `scorer` from now on (its cache in front of the recorder's, if any)."""
        self.ranker = Ranker(scorer, cache=MemoryScoreCache(backing=self.recorder.score_cache()))
        scorer.keep_embeddings_in(self.recorder.embedding_cache())

    @property
    def model(self) -> ModelInfo | None:
        return self.ranker.scorer.info if self.ranker is not None else None

    def run_single_threaded_passes(self, wanted: bool) -> bool:
        """Ask the scorer to run every pass of the coming runs on one core of its own, or not
        (Scorer.run_single_threaded_passes); whether it will."""
        return self.ranker is not None and self.ranker.scorer.run_single_threaded_passes(wanted)

    def engine_notes(self) -> list[str]:
        """What the scorer turned off while it ran, and why: a compile that failed, a shared prompt
        head the library refused. Scores are unchanged, only slower; the model's details say so."""
        scorer = self.ranker.scorer if self.ranker is not None else None
        notes = []
        if getattr(scorer, "compile_off_reason", None):
            notes.append(f"compiled forward off, scoring eagerly: {scorer.compile_off_reason}")
        if getattr(scorer, "sharing_off_reason", None):
            notes.append(f"shared prompt head off, scoring whole prompts: {scorer.sharing_off_reason}")
        return notes

    def scorer_activity(self) -> str | None:
        """What makes the running batch slow besides scoring (a compile), or None; any thread."""
        try:  # a status line, never worth a failure
            return self.ranker.scorer.activity() if self.ranker is not None else None
        except Exception:  # noqa: BLE001
            return None

    def memory_in_use(self) -> int | None:
        try:  # a figure for the status bar, never worth a failure
            return self.ranker.scorer.memory_in_use() if self.ranker is not None else None
        except Exception:  # noqa: BLE001
            return None

    def set_query(self, text: str) -> bool:
        changed, self.query = text != self.query, text
        return changed

    def set_instruction(self, text: str) -> bool:
        changed, self.instruction = text != self.instruction, text
        return changed

    def set_settings(self, settings: RunSettings | None, error: str | None = None) -> bool:
        """New settings, or the reason the typed ones cannot be used (runs wait until fixed)."""
        self.settings_error = error if settings is None else None
        changed = settings is not None and settings != self.settings
        self.settings = settings if changed else self.settings
        return changed

    def document(self, doc_id: str) -> Document | None:
        return next((d for d in self.documents if d.id == doc_id), None)

    def set_documents(self, documents: list[Document]) -> None:
        self.documents, self.edited = unique_ids(list(documents)), set()

    def add_documents(self, documents: list[Document]) -> list[Document]:
        """The documents added (ids made unique: a second "notes.md" becomes "notes.md#2")."""
        before = len(self.documents)
        self.documents = unique_ids(self.documents + list(documents))
        return self.documents[before:]

    def replace_text(self, doc_id: str, text: str) -> bool:
        if not text.strip():
            raise SessionInputError("the edited text is empty; the document is unchanged")
        for n, d in enumerate(self.documents):
            if d.id == doc_id and d.text != text:
                self.documents[n] = replace(d, text=text)
                self.edited.add(doc_id)
                return True
        return False

    def remove_document(self, doc_id: str) -> Document | None:
        document = self.document(doc_id)
        if document is None:
            return None
        self.documents = [d for d in self.documents if d.id != doc_id]
        self.edited.discard(doc_id)
        self.options.forget(doc_id)
        self.spans.pop(doc_id, None)
        self.scores = {k: v for k, v in self.scores.items() if k[0] != doc_id}
        return document

    def blocker(self) -> str | None:
        """Why no run can start now, in a sentence for the user; None when one can."""
        if not self.query.strip():
            return "Type a query above to rank the documents (the ranking updates as you type)."
        if not self.documents:
            return "No documents yet: ctrl+o adds a file or folder, ctrl+n pastes text."
        if self.settings_error:
            return f"Fix the settings first: {self.settings_error}"
        return None

    def start_run(self) -> RunInputs | None:
        """Capture the inputs of a new run (superseding any running one); None if it cannot start."""
        if self.ranker is None or self.blocker():
            return None
        self.generation, self.running = self.generation + 1, True
        self.current = RunInputs(self.generation, self.query, self.instruction, tuple(self.documents), self.settings)
        return self.current

    def cancel(self) -> None:
        """Forget the running run: it stops at its next batch and its results are dropped."""
        self.generation, self.running = self.generation + 1, False

    def execute(self, inputs: RunInputs, listener: RunListener, should_cancel: Callable[[], bool] | None = None) -> RankResult | None:
        """Rank `inputs` (on any thread). None when superseded; records completed runs only.

        Raises the engine's errors (RankingInputError, ScoringError) after discarding the run."""
        ranker, recorder = self.ranker, self.recorder
        assert ranker is not None, "attach a scorer first"

        def cancelled() -> bool:
            return self.generation != inputs.generation or (should_cancel is not None and should_cancel())

        with self.model_lock:
            if cancelled():
                return None
            listener.chunked(inputs.generation, {d.id: ranker.chunk(d, inputs.chunking) for d in inputs.documents})
            run_id = recorder.begin(inputs, ranker.scorer.info)
            self._pass_notices(listener)
            # Each report carries every score so far, so a newer one can replace an older one
            # still queued (the UI never falls behind a fast model).
            so_far: dict[ChunkKey, ChunkScore] = {}

            def progress(p: RankProgress) -> None:
                so_far.update(((s.doc_id, s.chunk.index), s) for s in p.new)
                listener.scores(inputs.generation, list(so_far.values()), p.done, p.total)

            try:
                result = ranker.rank(
                    inputs.query, inputs.instruction, inputs.documents, chunking=inputs.chunking,
                    aggregate=inputs.aggregate, top_k=inputs.top_k, should_cancel=cancelled, on_progress=progress,
                )
            except Exception:
                recorder.discard(run_id)  # a run that produced nothing is not history
                raise
        if result.cancelled:
            recorder.discard(run_id)  # superseded by newer typing: not a run anyone asked for
            return None
        listener.finished(inputs.generation, result)
        recorder.finish(run_id, result)  # after the listener has it: recording never delays display
        self._pass_notices(listener)
        return result

    def prepare(self, documents: Sequence[Document], chunking: ChunkSettings, should_stop: Callable[[], bool],
                time_a_pass: bool = True) -> Preparation:
        """Get ready for a first run (on any thread) while none can start yet (no query typed):
        every document chunked and tokenised, so the run starts scoring at once, and, if asked,
        one pass of the model timed (a warm-up, and a measure of the model's speed before any
        run). Stops, between documents, when a run starts or `should_stop` says so. A failure
        stops it quietly: the run meets the same one and reports it."""
        ranker, generation, done = self.ranker, self.generation, Preparation()

        def stop() -> bool:
            return should_stop() or self.generation != generation

        for document in documents:
            if ranker is None or stop():
                break
            # One document at a time (a batch at a time, where preparing means embedding): a run
            # that starts meanwhile waits for that much at most.
            with self.model_lock:
                try:
                    texts = ranker.prepare(document, chunking, stop)
                except Exception:  # noqa: BLE001
                    break
                if time_a_pass and texts and not done.documents:
                    try:
                        done.pass_s = ranker.time_a_pass(texts[0], stop)
                    except Exception:  # noqa: BLE001
                        pass
            done.documents += 1
        return done

    def _pass_notices(self, listener: RunListener) -> None:
        for text in self.recorder.take_notices():
            listener.notice(text)

    def accept_chunked(self, generation: int, spans: dict[str, list[ChunkSpan]]) -> bool:
        if generation != self.generation:
            return False
        self.shown, self.spans, self.scores = self.current, spans, {}
        self.reopened_run = None
        if self.shown is not None and self.shown.query.strip() != self.labels.query:
            self.labels.load(self.recorder, self.shown.query, self.shown.documents)
        self._drop_stale_selection()
        return True

    def accept_scores(self, generation: int, scores: list[ChunkScore]) -> bool:
        if generation != self.generation:
            return False
        self.scores = {(s.doc_id, s.chunk.index): s for s in scores}
        return True

    def accept_finished(self, generation: int, result: RankResult) -> bool:
        if generation != self.generation:
            return False
        self.running, self.result = False, result
        self.scores = {(c.doc_id, c.chunk.index): c for d in result.documents for c in d.chunks}
        return True

    def clear_results(self) -> None:
        self.spans, self.scores, self.options.selected = {}, {}, None

    def run_now(self, should_cancel: Callable[[], bool] | None = None) -> RankResult:
        """Start a run and rank it on this thread: the CLI's path through the same steps."""
        problem = self.blocker() if self.ranker is not None else "no model is loaded"
        if problem:
            raise SessionInputError(problem)
        inputs = self.start_run()
        assert inputs is not None
        listener = DirectListener(self)
        self.execute(inputs, listener, should_cancel)
        if listener.result is None:
            raise SessionInputError("the run was cancelled")
        return listener.result

    def restore_inputs(self, run: StoredRun, keep: frozenset[str] = frozenset()) -> None:
        """Put a logged run's inputs back, except those named in `keep` ("documents", "query",
        "instruction", "chunking", "aggregate", "top_k"): they stay as they are. No scores."""
        self.cancel()
        if "documents" not in keep:
            self.set_documents(list(run.documents))
        self.options = ViewOptions(sort=self.options.sort)
        self.query = self.query if "query" in keep else run.query
        self.instruction = self.instruction if "instruction" in keep else run.instruction
        now, logged = self.settings, run.aggregate if run.aggregate in AGGREGATES else self.settings.aggregate
        try:
            self.settings = RunSettings(now.chunking if "chunking" in keep else run.chunking,
                                        now.aggregate if "aggregate" in keep else logged,
                                        now.top_k if "top_k" in keep else max(1, run.top_k))
        except ValueError:
            pass  # a logged setting this version refuses: keep the current ones
        self.settings_error = None
        self.clear_results()

    def reopen(self, run: StoredRun) -> bool:
        """Show a logged run as it was logged, without recomputing: True when its complete ranking
        is in the log; False when only its inputs are (the caller should score it again)."""
        self.restore_inputs(run)
        return self._show_logged(run)

    def show_logged_if_current(self, run: StoredRun) -> bool:
        """Show a logged run's ranking if it was ranked from exactly the inputs the session has now
        (the same documents with the same texts, query, instruction and chunking): True when shown.
        A relaunch puts its last ranking on screen this way while the model is still loading
        (seconds of library imports on a small CPU); the run that follows replaces it."""
        same = (
            self.settings_error is None
            and (run.query, run.instruction, run.chunking) == (self.query, self.instruction, self.settings.chunking)
            and [(d.id, d.text) for d in run.documents] == [(d.id, d.text) for d in self.documents]
        )
        return same and self._show_logged(run)

    def _show_logged(self, run: StoredRun) -> bool:
        spans = stored_spans(run)
        if spans is None:
            return False
        self.spans = spans
        self.scores = {(c.doc_id, c.chunk.index): c for c in run.chunk_scores}
        self.result = run.to_rank_result()
        self.shown = self.current = RunInputs(
            self.generation, run.query, run.instruction, tuple(self.documents), self.settings
        )
        self.reopened_run = run.id
        self.labels.load(self.recorder, run.query, self.documents)
        return True

    def view(self) -> ResultsView:
        return results_view(self.documents, self.spans, self.scores, self.settings.aggregate,
                            self.settings.top_k, self.options.sort, self.options.doc_filter, self.labels)

    def label(self, doc_id: str, index: int | None, grade: int | None) -> None:
        """Grade chunk `index` of a shown document for the query on screen (index None: the whole
        document); grade None removes the label."""
        document = self.document(doc_id)
        if document is None or not self.labels.query:
            raise SessionInputError("label a chunk of a ranked document (run a query first)")
        span = (0, len(document.text)) if index is None else (self.spans[doc_id][index].start, self.spans[doc_id][index].end)
        self.labels.set(self.recorder, document, *span, grade)

    def select(self, key: ChunkKey | None) -> None:
        self.options.selected = key
        self._drop_stale_selection()

    def _drop_stale_selection(self) -> None:
        key = self.options.selected
        if key and key[1] >= len(self.spans.get(key[0], [])):
            self.options.selected = None

    def chunk_text(self, key: ChunkKey) -> str | None:
        document, spans = self.document(key[0]), self.spans.get(key[0], [])
        return spans[key[1]].text_of(document.text) if document is not None and key[1] < len(spans) else None

    def explain(self, key: ChunkKey) -> PromptView | None:
        """Exactly what the model saw for a shown chunk (blocks while a run holds the model)."""
        text, inputs, ranker = self.chunk_text(key), self.shown, self.ranker
        if text is None or inputs is None or ranker is None:
            return None
        with self.model_lock:
            return ranker.explain(inputs.instruction, inputs.query, text)
