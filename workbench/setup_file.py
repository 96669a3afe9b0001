"""A setup: everything that decides a ranking (model, instruction, chunking, aggregation,
normalization), as a small TOML (or JSON) file or a dict.

The app and `workbench sessions export-setup` write one; `workbench.load_setup`, `workbench score
--setup` and the LangChain / LlamaIndex adapters read it. Reading checks every key and value and
raises SetupError with one line naming the file and the key. Nothing here imports torch.

    model = "Qwen/Qwen3-Reranker-0.6B"   # hub id, local directory, or a server: "http://host:8000"
    instruction = "Given a question about our product, retrieve the passage that answers it"
    chunk_tokens = 256
    chunk_overlap = 32
    aggregate = "max"                    # max | first | mean | topk
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from .calibration import NORMALIZATIONS
from .engine.aggregate import check_aggregate
from .engine.prompt import DEFAULT_INSTRUCTION, DEFAULT_MAX_LENGTH, check_chunk_fits
from .engine.types import (
    DEFAULT_AGGREGATE,
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_TOKENS,
    DEFAULT_DEVICE,
    DEFAULT_DTYPE,
    DEFAULT_QUANTIZATION,
    DEFAULT_TOP_K,
    BACKEND_APIS,
    BACKEND_SCORES,
    DEVICES,
    DTYPES,
    QUANTIZATIONS,
    ChunkSettings,
)

if TYPE_CHECKING:
    from .engine.loading import LoadOptions
    from .engine.types import RankResult
    from .session.inputs import RunSettings
    from .store import StoredRun

URL_SCHEMES = ("http://", "https://")
SetupSource = Union[str, Path, Mapping[str, Any], "Setup"]


class SetupError(ValueError):
    """A setup that cannot be used; the message (one line) names the file and the key."""


@dataclass(frozen=True)
class Setup:
    """How to rank. `model` None: the default reranker (with the offline fallback behind it).
    A `model` starting with http(s):// is a rerank server; `tokenizer` then names the tokenizer
    used for chunking (unset: the model the server reports)."""

    model: str | None = None
    tokenizer: str | None = None
    backend_api: str = "auto"  # auto | vllm | vllm-score | rerank: how to talk to the server
    backend_scores: str = "probability"  # what the server's number is: probability | logit
    instruction: str = DEFAULT_INSTRUCTION
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    aggregate: str = DEFAULT_AGGREGATE
    top_k: int = DEFAULT_TOP_K
    max_length: int = DEFAULT_MAX_LENGTH
    normalize: str = "none"
    device: str = DEFAULT_DEVICE
    dtype: str = DEFAULT_DTYPE
    quantize: str = DEFAULT_QUANTIZATION

    @property
    def backend(self) -> tuple[str, ...]:
        """The server URL when `model` is one, else ()."""
        return (self.model,) if self.model and self.model.startswith(URL_SCHEMES) else ()

    def load_options(self) -> LoadOptions:
        """How to load the model."""
        from .engine.loading import LoadOptions

        if not self.backend:
            return LoadOptions(model=self.model, device=self.device, dtype=self.dtype,
                               quantize=self.quantize, max_length=self.max_length)
        return LoadOptions(model=self.tokenizer, backend=self.backend, backend_api=self.backend_api,
                           backend_scores=self.backend_scores, max_length=self.max_length)

    def run_settings(self) -> RunSettings:
        from .session.inputs import RunSettings

        return RunSettings(ChunkSettings(self.chunk_tokens, self.chunk_overlap), self.aggregate, self.top_k)

    def to_dict(self, *, all_keys: bool = False) -> dict[str, Any]:
        """The setup as plain values; only those that differ from the defaults unless `all_keys`."""
        values, default = asdict(self), asdict(Setup())
        return {k: v for k, v in values.items() if all_keys or (v != default[k] and v is not None)}

    def to_toml(self, comment: str = "") -> str:
        """The setup as a TOML document (keys that differ from the defaults, plus instruction and
        chunking, which every reader wants to see); `comment` lines go on top."""
        shown = self.to_dict()
        for key in ("model", "instruction", "chunk_tokens", "chunk_overlap", "aggregate"):
            if getattr(self, key) is not None:
                shown.setdefault(key, getattr(self, key))
        order = [f.name for f in fields(self)]
        lines = [f"# {line}".rstrip() for line in comment.splitlines()]
        lines += [f"{key} = {_toml_value(shown[key])}" for key in order if key in shown]
        return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A JSON string is a TOML basic string, except that TOML also forbids a raw DEL.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def write_setup(setup: Setup, path: str | Path, comment: str = "", *, force: bool = False) -> Path:
    """Write `setup` as TOML (or JSON when the name ends in .json); never replaces a file unless `force`."""
    path = Path(path).expanduser()
    text = json.dumps(setup.to_dict(), indent=2) + "\n" if path.suffix == ".json" else setup.to_toml(comment)
    try:
        with path.open("w" if force else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise SetupError(f"{path} already exists; choose another name") from None
    except OSError as e:
        raise SetupError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def read_setup(source: SetupSource) -> Setup:
    """A Setup from a TOML or JSON file, a dict of the same keys, or a Setup; SetupError if unusable."""
    if isinstance(source, Setup):
        return source
    if isinstance(source, Mapping):
        return setup_from_dict(source, "setup")
    if not isinstance(source, (str, Path)):
        raise SetupError(f"a setup is a file path, a dict or a Setup (got {type(source).__name__})")
    path = Path(source).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SetupError(f"setup file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SetupError(f"cannot read the setup file {path}: {getattr(e, 'strerror', None) or e}") from None
    return setup_from_dict(_parse(text, path), str(path))


def _parse(text: str, path: Path) -> Mapping[str, Any]:
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SetupError(f"{path} line {e.lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(data, dict):
            raise SetupError(f"{path}: a setup file holds one JSON object of settings")
        return data
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
        import tomli as tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SetupError(f"{path}: not valid TOML ({e})") from None


_KINDS = {f.name: (str if f.name not in ("chunk_tokens", "chunk_overlap", "top_k", "max_length") else int) for f in fields(Setup)}
_CHOICES = {"aggregate": None, "normalize": NORMALIZATIONS, "device": DEVICES, "dtype": DTYPES,
            "quantize": QUANTIZATIONS, "backend_api": BACKEND_APIS, "backend_scores": BACKEND_SCORES}


def setup_from_dict(data: Mapping[str, Any], where: str = "setup") -> Setup:
    """Check every key and value of `data` (from `where`, for the messages) and build the Setup."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KINDS:
            raise SetupError(f"{where}: unknown key {key!r} (known: {', '.join(_KINDS)})")
        values[key] = _checked(key, value, where)
    tokens = values.get("chunk_tokens", DEFAULT_CHUNK_TOKENS)
    if "chunk_overlap" not in values and tokens and DEFAULT_CHUNK_OVERLAP >= tokens:
        # As the settings do: a small chunk with no overlap given gets an eighth of a chunk.
        values["chunk_overlap"] = tokens // 8
    setup = Setup(**values)
    _check_together(setup, where)
    return setup


