"""Messages the worker threads post to the app. Runs are tagged with a generation number: the app
drops any message whose generation is not the current one."""

from __future__ import annotations

from textual.message import Message

from workbench.engine.scorer import Scorer
from workbench.engine.types import ChunkScore, ChunkSpan, RankResult

from workbench.session import RunRecorder
from workbench.store import StoredRun


class ModelLoadProgress(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelLoadProgress)


class RecorderReady(Message):
    """The run log is open (or known to be unavailable); `last_run` is the previous launch's."""

    def __init__(self, recorder: RunRecorder, last_run: StoredRun | None) -> None:
        super().__init__()
        self.recorder = recorder
        self.last_run = last_run


class ModelLoaded(Message):
    def __init__(self, scorer: Scorer, memory: int | None) -> None:
        super().__init__()
        self.scorer = scorer
        self.memory = memory


class PassTimed(Message):
    """Seconds one pair took in a pass before any run: how long to pause after typing."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds


class RunStarted(Message):
    """The documents are chunked: the views can lay out every chunk before any score arrives."""

    def __init__(self, generation: int, spans: dict[str, list[ChunkSpan]]) -> None:
        super().__init__()
        self.generation = generation
        self.spans = spans


class RunProgress(Message):
    """All scores of the run so far (cumulative, so a newer message replaces a queued older one)."""

    def __init__(self, generation: int, scores: list[ChunkScore], done: int, total: int) -> None:
        super().__init__()
        self.generation = generation
        self.scores = scores
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgress) and message.generation == self.generation


class RunFinished(Message):
    def __init__(self, generation: int, result: RankResult, memory: int | None) -> None:
        super().__init__()
        self.generation = generation
        self.result = result
        self.memory = memory


class WorkerNotice(Message):
    """A problem a worker wants the user to read (run log trouble, say); not an error."""

    def __init__(self, text: str, severity: str = "warning") -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class ExportDone(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class PromptExplained(Message):
    def __init__(self, title: str, view, chunk_start: int, chunk_chars: int) -> None:
        super().__init__()
        self.title = title
        self.view = view
        self.chunk_start = chunk_start
        self.chunk_chars = chunk_chars


class DocumentsRead(Message):
    def __init__(self, documents: list, problems: list[str], source: str) -> None:
        super().__init__()
        self.documents = documents
        self.problems = problems
        self.source = source
