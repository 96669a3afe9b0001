"""Instruction presets: named instructions the UI offers instead of retyping them.

The defaults are seeded once, when the schema is created (see schema.py), so a preset the user
deleted stays deleted; `restore_defaults` brings missing ones back on request.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.store.database import Store, utc_now
from workbench.store.errors import PresetNotFoundError, StoreError
from workbench.store.schema import DEFAULT_PRESETS, OFFICIAL_INSTRUCTION

__all__ = ["DEFAULT_PRESETS", "OFFICIAL_INSTRUCTION", "Preset", "Presets"]


@dataclass(frozen=True)
class Preset:
    id: int
    name: str
    text: str


class Presets:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self) -> list[Preset]:
        """All presets, in the order they were created."""
        with self.store.read() as db:
            rows = db.execute("SELECT id, name, text FROM instruction_presets ORDER BY id").fetchall()
        return [Preset(*row) for row in rows]

    def get(self, name: str) -> Preset:
        with self.store.read() as db:
            row = db.execute(
                "SELECT id, name, text FROM instruction_presets WHERE name = ?", [name]
            ).fetchone()
        if row is None:
            raise PresetNotFoundError(f"no instruction preset named {name!r}")
        return Preset(*row)

    def save(self, name: str, text: str) -> Preset:
        """Create the preset, or replace the text of the one with that name."""
        name = name.strip()
        if not name:
            raise StoreError("a preset name cannot be empty")
        with self.store.write() as db:
            db.execute(
                "INSERT INTO instruction_presets (name, text, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET text = excluded.text",
                [name, text, utc_now()],
            )
            return self.get(name)

    def rename(self, name: str, new_name: str) -> None:
        new_name = new_name.strip()
        with self.store.write() as db:
            self.get(name)
            if new_name != name and db.execute(
                "SELECT 1 FROM instruction_presets WHERE name = ?", [new_name]
            ).fetchone():
                raise StoreError(f"a preset named {new_name!r} already exists")
            db.execute("UPDATE instruction_presets SET name = ? WHERE name = ?", [new_name, name])

    def delete(self, name: str) -> None:
        with self.store.write() as db:
            if not db.execute("DELETE FROM instruction_presets WHERE name = ?", [name]).rowcount:
                raise PresetNotFoundError(f"no instruction preset named {name!r}")

    def restore_defaults(self) -> int:
        """Re-add default presets whose names are missing; returns how many were added."""
        with self.store.write() as db:
            cursor = db.conn.executemany(
                "INSERT OR IGNORE INTO instruction_presets (name, text, created_at) VALUES (?, ?, ?)",
                [(name, text, utc_now()) for name, text in DEFAULT_PRESETS],
            )
            return cursor.rowcount
