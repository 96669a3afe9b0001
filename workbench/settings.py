"""User defaults: environment variables (WORKBENCH_*) over a TOML config file over built-ins.

Command-line flags override all of these. `workbench locate` prints where the config file lives.
A config file that does not parse, or a value of the wrong type, raises ConfigError: one line that
names the file (and line) or the environment variable, and the key, for every command to print.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .engine.prompt import DEFAULT_INSTRUCTION
from .paths import config_file_path

ENV_PREFIX = "WORKBENCH_"


class ConfigError(ValueError):
    """A setting that cannot be used; the message is meant for stderr as is."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    model: str | None = Field(None, description="Reranker to load (hub id or directory); unset = default with offline fallback")
    device: str = Field("auto", description="auto | cuda | cpu")
    dtype: str = Field("auto", description="auto | bf16 | fp16 | fp32")
    quantize: str = Field("none", description="none | 8bit | 4bit (bitsandbytes)")
    max_length: int = Field(8192, description="Tokens per prompt, as in the official code")
    batch_tokens: int | None = Field(None, description="Tokens per forward pass; unset = by device")
    offline: bool = Field(False, description="Never contact the model hub")
    chunk_tokens: int = Field(256, description="Chunk size in tokens; 0 = no chunking")
    chunk_overlap: int = Field(32, description="Tokens shared by consecutive chunks")
    aggregate: str = Field("max", description="Document score from chunks: max | first | mean | topk")
    top_k: int = Field(3, description="k for --aggregate topk")
    instruction: str = Field(DEFAULT_INSTRUCTION, description="Default instruction")
    db: Path | None = Field(None, description="SQLite database; unset = in the data directory")
    debounce_ms: int = Field(400, description="Pause after typing before a live run starts")

    def __init__(self, **values) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            # pydantic's multi-line report names neither the file nor the variable the value
            # came from; the first problem, located, is what the user needs to fix it.
            raise ConfigError(_describe(exc.errors()[0])) from None

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _config_file_source(settings_cls, config_file_path()))


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


def _describe(error: dict) -> str:
    key = str(error["loc"][0]) if error.get("loc") else "?"
    problem = f"{error['msg']} (got {error.get('input')!r})"
    env_name = ENV_PREFIX + key.upper()
    if any(name.upper() == env_name for name in os.environ):
        return f"environment variable {env_name}: {problem}"
    path = config_file_path()
    line = _line_of_key(path, key)
    return f"{path}{f' line {line}' if line else ''}: {key}: {problem}"


def _line_of_key(path: Path, key: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return None
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), None)
