"""The one-line status bar: model, device, dtype, memory, last run's speed, and the fallback flag."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from workbench.engine.types import ModelInfo, RunStats

MASK = "—"


def short_model_id(model_id: str) -> str:
    """A local directory shows as its last part; hub ids as they are."""
    p = Path(model_id)
    return p.name if model_id.startswith(("/", ".", "~")) and p.name else model_id


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    if n < 1 << 20:
        return f"{n / 1024:.0f} KiB"
    if n < 1 << 30:
        return f"{n / (1 << 20):.0f} MiB"
    return f"{n / (1 << 30):.1f} GiB"


def human_rate(tokens_per_s: float) -> str:
    return f"{tokens_per_s / 1000:.1f}k tok/s" if tokens_per_s >= 1000 else f"{tokens_per_s:.0f} tok/s"


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, hide_volatile: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hide_volatile = hide_volatile
        self.state = "loading"
        self.model_text = ""
        self.info: ModelInfo | None = None
        self.memory: int | None = None
        self.stats: RunStats | None = None

    def on_mount(self) -> None:
        self.refresh_text()

    def loading(self, what: str) -> None:
        self.state, self.model_text = "loading", what
        self.refresh_text()

    def failed(self, why: str) -> None:
        self.state, self.model_text = "failed", why
        self.refresh_text()

    def loaded(self, info: ModelInfo, memory: int | None) -> None:
        self.state, self.info, self.memory = "loaded", info, memory
        self.refresh_text()

    def run_done(self, stats: RunStats, memory: int | None) -> None:
        self.stats = stats
        if memory is not None:
            self.memory = memory
        self.refresh_text()

    def on_resize(self) -> None:
        self.refresh_text()

    def refresh_text(self) -> None:
        self.update(self.render_status(), layout=False)  # always one line

    def render_status(self, width: int | None = None) -> Text:
        """The line for `width` cells (default: the bar's own width). Narrow, the labels shorten
        and the least useful parts go first (cache count, pairs, dtype), so the latency stays."""
        if width is None:
            width = self.content_region.width or self.size.width or 10_000
        for level in range(5):
            text = self._status(level)
            if text.cell_len <= width:
                return text
        return text  # the model name is cut with an ellipsis

    def _status(self, level: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.state == "loading":
            text.append("loading model ", "bold")
            text.append(self.model_text, "dim")
            return text
        if self.state == "failed":
            text.append(" NO MODEL ", "bold white on color(124)")
            text.append(" " + self.model_text)
            return text
        info = self.info
        assert info is not None
        if info.is_fallback:
            text.append(" OFFLINE FALLBACK " if level < 4 else " FALLBACK ", "bold white on color(124)")
            text.append(" ")
        name = short_model_id(info.model_id)
        if level >= 3 and info.is_fallback:  # the red badge already says "fallback"
            name = name.split(" (")[0]
        text.append(name, "bold")
        sep = " │ " if level < 2 else " "
        setup = f"{info.device} {info.dtype}" if level < 4 else info.device
        if info.quantization != "none":
            setup += f" {info.quantization}"
        if info.backend:  # which server software answered, and where
            setup = info.backend if level < 2 else info.backend.split(" at ")[0]
        text.append(f"{sep}{setup}")
        text.append(f"{sep}mem {MASK if self.hide_volatile else human_bytes(self.memory)}")
        if self.stats is not None:
            s = self.stats
            latency = f"{MASK} s" if self.hide_volatile else f"{s.latency_s:.2f} s"
            rate = f"{MASK} tok/s" if self.hide_volatile else human_rate(s.tokens_per_s)
            text.append(f"{sep}last run {latency} · {rate}" if level < 2 else f"{sep}run {latency} · {rate}")
            if level == 0:
                text.append(f" · {s.pairs} pairs, {s.cached} cached", "dim")
            elif level <= 2:
                text.append(f" · {s.pairs} pairs", "dim")
        return text
