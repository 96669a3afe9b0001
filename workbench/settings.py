"""Every setting in one model, from four sources, first wins: command-line flags, environment
variables (WORKBENCH_*), the TOML config file, built-in defaults.

The CLI passes the flags the user gave as keyword arguments (`Settings(**flags)`), so one object
knows every value and where it came from. `load_options()` and `run_settings()` build what the
engine and the session need, and check them before any model loads. Every problem is a
ConfigError: one line for stderr that names where the bad value was set (the flag, the variable,
or the file and line), and the key. `workbench locate` prints where the config file lives.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .engine.prompt import DEFAULT_INSTRUCTION, DEFAULT_MAX_LENGTH, check_chunk_fits
from .engine.types import (
    DEFAULT_AGGREGATE,
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_TOKENS,
    DEFAULT_DEBOUNCE_MS,
    DEFAULT_DEVICE,
    DEFAULT_DTYPE,
    DEFAULT_QUANTIZATION,
    DEFAULT_TOP_K,
    ChunkSettings,
)
from .paths import config_file_path

if TYPE_CHECKING:
    from .engine.loading import LoadOptions
    from .session.inputs import RunSettings

ENV_PREFIX = "WORKBENCH_"


class ConfigError(ValueError):
    """A setting that cannot be used; the message is meant for stderr as is."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    model: str | None = Field(None, description="Reranker to load (hub id or directory); unset = default with offline fallback")
    device: str = Field(DEFAULT_DEVICE, description="auto | cuda | cpu")
    dtype: str = Field(DEFAULT_DTYPE, description="auto | bf16 | fp16 | fp32")
    quantize: str = Field(DEFAULT_QUANTIZATION, description="none | 8bit | 4bit (bitsandbytes)")
    max_length: int = Field(DEFAULT_MAX_LENGTH, description="Tokens per prompt, as in the official code")
    batch_tokens: int | None = Field(None, description="Tokens per forward pass; unset = by device")
    compile: bool = Field(
        False, description="Compile the reranker's forward pass (torch.compile over bucketed shapes; CUDA graphs on a GPU)"
    )
    offline: bool = Field(False, description="Never contact the model hub")
    backend: str | None = Field(None, description="Rerank server URL(s) to score through, comma-separated; unset = local model")
    backend_api: str = Field("auto", description="auto | vllm | vllm-score | rerank")
    backend_scores: str = Field("probability", description="What the server's score is: probability | logit")
    chunk_tokens: int = Field(DEFAULT_CHUNK_TOKENS, description="Chunk size in tokens; 0 = no chunking")
    chunk_overlap: int = Field(DEFAULT_CHUNK_OVERLAP, description="Tokens shared by consecutive chunks")
    aggregate: str = Field(DEFAULT_AGGREGATE, description="Document score from chunks: max | first | mean | topk")
    top_k: int = Field(DEFAULT_TOP_K, description="k for --aggregate topk")
    instruction: str = Field(DEFAULT_INSTRUCTION, description="Default instruction")
    db: Path | None = Field(None, description="SQLite database; unset = in the data directory")
    debounce_ms: int | None = Field(
        None, description=f"Pause after typing before a live run starts; unset = adaptive, {DEFAULT_DEBOUNCE_MS} ms at most"
    )

    _flags: frozenset[str] = PrivateAttr(default_factory=frozenset)

    def __init__(self, **flags) -> None:
        """`flags`: the command-line values the user gave (leave out those not given)."""
        try:
            super().__init__(**flags)
        except ValidationError as exc:
            # pydantic's multi-line report names neither the file nor the variable the value
            # came from; the first problem, located, is what the user needs to fix it.
            raise ConfigError(_describe(exc.errors()[0], set(flags))) from None
        self._flags = frozenset(flags)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _config_file_source(settings_cls, config_file_path()))

    @field_validator("backend", mode="before")
    @classmethod
    def _join_urls(cls, value: object) -> object:
        """A TOML list of URLs, or the repeated --backend flag, as one comma-separated value."""
        return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else value

    def backend_urls(self) -> tuple[str, ...]:
        return tuple(u.strip() for u in (self.backend or "").split(",") if u.strip())

    # -- what the code needs, checked ---------------------------------------------------------

    def load_options(self) -> LoadOptions:
        """How to load the model (checked; torch is imported only once a model loads)."""
        from .engine.loading import LoadOptions

        try:
            return LoadOptions(
                model=self.model, device=self.device, dtype=self.dtype, quantize=self.quantize,
                max_length=self.max_length, batch_tokens=self.batch_tokens, compile=self.compile, offline=self.offline,
                backend=self.backend_urls(), backend_api=self.backend_api, backend_scores=self.backend_scores,
            )
        except ValueError as exc:  # the message starts with the flag: "--device must be one of ..."
            flag = str(exc).split(" ", 1)[0]
            raise self._refused(exc, flag[2:].replace("-", "_")) from None

    def run_settings(self) -> RunSettings:
        """Chunking and aggregation for a session, checked against `max_length` as well.

        A chunk size smaller than the default overlap, with no overlap set anywhere, gets an
        overlap of an eighth of a chunk; an overlap the user set is never replaced."""
        from .session.inputs import RunSettings

        self.load_options()  # an impossible --max-length first: the chunk check depends on it
        tokens, overlap = self.chunk_tokens, self.chunk_overlap
        if tokens and overlap >= tokens and "chunk_overlap" not in self.model_fields_set:
            overlap = max(0, tokens // 8)
        try:
            chunking = ChunkSettings(tokens=tokens, overlap=overlap)
        except ValueError as exc:
            raise self._refused(exc, "chunk_tokens" if tokens < 0 else "chunk_overlap") from None
        try:
            check_chunk_fits(chunking.tokens, self.max_length)
        except ValueError as exc:
            raise self._refused(exc, "chunk_tokens", "max_length") from None
        try:
            return RunSettings(chunking, self.aggregate, self.top_k)
        except ValueError as exc:
            raise self._refused(exc, "top_k" if str(exc).startswith("--top-k") else "aggregate") from None

    # -- where a value came from --------------------------------------------------------------

    def source_of(self, name: str) -> str | None:
        """Where setting `name` was set, as the user would find it; None for the built-in default."""
        if name in self._flags:
            return _flag(name)
        env_name = _env_var(name)
        if env_name:
            return f"environment variable {env_name}"
        if name in self.model_fields_set:
            return _config_place(name)
        return None

    def _refused(self, error: ValueError, *names: str) -> ConfigError:
        """`error` as one line led by where the value to fix was set (the first of `names` that
        was set at all; the first one when all are defaults)."""
        name = next((n for n in names if self.source_of(n)), names[0])
        where, message = self.source_of(name) or _flag(name), str(error)
        if message.startswith(where):  # "--top-k must be at least 1 (got 0)" already says it
            return ConfigError(message)
        if "(got " not in message:
            message += f" (got {getattr(self, name)!r})"
        return ConfigError(f"{where}: {message}")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _env_var(name: str) -> str | None:
    """The WORKBENCH_* variable that sets `name`, if one is set (pydantic reads them case-blind)."""
    wanted = (ENV_PREFIX + name).upper()
    return next((wanted for key in os.environ if key.upper() == wanted), None)


def _config_place(key: str) -> str:
    path = config_file_path()
    line = _line_of_key(path, key)
    return f"{path}{f' line {line}' if line else ''}: {key}"


def _config_file_source(settings_cls, path: Path) -> TomlConfigSettingsSource:
    # The source parses the file as it is built, so a syntax error surfaces here.
    try:
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    except ValueError as exc:  # TOMLDecodeError, or bytes that are not UTF-8
        raise ConfigError(_syntax_message(path, exc)) from None


def _syntax_message(path: Path, exc: ValueError) -> str:
    text = str(exc)
    # tomllib puts the place at the end of its message: "... (at line 3, column 5)".
    where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    if where:
        return f"{path} line {where[1]}: {text[: where.start()]} (column {where[2]})"
    return f"{path}: {text.replace(' (at end of document)', ' at the end of the file')}"


def _describe(error: dict, flags: set[str]) -> str:
    key = str(error["loc"][0]) if error.get("loc") else "?"
    problem = f"{error['msg']} (got {error.get('input')!r})"
    if key in flags:
        return f"{_flag(key)}: {problem}"
    env_name = _env_var(key)
    if env_name:
        return f"environment variable {env_name}: {problem}"
    return f"{_config_place(key)}: {problem}"


def _line_of_key(path: Path, key: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return None
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), None)
