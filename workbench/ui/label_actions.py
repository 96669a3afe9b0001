"""Relevance labels from the keyboard: 0-3 grade the chunk at hand (or, in the document ranking,
the whole document) for the query on screen; - removes the label. Labels are kept per query and
come back whenever it is scored again (workbench/session/labelling.py)."""

from __future__ import annotations

from workbench.session import SessionInputError

from .app_parts import AppPart
from .screens.distribution import DistributionScreen
from .widgets.chunk_list import ChunkList, DocList

GRADE_NAMES = {0: "not relevant", 1: "somewhat relevant", 2: "relevant", 3: "the answer"}


class LabelActions(AppPart):
    def action_label(self, grade: int) -> None:
        """`grade` 0-3, or -1 to remove the label."""
        docs, chunks = self.widget(DocList), self.widget(ChunkList)
        doc_id, index = None, None
        if docs.has_focus:
            doc_id = docs.key_at_cursor()
        else:
            key = chunks.chunk_at_cursor() if chunks.has_focus else self.session.options.selected
            if key is not None:
                doc_id, index = key
        if doc_id is None:
            self.notify("Select a chunk (or a document in the document ranking) to label.", severity="warning")
            return
        try:
            self.session.label(doc_id, index, None if grade < 0 else grade)
        except SessionInputError as e:
            self.notify(str(e).capitalize() + ".", severity="warning")
            return
        what = doc_id if index is None else f"chunk #{index} of {doc_id}"
        told = "label removed" if grade < 0 else f"{grade}: {GRADE_NAMES[grade]}"
        self.notify(f"{what} · {told} (for this query)", timeout=3)
        self.refresh_views()

    def action_score_distribution(self) -> None:
        """The ranking's score distribution and, with labels, the best cut-off (d)."""
        from workbench.calibration import Labels, calibration_report, distribution, normalize_run, render_report

        result = self.session.result
        if result is None:
            self.notify("No complete ranking yet.", severity="warning")
            return
        grades = self.session.labels.chunk_grades(self.session.spans)
        labels = Labels(grades, unjudged=sum(len(d.chunks) for d in result.documents) - len(grades)) if grades else None
        lines = render_report(calibration_report(result, labels=labels))
        # Per-query min-max and z-score, as `workbench score --normalize` writes them.
        at = next(n for n, line in enumerate(lines) if line.startswith("probability histogram"))
        for method in ("minmax", "zscore"):
            d = distribution(list(normalize_run(result, method).chunks.values()))
            figures = f"min {d['min']:.4f}  median {d['median']:.4f}  max {d['max']:.4f}" if d["count"] else "n/a"
            lines.insert(at, f"  {method:<22} {figures}")
            at += 1
        # The cut-off first: it is what the screen is opened for, and the histogram may scroll.
        cut = [line for line in lines if line.startswith(("best cut-off", "no chunk is judged", "("))]
        lines = cut + [""] * bool(cut) + [line for line in lines if line not in cut]
        self.push_screen(DistributionScreen(f"Scores for {result.query[:50]!r}", lines))