def _checked(key: str, value: Any, where: str) -> Any:
    kind = _KINDS[key]
    if key in ("model", "tokenizer") and value is not None and isinstance(value, str) and not value.strip():
        raise SetupError(f"{where}: {key} is empty (leave the key out for the default)")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
            raise SetupError(f"{where}: {key} must be a whole number (got {value!r})")
        value = int(value)
        if value < 0 or (key == "max_length" and value < 64) or (key == "top_k" and value < 1):
            least = {"max_length": 64, "top_k": 1}.get(key, 0)
            raise SetupError(f"{where}: {key} must be at least {least} (got {value})")
        return value
    if not isinstance(value, str):
        raise SetupError(f"{where}: {key} must be a string (got {value!r})")
    allowed = _CHOICES.get(key, ())
    if key == "aggregate":
        try:
            check_aggregate(value, 1)
        except ValueError as e:
            raise SetupError(f"{where}: {e}") from None
    elif allowed and value not in allowed:
        raise SetupError(f"{where}: {key} must be one of {', '.join(allowed)} (got {value!r})")
    if key == "instruction" and not value.strip():
        raise SetupError(f"{where}: instruction is empty")
    return value


def _check_together(setup: Setup, where: str) -> None:
    try:
        ChunkSettings(setup.chunk_tokens, setup.chunk_overlap)
    except ValueError as e:
        raise SetupError(f"{where}: chunk_overlap: {e} (got {setup.chunk_overlap} with chunk_tokens {setup.chunk_tokens})") from None
    try:
        check_chunk_fits(setup.chunk_tokens, setup.max_length)
    except ValueError as e:
        raise SetupError(f"{where}: chunk_tokens: {e}".replace("--", "")) from None
    if setup.tokenizer is not None and not setup.backend:
        raise SetupError(f"{where}: tokenizer applies only when model is a server URL (http://...)")


def setup_from_run(run: StoredRun | RankResult) -> tuple[Setup, list[str]]:
    """The setup a logged run (or the app's last ranking) was made with, and notes on what could
    not be carried over. Device and dtype stay auto, so the file works on any machine."""
    notes, model = [], run.model
    which = f"run {run.id}" if getattr(run, "id", None) is not None else "the ranking"
    name: str | None = model.model_id
    if model.is_fallback:
        name = None
        notes.append(f"{which} was scored by the offline embedding fallback: the setup names the default reranker")
    if model.backend and "(+" in model.backend:
        notes.append(f"{which} was scored by several servers: the setup names the first")
    backend_url = _backend_url(getattr(model, "backend", None))
    if model.kind == "remote-reranker" and backend_url:
        api, _, scores = (model.backend_identity or "").partition("|")
        setup = Setup(model=backend_url, tokenizer=model.model_id or None,
                      backend_api=api if api in BACKEND_APIS else "auto",
                      backend_scores=scores if scores in BACKEND_SCORES else "probability")
    else:
        setup = Setup(model=name, quantize=model.quantization if model.quantization in QUANTIZATIONS else "none")
    values = asdict(setup) | {
        "instruction": run.instruction, "chunk_tokens": run.chunking.tokens, "chunk_overlap": run.chunking.overlap,
        "aggregate": run.aggregate, "top_k": max(1, run.top_k), "max_length": model.max_length or DEFAULT_MAX_LENGTH,
    }
    return setup_from_dict({k: v for k, v in values.items() if v is not None}, which), notes


def setup_comment(run_id: int | None, query: str) -> str:
    """The lines on top of an exported setup: where it came from and how to use it."""
    origin = f"run {run_id}" if run_id is not None else "the app"
    return (f"rerank workbench setup, from {origin} (query: {query.strip()[:80]!r})\n"
            "use: workbench score --setup FILE ...  |  workbench.load_setup(FILE)")


def _backend_url(described: str | None) -> str | None:
    """The server URL in ModelInfo.backend ("vllm 0.11.0 at http://host:8000")."""
    if not described:
        return None
    return next((w for w in described.split() if w.startswith(URL_SCHEMES)), None)
