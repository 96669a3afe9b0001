"""Where the workbench keeps its files. One place, so `workbench locate` and the code agree.

Directories are resolved on every call (not at import) so tests and users can point
WORKBENCH_DATA_DIR / WORKBENCH_CONFIG_DIR elsewhere at any time. Nothing is created on import;
`make_private_dirs` creates what the store needs.
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
# The database holds whole documents and queries, on what are often shared GPU boxes.
PRIVATE_DIR_MODE = 0o700


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


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents owner-only (0700).

    Directories that already exist keep their mode: one the user chose (or made shared on
    purpose) is theirs to set.
    """
    missing = []
    for candidate in (directory, *directory.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        try:
            candidate.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            pass
