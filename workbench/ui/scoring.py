"""A run's reports, turned into messages for the app (posted from the scoring thread)."""

from __future__ import annotations

from textual.message_pump import MessagePump

from workbench.engine.types import ChunkScore, ChunkSpan, RankResult

from .messages import RunFinished, RunProgress, RunStarted, WorkerNotice


class PostingListener:
    """A `workbench.session.RunListener` that posts each report to the app's message queue."""

    def __init__(self, target: MessagePump, memory) -> None:
        self.target = target
        self.memory = memory  # () -> bytes in use, for the status bar

    def chunked(self, generation: int, spans: dict[str, list[ChunkSpan]]) -> None:
        self.target.post_message(RunStarted(generation, spans))

    def scores(self, generation: int, scores: list[ChunkScore], done: int, total: int) -> None:
        self.target.post_message(RunProgress(generation, scores, done, total))

    def finished(self, generation: int, result: RankResult) -> None:
        self.target.post_message(RunFinished(generation, result, self.memory()))

    def notice(self, text: str) -> None:
        self.target.post_message(WorkerNotice(text))
