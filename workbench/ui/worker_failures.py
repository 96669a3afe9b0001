"""The one place worker failures become notices and status lines; the app keeps running."""

from __future__ import annotations

from rich.text import Text
from textual.worker import Worker, WorkerState

from workbench.engine.loading import ModelLoadError
from workbench.engine.ranking import RankingInputError
from workbench.engine.scorer import ScoringError
from workbench.session import SessionInputError
from workbench.store import StoreError

from .app_parts import AppPart
from .messages import WorkerNotice
from .presets import PresetError
from .widgets.status_bar import StatusBar

# A user's mistake or the machine's state: the message is enough. Anything else is a bug; its type
# is shown too, so a report names it.
USER_ERRORS = (ModelLoadError, ScoringError, RankingInputError, SessionInputError, PresetError, StoreError, OSError, ValueError)


class WorkerFailures(AppPart):
    model_state: str
    _score_worker: Worker | None

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
                self.session.running = False
                self.say(Text(f"Scoring failed: {text}"))
            self.notify(text, title="Scoring failed", severity="error", timeout=15)
        else:
            self.notify(text, title=f"{worker.name.capitalize()} failed", severity="error", timeout=10)

    def on_worker_notice(self, message: WorkerNotice) -> None:
        """A worker's word for the user that is not a failure (a run not recorded, say)."""
        self.notify(message.text, severity=message.severity, timeout=8)
