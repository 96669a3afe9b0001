"""Relevance labels from the keyboard: 0-3 grade the chunk at hand (or, in the document ranking,
the whole document) for the query on screen; - removes the label. Labels are kept per query and
come back whenever it is scored again (workbench/session/labelling.py)."""

from __future__ import annotations

from workbench.session import SessionInputError

from .app_parts import AppPart
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
