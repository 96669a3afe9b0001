"""What every command of the CLI shares: option declarations, settings, the model, messages.

Importing this module loads neither torch nor pydantic-settings: `workbench --help` stays instant.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, NoReturn

import typer

from .engine.prompt import DEFAULT_INSTRUCTION, DEFAULT_MAX_LENGTH
from .engine.types import (
    AGGREGATES,
    BACKEND_APIS,
    BACKEND_SCORES,
    DEFAULT_AGGREGATE,
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_TOKENS,
    DEFAULT_MODEL,
    DEFAULT_TOP_K,
    DEVICES,
    DTYPES,
    QUANTIZATIONS,
)

if TYPE_CHECKING:
    from .engine.loading import LoadOptions
    from .session import RunRecorder, RunSettings
    from .settings import Settings


def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A str Enum for typer from the engine's own list of allowed values (one source of truth)."""
    return Enum(name, {v if v[0].isalpha() else f"q{v}": v for v in values}, type=str)


# The engine's own lists (importing them loads no torch, so `--help` stays instant).
Device = _choices("Device", DEVICES)
DType = _choices("DType", DTYPES)
Quantize = _choices("Quantize", QUANTIZATIONS)
Aggregate = _choices("Aggregate", AGGREGATES)
Format = _choices("Format", ("table", "json", "jsonl", "csv"))
BackendApi = _choices("BackendApi", BACKEND_APIS)
BackendScores = _choices("BackendScores", BACKEND_SCORES)


MODEL_HELP = f"Hub id or local directory of a Qwen3 reranker. Unset: {DEFAULT_MODEL}, or the offline fallback if it cannot be loaded."
INSTRUCTION_HELP = f'Task instruction (default: "{DEFAULT_INSTRUCTION}")'
ModelOpt = typer.Option(None, "--model", "-m", help=MODEL_HELP)
DeviceOpt = typer.Option(None, "--device", help="auto picks cuda when a GPU is present")
DTypeOpt = typer.Option(None, "--dtype", help="auto: bf16 on GPU, fp32 on CPU")
QuantOpt = typer.Option(None, "--quantize", help="bitsandbytes 8-bit or 4-bit (NF4); the yes/no head stays unquantised")
ChunkOpt = typer.Option(None, "--chunk-tokens", help=f"Chunk size in tokens (default {DEFAULT_CHUNK_TOKENS}); 0 turns chunking off")
OverlapOpt = typer.Option(None, "--chunk-overlap", help=f"Tokens shared by consecutive chunks (default {DEFAULT_CHUNK_OVERLAP})")
MaxLenOpt = typer.Option(None, "--max-length", help=f"Tokens per prompt (default {DEFAULT_MAX_LENGTH}, as the official code)")
AggOpt = typer.Option(None, "--aggregate", help=f"Document score from chunk scores (default {DEFAULT_AGGREGATE})")
TopKOpt = typer.Option(None, "--top-k", help=f"k for --aggregate topk: the mean of the best k chunks (default {DEFAULT_TOP_K})")
DbOpt = typer.Option(None, "--db", help="SQLite run log (default: in the data directory; see `workbench locate`)")
OfflineOpt = typer.Option(None, "--offline/--online", help="Never contact the model hub")
CompileOpt = typer.Option(
    None, "--compile/--no-compile",
    help="Compile the reranker's forward pass (torch.compile over bucketed batch shapes; CUDA graphs on a GPU): "
         "small live batches run faster once each shape has compiled (seconds to minutes the first time)",
)
BackendOpt = typer.Option(
    None, "--backend", metavar="URL", help="Score through this rerank server (vLLM, or a /rerank server such as Infinity) instead of a "
    "local model; repeat for replicas. --model then names the tokenizer (default: the model the server reports)",
)
BackendApiOpt = typer.Option(None, "--backend-api", help="auto detects vLLM (/v1/rerank with the exact Qwen3 prompt); rerank = Cohere/Jina-style /rerank with raw texts")
BackendScoresOpt = typer.Option(None, "--backend-scores", help="What the server's relevance_score is (default probability; llama.cpp answers logits for BERT-style rerankers)")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    typer.secho(message, fg=typer.colors.YELLOW, err=True)


def configure(**flags) -> tuple[Settings, LoadOptions, RunSettings]:
    """The settings (the flags given over WORKBENCH_* over config.toml over the defaults), and
    what they build, all checked: a typo is one line and exit status 2 before any model loads."""
    # Imported here: pydantic-settings would slow every command's start, --help included.
    from .settings import ConfigError, Settings

    given = {name: getattr(value, "value", value) for name, value in flags.items() if value is not None}
    try:
        settings = Settings(**given)
        return settings, settings.load_options(), settings.run_settings()
    except ConfigError as e:  # one line naming the flag, the variable, or the file (and line)
        fail(str(e), 2)


def check_session_name(session: str | None) -> None:
    if session is not None and not session.strip():
        fail("--session needs a name (leave it out for a new session)", 2)


def print_notices(recorder: RunRecorder) -> None:
    """The run log's problems (a damaged database set aside, a run not recorded...): never fatal."""
    for text in recorder.take_notices():
        warn(f"warning: {text}")


def load_scorer(options: LoadOptions):
    """Load with progress on stderr; say loudly when the offline fallback stands in. A command
    waits for each call's last batch, so none is scored early for a quick first row."""
    from .engine import loading

    try:
        scorer = loading.load_scorer(replace(options, quick_first_rows=False), lambda msg: typer.echo(msg, err=True))
    except loading.ModelLoadError as e:
        fail(str(e))
    if scorer.info.is_fallback:
        warn(
            "WARNING: no reranker loaded; scores come from the offline embedding fallback "
            f"({scorer.info.fallback_reason})"
        )
    return scorer


def documents_to_score(paths: list[str], docs_jsonl: str | None = None, stdin=None):
    """The documents given, each problem on stderr; fails when none could be read."""
    from .documents import load_documents

    loaded = load_documents(paths, docs_jsonl, stdin=stdin)
    for problem in loaded.problems:
        warn(problem)
    if not loaded.documents:
        fail("nothing to score: no readable document was given")
    return loaded.documents
