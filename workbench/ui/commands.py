"""The command palette (ctrl+p): the app's actions and presets, searchable by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider


@runtime_checkable
class HasPaletteCommands(Protocol):
    def palette_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]: ...


class WorkbenchCommands(Provider):
    """Commands come from `app.palette_commands()`, so they follow the app's current state."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app  # Textual creates providers itself: the app is known by this interface only
        return list(app.palette_commands()) if isinstance(app, HasPaletteCommands) else []

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(callback), help=help_text)
