"""The workbench app: a thin client of one headless `workbench.session.Workbench`.

The session owns every piece of state (documents, query, settings, results); the app turns keys
and widget messages into session calls, runs the slow work in thread workers, and redraws the
views from the session. Workers post typed messages (messages.py); runs carry a generation
number, and the session drops what a superseded run reports.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path
from time import perf_counter

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.timer import Timer
from textual.widgets import TextArea
from textual.worker import Worker, get_current_worker

from workbench.engine.loading import load_scorer
from workbench.engine.prompt import check_chunk_fits
from workbench.engine.scorer import Scorer
from workbench.engine.types import DEFAULT_MODEL
from workbench.session import RunRecorder, RunSettings, TypingPause, Workbench
from workbench.session.sqlite_recorder import open_recorder

from .app_parts import W
from .commands import WorkbenchCommands
from .config import WorkbenchConfig
from .cpu import threads_for_run
from .document_actions import DocumentActions
from .help_actions import HelpAndPalette
from .history_actions import HistoryActions
from .label_actions import LabelActions
from .messages import ModelLoaded, ModelLoadProgress, PassTimed, RecorderReady, RunFinished, RunProgress, RunStarted
from .output_actions import OutputActions
from .presets import InstructionPresets, StorePresets
from .query_set_actions import QuerySetActions
from .restore import restore_last_launch, start_with_starter_query
from .scoring import PostingListener
from .screens.help import FALLBACK_BANNER
from .screens.main import MainScreen
from .views import ViewUpdates
from .widgets.run_line import RunLine
from .widgets.settings_bar import SettingsBar
from .widgets.status_bar import StatusBar
from .worker_failures import WorkerFailures

__all__ = ["WorkbenchApp", "WorkbenchConfig"]


class WorkbenchApp(ViewUpdates, DocumentActions, OutputActions, HistoryActions, LabelActions, QuerySetActions,
                   WorkerFailures, HelpAndPalette):
    CSS_PATH = Path(__file__).parent / "workbench.tcss"  # absolute: subclasses live elsewhere
    TITLE = "rerank workbench"
    COMMANDS = App.COMMANDS | {WorkbenchCommands}
    HORIZONTAL_BREAKPOINTS, VERTICAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")], [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        config: WorkbenchConfig,
        *,
        scorer: Scorer | None = None,
        recorder: RunRecorder | None = None,
        presets: InstructionPresets | None = None,
    ) -> None:
        """`scorer` skips loading (tests, benchmarks); `recorder` replaces opening `config.db`."""
        super().__init__()
        self.config = config
        self.session = Workbench(
            RunSettings(config.chunking, config.aggregate, config.top_k),
            query=config.query, instruction=config.instruction, documents=config.documents,
        )
        self.presets: InstructionPresets = presets or StorePresets(config.db)
        self._preloaded, self._given_recorder = scorer, recorder
        self.model_state = "loading"  # loading | loaded | failed
        self.recorder_ready = False
        self.touched = False  # the user edited something: a late restore must not undo it
        self.ranked_this_launch = False  # a run completed (a ranking restored from the log is none)
        self._debounce: Timer | None = None
        self.typing_pause = TypingPause(config.debounce_s)  # adaptive unless a pause was set
        self._score_worker: Worker | None = None
        self._compile_watch: Timer | None = None
        self.last_edit_at: float | None = None  # perf_counter() marks, read by benchmarks/ui_latency.py
        self.timeline: dict[str, float] = {}

    # -- start-up -----------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        self.main = MainScreen(self.config)
        return self.main

    def on_main_screen_ready(self) -> None:
        """Show what we have, then open the run log and load the model in the background."""
        for problem in self.config.problems:
            self.notify(problem, title="Skipped", severity="warning", timeout=10)
        self.refresh_views()
        self.load_query_set()
        name = self.config.model_name() or f"{DEFAULT_MODEL} (offline fallback if unavailable)"
        self.widget(StatusBar).loading(name)
        self.say(f"Loading {name}… you can edit meanwhile.", busy=True)
        self.load_model()

    def widget(self, kind: type[W], selector: str | None = None) -> W:
        return self.main.query_one(selector or kind, kind)

    def say(self, message: str | Text, *, busy: bool = False, scoring: bool = False) -> None:
        self.widget(RunLine).say(message, busy=busy, scoring=scoring)

    @work(thread=True, exclusive=True, exit_on_error=False, group="model", name="model loading")
    def load_model(self) -> None:
        def progress(text: str) -> None:
            self.post_message(ModelLoadProgress(text))

        if not self.recorder_ready:
            recorder = self._given_recorder
            if recorder is None:
                progress("opening the run log")
                recorder = open_recorder(self.config.db, origin="app", session=self.config.session)
            wanted = not self.config.fresh and recorder.restores_state
            self.post_message(RecorderReady(recorder, recorder.last_state() if wanted else None))
        scorer = self._preloaded or load_scorer(self.config.load_options, progress)
        # torch and transformers leave a heap of long-lived objects: a full collection walks all
        # of them and froze the UI for ~250 ms mid-typing. Collect once now, while the user
        # waits anyway, and exempt what survives from later collections.
        gc.collect()
        gc.freeze()
        self.post_message(ModelLoaded(scorer, scorer.memory_in_use()))

    def on_recorder_ready(self, message: RecorderReady) -> None:
        self.session.recorder, self.recorder_ready = message.recorder, True
        for notice in message.recorder.take_notices():
            self.notify(notice, title="Run log", severity="warning", timeout=10)
        if message.last_run is not None and not self.touched:
            restore_last_launch(self, message.last_run)
        elif self.config.starter_query and not self.touched and not self.session.query.strip():
            start_with_starter_query(self)

    def load_other_model(self, **changes) -> None:
        """Load another model (or the same with another dtype or quantization); a pinned A stays,
        so the A/B pane compares the two models once the new one has ranked."""
        try:
            options = replace(self.config.load_options, **changes)  # checked on creation
        except ValueError as e:
            self.notify(str(e), title="Model not changed", severity="error")
            return
        if self.model_state == "loading":
            self.notify("A model is loading; try again once it is ready.", severity="warning")
            return
        self.config.load_options, self._preloaded = options, None
        self.action_reload_model()

    def action_reload_model(self) -> None:
        if self.model_state == "loading":
            return
        self.model_state, self.session.ranker = "loading", None
        self.widget(StatusBar).loading(self.config.model_name() or "default reranker")
        self.say("Loading the model again…", busy=True)
        self.load_model()

    def on_model_load_progress(self, message: ModelLoadProgress) -> None:
        if self.model_state == "loading":
            self.say(message.text + "…", busy=True)

    def on_model_loaded(self, message: ModelLoaded) -> None:
        self.session.attach(message.scorer)
        self.model_state = "loaded"
        info = message.scorer.info
        self.widget(StatusBar).loaded(info, message.memory)
        # Short lines that read completely at 80 columns; the reason goes to a notice and F1.
        self.main.show_banner(list(FALLBACK_BANNER) if info.is_fallback else None)
        if info.is_fallback:
            self.notify(
                f"{info.fallback_reason or 'no reranker could be loaded'}. Scores are cosine similarity, "
                "not probabilities; the instruction is ignored.",
                title="Offline fallback in use", severity="warning", timeout=15,
            )
        self.say("Model ready.")
        self.follow_compiles(message.scorer)
        self.start_run()

    def follow_compiles(self, scorer: Scorer) -> None:
        """With --compile a new batch shape's first call takes seconds to minutes: say so while it
        runs, rather than a progress count that stands still. The scorer tells from its thread;
        looked at twice a second, and only for a model that compiles."""
        if self._compile_watch is not None:
            self._compile_watch.stop()
            self._compile_watch = None
        if getattr(scorer, "compile", False):
            self._compile_watch = self.set_interval(0.5, self._say_scorer_activity)

    def _say_scorer_activity(self) -> None:
        if self.session.running and (note := self.session.scorer_activity()):
            self.say(f"Scoring… {note}", scoring=True)

    # -- edits: widgets report their values, the session takes them ---------------------------

    @on(TextArea.Changed, "#query")
    def _query_edited(self, event: TextArea.Changed) -> None:
        self.edited(self.session.set_query(event.text_area.text))

    @on(TextArea.Changed, "#instruction")
    def _instruction_edited(self, event: TextArea.Changed) -> None:
        self.edited(self.session.set_instruction(event.text_area.text))

    @on(SettingsBar.Changed)
    def _settings_edited(self, event: SettingsBar.Changed) -> None:
        settings, error = None, event.error
        if event.chunking is not None and error is None:
            try:
                check_chunk_fits(event.chunking.tokens, self.config.load_options.max_length)
                settings = RunSettings(event.chunking, event.aggregate, event.top_k)
            except ValueError as e:
                error = str(e)
        due = self.session.set_settings(settings, error)
        if error:
            self.say(Text(f"Settings not applied: {error}", style="bold"))
        self.edited(due)

    def edited(self, run_due: bool = True) -> None:
        """After an edit that changed something: remember it, and score again once typing pauses."""
        if run_due:
            self.touched = True
            self.last_edit_at = perf_counter()
            self.cancel_query_set()  # the live run goes first; the set follows once it is done
            self.schedule_run()

    @property
    def run_pending(self) -> bool:
        """A run is scheduled to start when typing pauses."""
        return self._debounce is not None

    def schedule_run(self, delay: float | None = None) -> None:
        """Start a run once edits pause (session/pacing.py says how long; every edit restarts the wait)."""
        if self._debounce is not None:
            self._debounce.stop()
        # Never 0: Textual's timer divides by its interval when it fires late.
        self._debounce = self.set_timer(max(0.001, self.typing_pause.delay_s() if delay is None else delay), self.start_run)

    # -- runs -----------------------------------------------------------------------------------

    def start_run(self) -> None:
        self._debounce = None
        if not self.main.is_attached:  # a timer that fired as the app closes: nothing to show it on
            return
        if self.model_state != "loaded":
            if self.model_state == "loading":
                self.say("The model is still loading; scoring starts when it is ready.", busy=True)
            return
        blocker = self.session.blocker()
        if blocker:
            self.cancel_run()
            self.session.clear_results()
            self.refresh_views()
            self.say(Text(blocker, style="italic"))
            if not self.session.query.strip() and not self.session.settings_error:
                # While the user types a first query: the chunking and tokenising it needs.
                self.prepare_documents(tuple(self.session.documents), self.session.settings.chunking,
                                       self.typing_pause.wants_a_pass)
            return
        if (inputs := self.session.start_run()) is None:
            return
        self.timeline = {"started": perf_counter()}
        self.say(f"Scoring {len(inputs.documents)} documents…", scoring=True)
        self.widget(RunLine).progress(0, 1)
        self._score_worker = self.score(inputs)

    @work(thread=True, exclusive=True, exit_on_error=False, group="prepare", name="preparing documents")
    def prepare_documents(self, documents, chunking, time_a_pass: bool) -> None:
        """Chunk and tokenise the documents (and the offline fallback embeds them) while no run can
        start (session.prepare), leaving a core to the interface the user types the query into
        unless the scorer's passes are single-threaded (ui/cpu.py)."""
        worker = get_current_worker()
        self.set_cpu_threads(first_run=False)
        done = self.session.prepare(documents, chunking, lambda: worker.is_cancelled, time_a_pass)
        if done.pass_s is not None:
            self.post_message(PassTimed(done.pass_s))

    def set_cpu_threads(self, first_run: bool) -> None:
        """torch's thread count for this worker thread, when the model runs on the CPU: every core,
        or one left to the interface (ui/cpu.py says when, and why). While the user types, the
        scorer is asked for single-threaded passes, which may have every core; a launch's first
        ranking may run multi-threaded ones."""
        if self.session.model is not None and self.session.model.device == "cpu":
            threads_for_run(first_run, self.session.run_single_threaded_passes(wanted=not first_run))

    @property
    def preparing(self) -> bool:
        """Whether the documents are being prepared for a first query (prepare_documents)."""
        return any(w.group == "prepare" and not w.is_finished for w in self.workers)

    def on_pass_timed(self, message: PassTimed) -> None:
        self.typing_pause.observe_pass(message.seconds)

    def cancel_run(self) -> None:
        """Forget the running run: its worker stops at the next batch, its messages are dropped."""
        self.session.cancel()
        self.workers.cancel_group(self, "score")

    def action_cancel_run(self) -> None:
        if self.session.running:
            self.cancel_run()
            self.say("Run cancelled. ctrl+r runs again.")

    def action_rerun(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.start_run()

    @work(thread=True, exclusive=True, exit_on_error=False, group="score", name="scoring")
    def score(self, inputs) -> None:
        worker = get_current_worker()
        self.set_cpu_threads(first_run=not self.ranked_this_launch and not self.touched)
        listener = PostingListener(self, self.session.memory_in_use)
        self.session.execute(inputs, listener, lambda: worker.is_cancelled)

    def on_run_started(self, message: RunStarted) -> None:
        if self.is_running and self.session.accept_chunked(message.generation, message.spans):
            self.timeline.setdefault("chunked", perf_counter())
            self.request_refresh()

    def on_run_progress(self, message: RunProgress) -> None:
        # Closing (is_running is False from the start of shutdown): the screens' widgets are being
        # taken down, and a run's late message would look for them (seen as a NoMatches error).
        if self.is_running and self.session.accept_scores(message.generation, message.scores):
            self.timeline.setdefault("first_scores", perf_counter())
            self.widget(RunLine).progress(message.done, message.total)
            self.say(f"Scoring… {message.done}/{message.total} chunks", scoring=True)
            self.request_refresh()

    def on_run_finished(self, message: RunFinished) -> None:
        if not self.is_running or not self.session.accept_finished(message.generation, message.result):
            return
        stats = message.result.stats
        self.ranked_this_launch = True
        self.typing_pause.observe(stats)
        self.widget(StatusBar).run_done(stats, message.memory)
        took = "" if self.config.hide_volatile else f" in {stats.latency_s:.2f} s"
        self.say(f"Ranked {len(message.result.documents)} documents, {stats.pairs} chunks{took} ({stats.cached} from cache).")
        self.refresh_views()
        self.refresh_ab()
        self.rescore_query_set()
        self.timeline["complete"] = perf_counter()

    def on_unmount(self) -> None:
        self.session.recorder.close()
