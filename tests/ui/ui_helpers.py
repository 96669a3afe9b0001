"""Helpers shared by the UI tests: small fixed documents, a fake run log, a slow scorer, an app
that records its notices, and waiting for the app."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from workbench.engine.types import Document  # noqa: E402
from workbench.session import RunRecorder  # noqa: E402
from workbench.ui.app import WorkbenchApp  # noqa: E402

ESPRESSO = (
    "Espresso tuning starts with the grinder. A finer grind slows the flow of water through the puck, "
    "which raises extraction and makes the shot taste less sour. A coarser grind speeds the shot up. "
    "Change one thing at a time and write it down.\n\n"
    "Dose matters as much as grind. Most baskets are built for a narrow range of coffee weight; "
    "overfilling stops the puck from expanding and underfilling leaves room for channelling.\n\n"
    "Water temperature is the third lever. Light roasts want hotter water, dark roasts cooler water, "
    "and a machine with a PID controller lets you set it to within a degree.\n\n"
    "Finally, taste. Sour means under-extracted, bitter and dry means over-extracted. Adjust the grind "
    "first, then the ratio, then the temperature, and always pull two shots before judging."
)
MARS = (
    "Mars is the fourth planet from the Sun. Its red colour comes from iron oxide dust on the surface. "
    "Rovers such as Curiosity and Perseverance have studied its rocks and its ancient lake beds.\n\n"
    "The planet has two small moons, Phobos and Deimos, and a thin atmosphere made mostly of carbon "
    "dioxide. Dust storms can cover the whole planet for weeks.\n\n"
    "Missions to Mars take about seven months. Engineers choose launch windows when Earth and Mars "
    "line up, which happens roughly every twenty-six months."
)
BACKUPS = (
    "Backups are taken nightly and kept for thirty days. Weekly backups are kept for a year. "
    "Restores are tested every quarter by restoring a random database into a staging environment "
    "and comparing row counts and checksums with production."
)


def sample_documents() -> list[Document]:
    return [
        Document("espresso.md", ESPRESSO, "docs/espresso.md"),
        Document("mars.md", MARS, "docs/mars.md"),
        Document("backups.txt", BACKUPS, "docs/backups.txt"),
    ]


class FakeRecorder(RunRecorder):
    """Records calls in memory, stores nothing (the RunRecorder contract's test fake)."""

    records_runs = True

    def __init__(self) -> None:
        super().__init__()
        self.begun: list[str] = []
        self.finished: list[tuple[int, str]] = []
        self.discarded: list[int] = []

    @property
    def description(self) -> str:
        return "runs are kept in a test's memory"

    def begin(self, inputs, model):
        self.begun.append(inputs.query)
        return len(self.begun)

    def finish(self, run_id, result) -> None:
        self.finished.append((run_id, result.query))

    def discard(self, run_id) -> None:
        self.discarded.append(run_id)


class RecordingApp(WorkbenchApp):
    """The app, remembering its notices (tests assert on what the user was told)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notices: list[tuple[str, str]] = []

    def notify(self, message, *, title="", severity="information", **kwargs) -> None:
        self.notices.append((f"{title}: {message}" if title else str(message), severity))
        super().notify(message, title=title, severity=severity, **kwargs)


async def wait_for(pilot, condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Let the app run until `condition()` is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def wait_ranked(pilot, query: str | None = None, timeout: float = 20.0) -> None:
    """Until the app shows a complete ranking (for `query`, when given) and is idle."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: app.session.result is not None and not app.session.running and not app.run_pending
        and (query is None or app.session.result.query == query),
        timeout,
        f"a complete ranking for {query!r}",
    )
    await pilot.pause()
