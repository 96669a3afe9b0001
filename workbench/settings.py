"""User defaults: environment variables (WORKBENCH_*) over a TOML config file over built-ins.

Command-line flags override all of these. `workbench locate` prints where the config file lives.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .engine.prompt import DEFAULT_INSTRUCTION
from .paths import config_file_path


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKBENCH_", extra="ignore")

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

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file_path()))
