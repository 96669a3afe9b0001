"""The interface the app's parts share, declared once.

WorkbenchApp is assembled from parts (views.py, document_actions.py, output_actions.py,
history_actions.py, help_actions.py), one per area of the screen. Each part subclasses `AppPart`
and may use only what is declared here (plus its own methods and Textual's App API); the state
itself lives in `session`, the headless `workbench.session.Workbench`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual.app import App
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.timer import Timer

    from workbench.session import Workbench

    from .config import WorkbenchConfig
    from .presets import InstructionPresets
    from .screens.main import MainScreen


W = TypeVar("W", bound=Widget)


class AppPart(App[None]):
    config: WorkbenchConfig
    session: Workbench  # every piece of state: documents, query, settings, results, selection
    main: MainScreen
    presets: InstructionPresets
    recorder_ready: bool  # the run log is open (or known to be unavailable)
    timeline: dict[str, float]  # perf_counter() marks of the current run, for benchmarks
    _debounce: Timer | None  # the pending run, started once typing pauses

    # Implemented by app.py and views.py; declared so every part can rely on them.
    def widget(self, kind: type[W], selector: str | None = None) -> W:
        raise NotImplementedError

    def say(self, message: str | Text, *, busy: bool = False, scoring: bool = False) -> None:
        raise NotImplementedError

    def edited(self, run_due: bool = True) -> None:
        raise NotImplementedError

    def schedule_run(self, delay: float | None = None) -> None:
        raise NotImplementedError

    def cancel_run(self) -> None:
        raise NotImplementedError

    def refresh_views(self) -> None:
        raise NotImplementedError

    def action_show_pane(self, pane: str) -> None:
        raise NotImplementedError

    def load_other_model(self, **changes: object) -> None:
        raise NotImplementedError

    def set_first_stage(self, method: str) -> None:
        raise NotImplementedError
