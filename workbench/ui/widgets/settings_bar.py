"""One line of small inputs: chunk size, overlap, aggregation and k. Changes apply at once."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select

from workbench.engine.types import AGGREGATES, ChunkSettings


class SettingsBar(Horizontal):
    DEFAULT_CSS = """
    SettingsBar { height: 1; padding: 0 1; }
    SettingsBar Label { padding: 0 1 0 0; color: $text-muted; }
    SettingsBar Input { width: 7; margin-right: 2; }
    SettingsBar #aggregate { width: 10; margin-right: 2; }
    SettingsBar #top-k { width: 5; }
    SettingsBar #settings-error { color: $error; padding-left: 1; width: 1fr; }
    """

    class Changed(Message):
        """Valid settings; `error` is set instead when the inputs do not make valid settings."""

        def __init__(self, chunking: ChunkSettings | None, aggregate: str, top_k: int, error: str | None) -> None:
            super().__init__()
            self.chunking = chunking
            self.aggregate = aggregate
            self.top_k = top_k
            self.error = error

    def __init__(self, chunking: ChunkSettings, aggregate: str, top_k: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self._initial = (chunking, aggregate, top_k)

    def compose(self) -> ComposeResult:
        chunking, aggregate, top_k = self._initial
        yield Label("chunk")
        yield Input(str(chunking.tokens), type="integer", compact=True, id="chunk-tokens", tooltip="Chunk size in tokens; 0 = whole documents")
        yield Label("overlap")
        yield Input(str(chunking.overlap), type="integer", compact=True, id="chunk-overlap", tooltip="Tokens shared by consecutive chunks")
        yield Label("aggregate")
        yield Select([(a, a) for a in AGGREGATES], value=aggregate, allow_blank=False, compact=True, id="aggregate")
        yield Label("k")
        yield Input(str(top_k), type="integer", compact=True, id="top-k", tooltip="k for the topk aggregate")
        yield Label("", id="settings-error")

    def show(self, chunking: ChunkSettings, aggregate: str, top_k: int) -> None:
        """Show settings that come from elsewhere (a reopened run); the echo changes nothing."""
        self.query_one("#chunk-tokens", Input).value = str(chunking.tokens)
        self.query_one("#chunk-overlap", Input).value = str(chunking.overlap)
        self.query_one("#top-k", Input).value = str(top_k)
        self.query_one("#aggregate", Select).value = aggregate

    def focus_first(self) -> None:
        self.query_one("#chunk-tokens", Input).focus()

    def set_chunk_tokens(self, tokens: int) -> None:
        self.query_one("#chunk-tokens", Input).value = str(tokens)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._emit()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._emit()

    def _emit(self) -> None:
        aggregate = str(self.query_one("#aggregate", Select).value)
        chunking, top_k, error = None, 3, None
        try:
            tokens = int(self.query_one("#chunk-tokens", Input).value or "x")
            overlap = int(self.query_one("#chunk-overlap", Input).value or "0")
            top_k = int(self.query_one("#top-k", Input).value or "x")
            if top_k < 1:
                raise ValueError("k must be at least 1")
            chunking = ChunkSettings(tokens=tokens, overlap=overlap if tokens else 0)
        except ValueError as e:
            error = "enter whole numbers" if "invalid literal" in str(e) else str(e)
        self.query_one("#settings-error", Label).update(error or "", layout=False)
        self.post_message(self.Changed(chunking, aggregate, top_k, error))
