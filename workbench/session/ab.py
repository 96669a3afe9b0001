"""Live A/B: pin the current ranking as A, keep editing (instruction, settings, model), and every
new complete ranking is B, compared with A chunk by chunk (workbench.ab_compare)."""

from __future__ import annotations

from workbench.ab_compare import Comparison, Side, compare
from workbench.engine.types import Document, RankResult


class ABPin:
    def __init__(self) -> None:
        self.a: RankResult | None = None

    def pin(self, result: RankResult) -> None:
        self.a = result

    def clear(self) -> None:
        self.a = None

    def comparison(self, b: RankResult | None, documents: list[Document], k: int = 10) -> Comparison | None:
        """A against `b` (None until both exist). Documents are matched by id within a session."""
        if self.a is None or b is None:
            return None
        names = {d.id: d.id for d in documents} | {d.doc_id: d.doc_id for d in self.a.documents}
        return compare(Side("A", self.a, names), Side("B", b, names), k=k)
