"""History in the main screen: open the history (F5), reopen a logged run without recomputing it,
and compare the current run with the previous one (F9)."""

from __future__ import annotations

from rich.text import Text
from textual import work

from workbench.session import RunHistory
from workbench.session.labelling import QueryLabels
from workbench.session.tried import instructions_tried
from workbench.store import StoredRun

from .app_parts import AppPart
from .history_messages import ComparePair, StoredRunLoaded, TriedLoaded
from .messages import WorkerNotice
from .screens.compare import CompareScreen
from .screens.history import HistoryScreen
from .screens.tried import TriedScreen
from .widgets.status_bar import StatusBar, short_model_id


class HistoryActions(AppPart):
    """Mixed into WorkbenchApp: reads runs through the session's recorder."""

    def history_or_reason(self) -> RunHistory | str:
        """The recorded runs, or a sentence saying why there is no history."""
        if not self.recorder_ready:
            return "The run log is still opening; history is available in a moment."
        history = self.session.recorder.history()
        if history is None:
            return f"No history: {self.session.recorder.description}. Scoring works as usual."
        return history

    def action_history(self) -> None:
        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen(self.history_or_reason(), self.config.hide_volatile), self._history_closed)

    def _history_closed(self, run_id: int | None) -> None:
        if run_id is not None:
            self.reopen_run(run_id)

    def _history(self) -> RunHistory | None:
        history = self.history_or_reason()
        if isinstance(history, str):
            self.notify(history, title="No history", severity="warning", timeout=10)
            return None
        return history

    # -- reopening ----------------------------------------------------------------------------

    def reopen_run(self, run_id: int) -> None:
        history = self._history()
        if history is not None:
            self.say(f"Reading run #{run_id} from the log…", busy=True)
            self.read_stored_run(history, run_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="reopening a run")
    def read_stored_run(self, history: RunHistory, run_id: int) -> None:
        self.post_message(StoredRunLoaded(history.load(run_id)))

    def on_stored_run_loaded(self, message: StoredRunLoaded) -> None:
        self.show_stored_run(message.run)

    def show_stored_run(self, run: StoredRun) -> None:
        """Put a logged run's inputs back in the editors and its ranking on screen, as logged."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self.workers.cancel_group(self, "score")
        complete = self.session.reopen(run)  # cancels the running run itself
        # The session's settings first: the settings bar's echo of them then changes nothing,
        # so it starts no run.
        self.main.load_inputs(run.query, run.instruction, self.session.settings)
        self.refresh_views()
        if not complete:
            self.say(f"Reopened run #{run.id} ({run.status}: no complete ranking in the log); scoring it now.")
            self.schedule_run(0)
            return
        self.widget(StatusBar).run_done(run.stats, None)
        model = short_model_id(run.model.model_id)
        current = self.session.model
        other = current is not None and model != short_model_id(current.model_id)
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
        history = self._history()
        if history is not None:
            self.find_previous_pair(history, self.session.reopened_run)

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="finding the runs to compare")
    def find_previous_pair(self, history: RunHistory, up_to: int | None) -> None:
        pair = history.previous_pair(up_to)
        if pair is None:
            self.post_message(WorkerNotice("Comparing needs two finished runs in this session; F5 lists them."))
        else:
            self.post_message(ComparePair(*pair))

    def on_compare_pair(self, message: ComparePair) -> None:
        history = self._history()
        if history is not None:
            self.push_screen(CompareScreen(history, message.a, message.b, hide_volatile=self.config.hide_volatile))

    # -- instructions tried -------------------------------------------------------------------

    def action_tried_instructions(self) -> None:
        """Every instruction logged for the query on screen, best first under the labels (F6)."""
        history, shown = self._history(), self.session.shown
        if history is None:
            return
        if shown is None:
            self.notify("Run a query first: the list is of the instructions tried for it.", severity="warning")
            return
        self.say("Reading the instructions tried for this query…", busy=True)
        self.read_tried(history, shown.query, self.session.labels.snapshot(), list(shown.documents))

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="reading the instructions tried")
    def read_tried(self, history: RunHistory, query: str, labels: QueryLabels, documents: list) -> None:
        self.post_message(TriedLoaded(query, instructions_tried(history, query, labels, documents)))

    def on_tried_loaded(self, message: TriedLoaded) -> None:
        self.say(f"{len(message.tried)} instructions tried for this query.")
        if message.tried:
            self.push_screen(TriedScreen(message.query, message.tried), self._tried_chosen)

    def _tried_chosen(self, instruction: str | None) -> None:
        if instruction is not None:
            self.main.use_instruction(instruction)  # an edit: it is scored (from the cache) at once
            self.notify("Instruction restored.", timeout=3)
