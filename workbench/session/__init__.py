"""A workbench session without a screen: state, runs and where they are recorded.

The app and the CLI are thin clients of `Workbench`; nothing here imports Textual.
"""

from .controller import SessionInputError, Workbench
from .history import ComparisonView, HistoryPage, RunHistory
from .inputs import RunInputs, RunSettings
from .listener import RunListener
from .pacing import TypingPause
from .recorder import NullRecorder, RunRecorder
from .view_model import ResultsView, ViewOptions

__all__ = [
    "ComparisonView",
    "HistoryPage",
    "NullRecorder",
    "ResultsView",
    "RunHistory",
    "RunInputs",
    "RunListener",
    "RunRecorder",
    "RunSettings",
    "SessionInputError",
    "TypingPause",
    "ViewOptions",
    "Workbench",
]
