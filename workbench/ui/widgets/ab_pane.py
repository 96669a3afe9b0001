"""The A/B pane: the pinned ranking (A) against the latest complete one (B), chunk by chunk."""

from __future__ import annotations

from .report_pane import ReportPane


class ABPane(ReportPane):
    HOW_TO = (
        "Pin the current ranking as A with ctrl+b, then edit the instruction (or the settings, or "
        "reload another model): every new complete ranking is B, compared with A here: ranks and "
        "scores under A and B, ▲/▼ rank shifts, chunks entering or leaving the top 10, Kendall tau, "
        "rank-biased overlap, and the chunks whose score moved most. Unchanged pairs come from the "
        "cache, so B costs only its new prompts. ctrl+b again unpins."
    )
    HEAD_ID, ROWS_ID = "ab-text", "ab-table"

    def show(self, lines: list[str] | None, note: str | None = None) -> None:
        """The comparison as text lines; None: nothing pinned (or no B yet, with `note`)."""
        if lines is None:
            self.note(note)
            return
        # Everything above the first table header wraps to the pane; the rows keep one line each.
        split = next((n for n, line in enumerate(lines) if line.startswith("chunk ")), len(lines))
        self.head(lines[:split])
        self.rows(lines[split:])
