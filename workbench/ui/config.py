"""What the app starts with: built by `workbench open` (cli.py) or by tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.engine.loading import LoadOptions
from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.engine.types import ChunkSettings, Document


@dataclass
class WorkbenchConfig:
    load_options: LoadOptions = field(default_factory=LoadOptions)
    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shown as notices once the window opens
    query: str = ""
    instruction: str = DEFAULT_INSTRUCTION
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    aggregate: str = "max"
    top_k: int = 3
    db: Path | None = None
    session: str | None = None
    debounce_s: float = 0.4
    # Replace timings and memory figures with placeholders (deterministic snapshot tests).
    hide_volatile: bool = False
