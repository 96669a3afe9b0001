"""Where the workbench keeps its files. One place, so `workbench locate` and the code agree.

Directories are resolved on every call (not at import) so tests and users can point
WORKBENCH_DATA_DIR / WORKBENCH_CONFIG_DIR elsewhere at any time. Nothing here creates them.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP_NAME = "rerank-workbench"
DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
CONFIG_DIR_ENV = "WORKBENCH_CONFIG_DIR"
DB_FILENAME = "workbench.db"
CONFIG_FILENAME = "config.toml"


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """Directory for the session database (platform data dir unless WORKBENCH_DATA_DIR is set)."""
    return _from_env(DATA_DIR_ENV) or user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    """Directory for config.toml (platform config dir unless WORKBENCH_CONFIG_DIR is set)."""
    return _from_env(CONFIG_DIR_ENV) or user_config_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME


def config_file_path() -> Path:
    return config_dir() / CONFIG_FILENAME
