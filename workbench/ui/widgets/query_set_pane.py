"""The query-set pane: `workbench eval` for the instruction being tuned, redone after each edit."""

from __future__ import annotations

from .report_pane import ReportPane


class QuerySetPane(ReportPane):
    HOW_TO = (
        "Start the workbench with --queries FILE (judged queries, as for `workbench eval`; --qrels FILE "
        "for TREC qrels) and every query of the set is scored here in the background whenever the "
        "ranking on screen is complete: nDCG@10, MRR@10 and Recall@10 at chunk and document level for "
        "the current instruction, and against the pinned A (ctrl+b) with wins, losses and paired "
        "p-values. An edit cancels it; it starts again when the live ranking is done."
    )
    HEAD_ID, ROWS_ID = "set-status", "set-report"

    def status(self, text: str) -> None:
        self.note(text, keep_rows=True)  # the last report stays until the next one

    def report(self, lines: list[str]) -> None:
        self.rows(lines)
