"""How a run reports while it is ranked: to the app's messages, or straight back (the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from workbench.engine.types import ChunkScore, ChunkSpan, RankResult

if TYPE_CHECKING:
    from .controller import Workbench


class RunListener(Protocol):
    """What `execute` reports, in order: chunked, scores (repeatedly), finished; notices any time."""

    def chunked(self, generation: int, spans: dict[str, list[ChunkSpan]]) -> None: ...
    def scores(self, generation: int, scores: list[ChunkScore], done: int, total: int) -> None: ...
    def finished(self, generation: int, result: RankResult) -> None: ...
    def notice(self, text: str) -> None: ...


class DirectListener:
    """Applies a run on the calling thread (the CLI's `run_now`)."""

    def __init__(self, session: Workbench) -> None:
        self.session, self.result = session, None

    def chunked(self, generation: int, spans: dict[str, list[ChunkSpan]]) -> None:
        self.session.accept_chunked(generation, spans)

    def scores(self, generation: int, scores: list[ChunkScore], done: int, total: int) -> None:
        pass  # only the final ranking matters here

    def finished(self, generation: int, result: RankResult) -> None:
        if self.session.accept_finished(generation, result):
            self.result = result

    def notice(self, text: str) -> None:
        self.session.recorder.notice(text)  # back in the queue: the CLI prints them after the run
