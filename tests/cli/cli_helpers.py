"""Shared constants and helpers for tests/cli (importable: tests/cli is on sys.path)."""

from __future__ import annotations

import sys

# Prose long enough to need several 32-token chunks, with paragraph and sentence breaks so the
# chunker's boundary snapping is exercised.
LONG_TEXT = (
    "Tides are the rise and fall of sea levels caused by the gravity of the Moon and the Sun. "
    "Most coasts see two high tides and two low tides every lunar day.\n\n"
    "The Moon pulls the ocean toward it on the near side of the Earth. On the far side the water "
    "bulges too, because the Earth is pulled away from it. Spring tides happen at new and full "
    "moon, when the Sun and the Moon line up; neap tides happen at the quarter moons.\n\n"
    "Harbours publish tide tables so that ships with a deep draught can enter safely. The Bay of "
    "Fundy in Canada has the highest tidal range in the world, more than fifteen metres. "
    "Tidal power stations turn this motion into electricity with turbines in a barrage.\n"
)


def python_cli() -> list[str]:
    """The console entry as a subprocess: `python -m workbench.cli` runs `main()`."""
    return [sys.executable, "-m", "workbench.cli"]


def listed_sessions(stdout: str) -> list[tuple[str, int]]:
    """(name, runs) of each row that `workbench sessions list` printed. Names hold spaces
    ("score 2026-11-29 23:41:07"): the columns are cut where the header puts them."""
    if stdout.startswith("No "):  # "No sessions yet." / "No runs yet (there is no database ...)"
        return []
    header, *rows = stdout.splitlines()
    name_at, runs_end = header.index("NAME"), header.index("RUNS") + len("RUNS")
    return [(row[name_at : runs_end - 5].strip(), int(row[runs_end - 5 : runs_end])) for row in rows if row.strip()]
