"""History in the main screen: open the history (F5), reopen a logged run without recomputing it,
and compare the current run with the previous one (F9)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.widgets import Input, Select, TextArea

from workbench.engine.types import AGGREGATES, ChunkSpan
from workbench.store import StoredRun

from .history_messages import ComparePair, StoredRunLoaded
from .history_source import HistorySource, find_source
from .messages import WorkerNotice
from .scoring import RunInputs
from .screens.compare import CompareScreen
from .screens.history import HistoryScreen
from .widgets.status_bar import StatusBar, short_model_id


def stored_spans(run: StoredRun) -> dict[str, list[ChunkSpan]] | None:
    """Every document's chunks in order, as logged; None when the log lacks some of them."""
    spans: dict[str, list[ChunkSpan]] = {d.id: [] for d in run.documents}
    for c in sorted(run.chunk_scores, key=lambda c: c.chunk.index):
        spans.setdefault(c.doc_id, []).append(c.chunk)
    complete = all(s.index == i for chunks in spans.values() for i, s in enumerate(chunks))
    return spans if complete and run.status == "done" and run.chunk_scores else None


class HistoryActions:
    """Mixed into WorkbenchApp; uses its state (documents, spans, scores, result) and widgets."""

    reopened: tuple[int, object] | None = None  # (run id, the result shown for it)

    def action_history(self) -> None:
        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen(find_source(self), self.config.hide_volatile), self._history_closed)

    def _history_closed(self, run_id: int | None) -> None:
        if run_id is not None:
            self.reopen_run(run_id)

    def _source(self) -> HistorySource | None:
        source = find_source(self)
        if isinstance(source, str):
            self.notify(source, title="No history", severity="warning", timeout=10)
            return None
        return source

    # -- reopening ----------------------------------------------------------------------------

    def reopen_run(self, run_id: int) -> None:
        source = self._source()
        if source is not None:
            self.say(f"Reading run #{run_id} from the log…", busy=True)
            self.read_stored_run(source, run_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="reopening a run")
    def read_stored_run(self, source: HistorySource, run_id: int) -> None:
        self.post_message(StoredRunLoaded(source.load(run_id)))

    def on_stored_run_loaded(self, message: StoredRunLoaded) -> None:
        self.show_stored_run(message.run)

    def show_stored_run(self, run: StoredRun) -> None:
        """Put a logged run's inputs back in the editors and its ranking on screen, as logged."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self.cancel_run()
        self.documents, self.edited = list(run.documents), set()
        self.selected = self.doc_filter = None
        # The app's settings first: the settings bar's echo of the new values then changes
        # nothing, so it starts no run.
        aggregate = run.aggregate if run.aggregate in AGGREGATES else self.aggregate  # from another version?
        self.chunking, self.aggregate, self.top_k, self.settings_error = run.chunking, aggregate, run.top_k, None
        self.main.query_one("#chunk-tokens", Input).value = str(run.chunking.tokens)
        self.main.query_one("#chunk-overlap", Input).value = str(run.chunking.overlap)
        self.main.query_one("#top-k", Input).value = str(run.top_k)
        self.main.query_one("#aggregate", Select).value = aggregate
        with self.prevent(TextArea.Changed):  # not an edit: no run starts
            self.main.query_one("#query", TextArea).load_text(run.query)
            self.main.query_one("#instruction", TextArea).load_text(run.instruction)
        spans = stored_spans(run)
        if spans is None:
            self._clear_results()
            self.say(f"Reopened run #{run.id} ({run.status}: no complete ranking in the log); scoring it now.")
            self.schedule_run(0)
            return
        self.spans, self.scores_generation = spans, self.generation
        self.scores = {(c.doc_id, c.chunk.index): c for c in run.chunk_scores}
        self.result = run.to_rank_result()
        self.shown_inputs = self.current_inputs = RunInputs(
            self.generation, run.query, run.instruction, tuple(self.documents), run.chunking, aggregate, run.top_k
        )
        self.reopened = (run.id, self.result)
        self.widget(StatusBar).run_done(run.stats, None)
        self._refresh_views()
        model = short_model_id(run.model.model_id)
        other = self.scorer is not None and model != short_model_id(self.scorer.info.model_id)
        self.say(
            Text.assemble(
                (f"Reopened run #{run.id}", "bold"),
                f" from the log: {len(run.documents)} documents, {len(run.chunk_scores)} chunks, not recomputed"
                + (f" (scored by {model})" if other else "") + ". Edits score again.",
            )
        )

    # -- comparing ----------------------------------------------------------------------------

    def action_compare_previous(self) -> None:
        """The run on screen (the newest logged one, or a reopened one) against the one before it."""
        source = self._source()
        if source is None:
            return
        up_to = self.reopened[0] if self.reopened and self.reopened[1] is self.result else None
        self.find_previous_pair(source, up_to)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="finding the runs to compare")
    def find_previous_pair(self, source: HistorySource, up_to: int | None) -> None:
        pair = source.previous_pair(up_to)
        if pair is None:
            self.post_message(WorkerNotice("Comparing needs two finished runs in this session; F5 lists them."))
        else:
            self.post_message(ComparePair(*pair))

    def on_compare_pair(self, message: ComparePair) -> None:
        source = find_source(self)
        if not isinstance(source, str):
            self.push_screen(CompareScreen(source, message.a, message.b, hide_volatile=self.config.hide_volatile))
