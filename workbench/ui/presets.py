"""Named instruction presets behind a small interface, so the SQLite store can replace the JSON file.

The interface is three methods: `list() -> [(name, text)]`, `save(name, text)`, `delete(name)`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Protocol

from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.paths import config_dir

PRESETS_FILENAME = "instruction_presets.json"
DEFAULT_PRESETS: tuple[tuple[str, str], ...] = (("official (web search)", DEFAULT_INSTRUCTION),)


class InstructionPresets(Protocol):
    def list(self) -> list[tuple[str, str]]: ...

    def save(self, name: str, text: str) -> None: ...

    def delete(self, name: str) -> None: ...


class PresetError(Exception):
    """A preset could not be read or written; the message says why."""


class JsonPresets:
    """Presets in one JSON object {name: text}. Until the file exists the defaults are offered."""

    def __init__(self, path: Path | None = None):
        self.path = path or config_dir() / PRESETS_FILENAME

    def list(self) -> list[tuple[str, str]]:
        return list(self._read().items())

    def save(self, name: str, text: str) -> None:
        name = name.strip()
        if not name:
            raise PresetError("a preset needs a name")
        data = self._read()
        data[name] = text
        self._write(data)

    def delete(self, name: str) -> None:
        data = self._read()
        if data.pop(name, None) is not None:
            self._write(data)

    def _read(self) -> dict[str, str]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return dict(DEFAULT_PRESETS)
        except OSError as e:
            raise PresetError(f"cannot read presets from {self.path}: {e.strerror or e}") from e
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise PresetError(f"{self.path} is not valid JSON (line {e.lineno}); fix or delete it") from e
        if not isinstance(data, dict):
            raise PresetError(f"{self.path} should hold a JSON object of name: text")
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, data: dict[str, str]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a crash never leaves half a file.
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent, delete=False) as tmp:
                json.dump(data, tmp, ensure_ascii=False, indent=2)
            os.replace(tmp.name, self.path)
        except OSError as e:
            raise PresetError(f"cannot save presets to {self.path}: {e.strerror or e}") from e
