"""What the app starts with: built by `workbench open` (cli.py) or by tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workbench.engine.loading import LoadOptions
from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.engine.types import DEFAULT_AGGREGATE, DEFAULT_TOP_K, ChunkSettings, Document


@dataclass
class WorkbenchConfig:
    load_options: LoadOptions = field(default_factory=LoadOptions)
    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shown as notices once the window opens
    query: str = ""
    starter_query: str = ""  # used when neither `query` nor the last launch gives one
    instruction: str = DEFAULT_INSTRUCTION
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    aggregate: str = DEFAULT_AGGREGATE
    top_k: int = DEFAULT_TOP_K
    db: Path | None = None
    session: str | None = None  # log into the session of this name; None: a new one per launch
    debounce_s: float | None = None  # pause after typing before a run; None: adaptive (session/pacing.py)
    # Relaunching restores the last launch's documents, query, instruction and settings, except
    # with `fresh` (--new), for the settings named in `explicit` (given as flags), and for the
    # documents when some were given on the command line.
    fresh: bool = False
    explicit: frozenset[str] = frozenset()
    documents_given: bool = False
    # Judged queries (queries.jsonl, optional TREC qrels) scored in the background as you tune.
    queries: Path | None = None
    qrels: Path | None = None
    # Replace timings and memory figures with placeholders (deterministic snapshot tests).
    hide_volatile: bool = False

    def model_name(self) -> str | None:
        """What is being loaded, for the status bar: the model, or the rerank servers."""
        options = self.load_options
        return f"rerank server {', '.join(options.backend)}" if options.backend else options.model
