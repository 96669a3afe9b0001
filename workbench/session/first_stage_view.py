"""The ranking pane's first-stage column: which first stage is on, and its ranking of the chunks
on screen, so the pane can show how far the reranker moved each chunk ("9→1"). Headless.

The first stage ranks the chunks of the run on screen (the reranker's own chunks), by the query
that run ranked. Computing it may be slow (the embedding model embeds every chunk), so the owner
asks `request()` what is missing, computes it wherever it likes (`compute`), and hands it back
with `accept()`; a result for inputs no longer on screen is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from workbench.engine.types import ChunkSpan, Document
from workbench.first_stage import METHODS, FirstStageRanking, rank_first_stage

from .view_model import ResultsView

if TYPE_CHECKING:
    from .controller import Workbench

CHOICES = ("none", *METHODS)


@dataclass(frozen=True)
class FirstStageRequest:
    """What to rank: `key` names these inputs, so a late answer for older ones is told apart."""

    key: tuple
    method: str
    query: str
    documents: tuple[Document, ...]
    spans: dict[str, list[ChunkSpan]]

    def compute(self) -> FirstStageRanking:
        """The first stage's ranking (on any thread; slow for the embedding model's first use)."""
        return rank_first_stage(self.method, self.query, self.documents, self.spans)


class FirstStageView:
    """The chosen first stage ("none", "bm25" or "embedding") and its latest ranking."""

    def __init__(self) -> None:
        self.method = "none"
        self._ranking: FirstStageRanking | None = None
        self._ranking_key: tuple | None = None
        self._pending: tuple | None = None  # asked for and not back yet
        self._wanted: tuple | None = None  # the inputs on screen at the last request()

    def cycle(self) -> str:
        """Turn to the next choice: none → bm25 → embedding → none. Returns the new one."""
        return self.choose(CHOICES[(CHOICES.index(self.method) + 1) % len(CHOICES)])

    def choose(self, method: str) -> str:
        if method not in CHOICES:
            raise ValueError(f"first stage must be one of {', '.join(CHOICES)} (got {method!r})")
        self.method = method
        return method

    def request(self, session: Workbench) -> FirstStageRequest | None:
        """The work needed to show the first stage for the chunks on screen; None when there is
        none (off, nothing on screen, already shown or already asked for)."""
        shown = session.shown
        if self.method == "none" or shown is None or not session.spans:
            self._wanted = None
            return None
        documents = tuple(d for d in shown.documents if d.id in session.spans)
        spans = {d.id: list(session.spans[d.id]) for d in documents}
        # By value: the same texts cut the same way by the same query give the same ranking.
        key = (self.method, shown.query, tuple((d.id, hash(d.text), tuple((s.start, s.end) for s in spans[d.id]))
                                               for d in documents))
        self._wanted = key
        if key in (self._ranking_key, self._pending):
            return None
        self._pending = key
        return FirstStageRequest(key, self.method, shown.query, documents, spans)

    def accept(self, key: tuple, ranking: FirstStageRanking) -> bool:
        """Keep a computed ranking; False when the screen has moved on from its inputs."""
        if key == self._pending:
            self._pending = None
        if key != self._wanted:
            return False
        self._ranking, self._ranking_key = ranking, key
        return True

    def ranking(self) -> FirstStageRanking | None:
        """The ranking for what is on screen (as of the last request()), if it is ready."""
        return self._ranking if self._wanted is not None and self._ranking_key == self._wanted else None

    def pending(self) -> bool:
        return self._wanted is not None and self._pending == self._wanted


def with_first_stage(view: ResultsView, method: str, ranking: FirstStageRanking | None) -> ResultsView:
    """`view` with the first stage's rank of each chunk and document; while `ranking` is not
    ready yet the column is there without ranks. Unchanged when the first stage is off."""
    if method == "none":
        return view
    ranks = ranking.chunk_ranks if ranking is not None else {}
    doc_ranks = ranking.doc_ranks if ranking is not None else {}
    rows = [replace(r, first_stage_rank=doc_ranks.get(r.doc_id)) for r in view.documents]
    return replace(view, documents=rows, first_stage=method, first_stage_ranks=dict(ranks))
