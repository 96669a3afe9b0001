"""The workbench app: loads the model in the background, scores live as the user edits, shows it.

State lives here; widgets only display it. Model work runs in thread workers that post typed
messages (messages.py); every run carries a generation number and stale ones are dropped.
"""

from __future__ import annotations

from pathlib import Path
from time import perf_counter
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.timer import Timer
from textual.widgets import TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from workbench.documents import unique_ids
from workbench.engine.cache import MemoryScoreCache
from workbench.engine.loading import ModelLoadError, load_scorer
from workbench.engine.ranking import Ranker, RankingInputError
from workbench.engine.scorer import Scorer, ScoringError
from workbench.engine.types import ChunkScore, ChunkSpan, Document, RankResult

from .commands import WorkbenchCommands
from .config import WorkbenchConfig
from .cpu import reserve_a_core_for_the_ui
from .document_actions import DocumentActions
from .help_actions import HelpAndPalette
from .history_actions import HistoryActions
from .messages import ModelLoaded, ModelLoadProgress, RunFinished, RunProgress, RunStarted, WorkerNotice
from .output_actions import OutputActions
from .presets import InstructionPresets, PresetError, StorePresets
from .run_logging import RunLog, open_run_log
from .screens.help import FALLBACK_BANNER
from .screens.main import MainScreen
from .scoring import LiveScorer, RunInputs
from .views import ViewUpdates
from .widgets.run_line import RunLine
from .widgets.settings_bar import SettingsBar
from .widgets.status_bar import StatusBar

__all__ = ["WorkbenchApp", "WorkbenchConfig"]

USER_ERRORS = (ModelLoadError, ScoringError, RankingInputError, PresetError, OSError, ValueError)


