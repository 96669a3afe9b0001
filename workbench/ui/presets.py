"""Named instruction presets for the UI, kept in the run log's database (table instruction_presets).

The UI sees three methods: `list() -> [(name, text)]`, `save(name, text)`, `delete(name)`; store
failures (locked, unwritable) arrive as PresetError with the store's readable message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from workbench.store import Presets, Store, StoreError, open_store


class InstructionPresets(Protocol):
    def list(self) -> list[tuple[str, str]]: ...

    def save(self, name: str, text: str) -> None: ...

    def delete(self, name: str) -> None: ...


class PresetError(Exception):
    """A preset could not be read or written; the message says why."""


class StorePresets:
    """Presets in the SQLite database (the same file as the run log; opened on first use)."""

    def __init__(self, db: Path | None = None):
        self.db = db
        self._store: Store | None = None

    def _presets(self) -> Presets:
        if self._store is None:
            try:
                self._store = open_store(self.db)
            except StoreError as e:
                raise PresetError(f"presets unavailable: {e}") from e
        return Presets(self._store)

    def list(self) -> list[tuple[str, str]]:
        try:
            return [(p.name, p.text) for p in self._presets().list()]
        except StoreError as e:
            raise PresetError(str(e)) from e

    def save(self, name: str, text: str) -> None:
        if not name.strip():
            raise PresetError("a preset needs a name")
        try:
            self._presets().save(name, text)
        except StoreError as e:
            raise PresetError(str(e)) from e

    def delete(self, name: str) -> None:
        try:
            self._presets().delete(name)
        except StoreError as e:
            raise PresetError(str(e)) from e
