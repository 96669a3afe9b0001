"""Messages the history workers post: pages of runs, a comparison, a stored run to reopen."""

from __future__ import annotations

from textual.message import Message

from workbench.store import StoredRun

from workbench.session.history import ComparisonView, HistoryPage


class HistoryLoaded(Message):
    """A page of runs; `token` tells the screen whether it is still the listing it asked for."""

    def __init__(self, page: HistoryPage, append: bool, token: int) -> None:
        super().__init__()
        self.page = page
        self.append = append
        self.token = token


class HistoryFailed(Message):
    """The run log could not be read (locked, damaged); the text says why."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ComparisonLoaded(Message):
    def __init__(self, view: ComparisonView) -> None:
        super().__init__()
        self.view = view


class StoredRunLoaded(Message):
    """A logged run, read back whole, to be shown in the main screen."""

    def __init__(self, run: StoredRun) -> None:
        super().__init__()
        self.run = run


class ComparePair(Message):
    """Two runs to compare (older first), found by the 'compare with the previous run' worker."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__()
        self.a = a
        self.b = b


class TriedLoaded(Message):
    """The instructions tried for a query, with their metrics (workbench.session.tried)."""

    def __init__(self, query: str, tried: list) -> None:
        super().__init__()
        self.query = query
        self.tried = tried