class WorkbenchApp(ViewUpdates, DocumentActions, OutputActions, HistoryActions, HelpAndPalette, App[None]):
    CSS_PATH = Path(__file__).parent / "workbench.tcss"  # absolute: subclasses live elsewhere
    TITLE = "rerank workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        config: WorkbenchConfig,
        *,
        scorer: Scorer | None = None,
        run_logger: Any = None,
        presets: InstructionPresets | None = None,
    ) -> None:
        """`scorer` skips loading (tests, benchmarks); `run_logger` replaces opening `config.db`."""
        super().__init__()
        self.config = config
        self.documents: list[Document] = unique_ids(list(config.documents))
        self.edited: set[str] = set()
        self.chunking, self.aggregate, self.top_k = config.chunking, config.aggregate, config.top_k
        self.settings_error: str | None = None
        self.presets: InstructionPresets = presets or StorePresets(config.db)
        self._preloaded, self._run_logger = scorer, run_logger
        self.scorer: Scorer | None = None
        self.live: LiveScorer | None = None
        self.model_state = "loading"  # loading | loaded | failed
        self.generation = 0
        self.current_inputs: RunInputs | None = None  # of the latest run started
        self.shown_inputs: RunInputs | None = None  # of the run whose scores are on screen
        self.running = False
        self.spans: dict[str, list[ChunkSpan]] = {}
        self.scores: dict[tuple[str, int], ChunkScore] = {}
        self.scores_generation = 0  # the run `spans` and `scores` belong to
        self.result: RankResult | None = None  # the last complete run
        self.selected: tuple[str, int] | None = None
        self.sort, self.doc_filter = "score", None
        self._debounce: Timer | None = None
        self._refresh_timer: Timer | None = None
        self._last_refresh = 0.0
        self._score_worker: Worker | None = None
        # perf_counter() marks, read by benchmarks/ui_latency.py
        self.last_edit_at: float | None = None
        self.timeline: dict[str, float] = {}

    # -- start-up -----------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        self.main = MainScreen()
        return self.main

    def start(self) -> None:
        """Called once the main screen is mounted: show what we have, start loading the model."""
        for problem in self.config.problems:
            self.notify(problem, title="Skipped", severity="warning", timeout=10)
        self._refresh_documents()
        self._refresh_views()
        name = self.config.load_options.model or "Qwen/Qwen3-Reranker-0.6B (offline fallback if unavailable)"
        self.widget(StatusBar).loading(name)
        self.say(f"Loading {name}… you can edit meanwhile.", busy=True)
        self.load_model()

    def widget(self, kind: type, selector: str | None = None):
        return self.main.query_one(selector or kind, kind)

    def say(self, message: str | Text, *, busy: bool = False, scoring: bool = False) -> None:
        self.widget(RunLine).say(message, busy=busy, scoring=scoring)

    @work(thread=True, exclusive=True, exit_on_error=False, group="model", name="model loading")
    def load_model(self) -> None:
        def progress(text: str) -> None:
            self.post_message(ModelLoadProgress(text))

        scorer = self._preloaded or load_scorer(self.config.load_options, progress)
        if scorer.info.device == "cpu":
            reserve_a_core_for_the_ui()
        if self._run_logger is not None:
            log, notices = RunLog(self._run_logger), []
            if getattr(self._run_logger, "notice", None):
                notices.append(str(self._run_logger.notice))
        else:
            progress("opening the run log")
            log, notices = open_run_log(self.config.db, self.config.session)
        backing = log.score_cache() if log else None
        live = LiveScorer(Ranker(scorer, cache=MemoryScoreCache(backing=backing)), log)
        self.post_message(ModelLoaded(scorer, live, notices, live.memory_in_use()))

    def action_reload_model(self) -> None:
        if self.model_state == "loading":
            return
        self.model_state, self.scorer, self.live = "loading", None, None
        self.widget(StatusBar).loading(self.config.load_options.model or "default reranker")
        self.say("Loading the model again…", busy=True)
        self.load_model()

    def on_model_load_progress(self, message: ModelLoadProgress) -> None:
        if self.model_state == "loading":
            self.say(message.text + "…", busy=True)

    def on_model_loaded(self, message: ModelLoaded) -> None:
        self.scorer, self.live, self.model_state = message.scorer, message.live, "loaded"
        info = message.scorer.info
        self.widget(StatusBar).loaded(info, message.memory)
        banner = self.main.query_one("#fallback-banner")
        banner.set_class(info.is_fallback, "-visible")
        if info.is_fallback:
            # Short lines that read completely at 80 columns; the reason goes to a notice and F1.
            banner.update(Text("\n".join(FALLBACK_BANNER), no_wrap=True, overflow="ellipsis"))
            self.notify(
                f"{info.fallback_reason or 'no reranker could be loaded'}. Scores are cosine similarity, "
                "not probabilities; the instruction is ignored.",
                title="Offline fallback in use",
                severity="warning",
                timeout=15,
            )
        for notice in message.notices:
            self.notify(notice, title="Run log", severity="warning", timeout=10)
        self.say("Model ready.")
        self.start_run()

    # -- live scoring -------------------------------------------------------------------------

    @on(TextArea.Changed, "#query, #instruction")
    def _prompt_edited(self) -> None:
        self.last_edit_at = perf_counter()
        self.schedule_run()

    @on(SettingsBar.Changed)
    def _settings_edited(self, event: SettingsBar.Changed) -> None:
        self.settings_error = event.error
        if event.error or event.chunking is None:
            self.say(Text(f"Settings not applied: {event.error}", style="bold"))
            return
        new = (event.chunking, event.aggregate, event.top_k)
        if new != (self.chunking, self.aggregate, self.top_k):
            self.chunking, self.aggregate, self.top_k = new
            self.last_edit_at = perf_counter()
            self.schedule_run()

    def schedule_run(self, delay: float | None = None) -> None:
        """Start a run once edits pause for `debounce_s` (every edit restarts the wait)."""
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(self.config.debounce_s if delay is None else delay, self.start_run)

    def query_text(self) -> str:
        return self.main.query_one("#query", TextArea).text

    def instruction_text(self) -> str:
        return self.main.query_one("#instruction", TextArea).text

    def start_run(self) -> None:
        self._debounce = None
        if self.model_state != "loaded" or self.live is None:
            if self.model_state == "loading":
                self.say("The model is still loading; scoring starts when it is ready.", busy=True)
            return
        blocker = self._why_not_run()
        if blocker:
            self.cancel_run()
            self._clear_results()
            self.say(Text(blocker, style="italic"))
            return
        self.generation += 1
        self.current_inputs = RunInputs(
            generation=self.generation,
            query=self.query_text(),
            instruction=self.instruction_text(),
            documents=tuple(self.documents),
            chunking=self.chunking,
            aggregate=self.aggregate,
            top_k=self.top_k,
        )
        self.running = True
        self.timeline = {"started": perf_counter()}
        self.say(f"Scoring {len(self.documents)} documents…", scoring=True)
        self.widget(RunLine).progress(0, 1)
        self._score_worker = self.score(self.current_inputs, self.live)

    def _why_not_run(self) -> str | None:
        if not self.query_text().strip():
            return "Type a query above to rank the documents (the ranking updates as you type)."
        if not self.documents:
            return "No documents yet: ctrl+o adds a file or folder, ctrl+n pastes text."
        if self.settings_error:
            return f"Fix the settings first: {self.settings_error}"
        return None

    def cancel_run(self) -> None:
        """Forget the running run: its worker stops at the next batch, its messages are dropped."""
        self.generation += 1
        self.running = False
        self.workers.cancel_group(self, "score")

    def action_cancel_run(self) -> None:
        if self.running:
            self.cancel_run()
            self.say("Run cancelled. ctrl+r runs again.")

    def action_rerun(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.start_run()

    @work(thread=True, exclusive=True, exit_on_error=False, group="score", name="scoring")
    def score(self, inputs: RunInputs, live: LiveScorer) -> None:
        worker = get_current_worker()
        generation = inputs.generation

        def cancelled() -> bool:
            return worker.is_cancelled or self.generation != generation

        run = live.run(
            inputs,
            cancelled,
            on_start=lambda spans: self.post_message(RunStarted(generation, spans)),
            on_scores=lambda scores, done, total: self.post_message(RunProgress(generation, scores, done, total)),
            on_notice=lambda text: self.post_message(WorkerNotice(text)),
        )
        if run is None or run.result.cancelled:
            return
        self.post_message(RunFinished(generation, run.result, live.memory_in_use()))
        problem = live.finish_log(run)  # after the UI has the result: logging never delays it
        if problem:
            self.post_message(WorkerNotice(problem))

    def on_run_started(self, message: RunStarted) -> None:
        if message.generation != self.generation:
            return
        self.timeline.setdefault("chunked", perf_counter())
        self.shown_inputs = self.current_inputs
        self.spans, self.scores, self.scores_generation = message.spans, {}, message.generation
        self._request_refresh()

    def on_run_progress(self, message: RunProgress) -> None:
        if message.generation != self.generation:
            return
        self.timeline.setdefault("first_scores", perf_counter())
        self.scores = {(s.doc_id, s.chunk.index): s for s in message.scores}
        self.widget(RunLine).progress(message.done, message.total)
        self.say(f"Scoring… {message.done}/{message.total} chunks", scoring=True)
        self._request_refresh()

    def on_run_finished(self, message: RunFinished) -> None:
        if message.generation != self.generation:
            return
        result = message.result
        self.running, self.result = False, result
        self.scores = {(c.doc_id, c.chunk.index): c for d in result.documents for c in d.chunks}
        self.widget(StatusBar).run_done(result.stats, message.memory)
        stats = result.stats
        took = "" if self.config.hide_volatile else f" in {stats.latency_s:.2f} s"
        self.say(f"Ranked {len(result.documents)} documents, {stats.pairs} chunks{took} ({stats.cached} from cache).")
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None
        self._refresh_views()
        self.timeline["complete"] = perf_counter()

    def on_worker_notice(self, message: WorkerNotice) -> None:
        self.notify(message.text, severity=message.severity, timeout=8)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures become notices; the app keeps running."""
        if event.state != WorkerState.ERROR:
            return
        worker, error = event.worker, event.worker.error
        text = str(error) if isinstance(error, USER_ERRORS) else f"{type(error).__name__}: {error}"
        if worker.group == "model":
            self.model_state = "failed"
            self.widget(StatusBar).failed(text)
            self.say(Text(f"No model: {text}. Fix the --model option, or ctrl+p → Reload model."))
            self.notify(text, title="The model could not be loaded", severity="error", timeout=20)
        elif worker.group == "score":
            if worker is self._score_worker:
                self.running = False
                self.say(Text(f"Scoring failed: {text}"))
            self.notify(text, title="Scoring failed", severity="error", timeout=15)
        else:
            self.notify(text, title=f"{worker.name.capitalize()} failed", severity="error", timeout=10)
