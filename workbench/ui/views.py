"""Keeping the views in step with the state: the ranking lists, heat map, document view and the
selected chunk, redrawn at most every REFRESH_S while scores stream in; pane navigation."""

from __future__ import annotations

from time import perf_counter

from rich.text import Text
from textual.widgets import TabbedContent

from workbench.engine.aggregate import aggregate as aggregate_scores

from .screens.main import PANES
from .widgets.chunk_list import ChunkList, DocList
from .widgets.document_view import DocumentView
from .widgets.heat_map import HeatMap, Strip
from .widgets.line_list import LineList
from .widgets.panes import DocumentTable
from .widgets.ranking import SORTS, RankingPane, document_rows

REFRESH_S = 0.2  # the views redraw at most this often while scores stream in


class ViewUpdates:
    """Mixed into WorkbenchApp; reads its state (documents, spans, scores, selected, sort...)."""

    def _request_refresh(self) -> None:
        """Redraw now, or at most every REFRESH_S while scores stream in (one redraw per burst)."""
        if self._refresh_timer is not None:
            return
        wait = self._last_refresh + REFRESH_S - perf_counter()
        if wait <= 0:
            self._refresh_views()
        else:
            self._refresh_timer = self.set_timer(wait, self._refresh_views)

    def _clear_results(self) -> None:
        self.spans, self.scores = {}, {}
        self._refresh_views()

    def _refresh_views(self) -> None:
        self._refresh_timer = None
        self._last_refresh = perf_counter()
        if self.scores and self.scores_generation == self.generation and "first_rows" not in self.timeline:
            self.timeline["first_rows"] = perf_counter()
        texts = {d.id: d.text for d in self.documents}
        order = {d.id: n for n, d in enumerate(self.documents)}
        ranked = sorted(self.scores.values(), key=lambda c: (-c.logit, order.get(c.doc_id, 0), c.chunk.index))
        ranks = {(c.doc_id, c.chunk.index): n for n, c in enumerate(ranked, 1)}
        docs = document_rows(self.documents, self.spans, self.scores, lambda s: aggregate_scores(s, self.aggregate, self.top_k))
        doc_rank = {r.doc_id: n for n, r in enumerate(docs)}
        shown = [c for c in ranked if self.doc_filter in (None, c.doc_id)]
        if self.sort == "document":
            shown.sort(key=lambda c: (doc_rank.get(c.doc_id, 0), -c.logit))
        elif self.sort == "position":
            shown.sort(key=lambda c: (order.get(c.doc_id, 0), c.chunk.start))
        capacity = sum(len(v) for k, v in self.spans.items() if self.doc_filter in (None, k))
        self.widget(ChunkList).show(shown, ranks, texts, capacity)
        self.widget(DocList).set_rows(docs)
        where = f"only {self.doc_filter}" if self.doc_filter else "all documents"
        self.widget(RankingPane).set_info(
            Text.assemble(
                (f"{len(shown)} chunks · sorted by {self.sort} · {where}", "bold"),
                ("   s sort · f filter · enter show in text · i prompt · ctrl+y copy", "dim"),
            )
        )
        by_doc: dict[str, dict[int, float]] = {d.id: {} for d in self.documents}
        for (doc, i), c in self.scores.items():
            by_doc.setdefault(doc, {})[i] = c.score
        doc_scores = {r.doc_id: r.score for r in docs}
        strips = [Strip(d.id, len(self.spans.get(d.id, [])), by_doc[d.id], doc_scores.get(d.id)) for d in self.documents]
        if self.selected and (self.selected[0] not in self.spans or self.selected[1] >= len(self.spans[self.selected[0]])):
            self.selected = None
        self.widget(HeatMap).show(strips, self.selected)
        self._show_selected(scroll=False)
        self.widget(DocumentTable).show(self.documents, {k: len(v) for k, v in self.spans.items()}, self.edited)

    def _refresh_documents(self) -> None:
        self.widget(DocumentTable).show(self.documents, {k: len(v) for k, v in self.spans.items()}, self.edited)

    def select_chunk(self, doc_id: str, index: int, *, show_text: bool = False) -> None:
        self.selected = (doc_id, index)
        self.widget(HeatMap).select(self.selected)
        self._show_selected(scroll=True)
        if show_text:
            self.action_show_pane("heat")

    def _show_selected(self, scroll: bool) -> None:
        view = self.widget(DocumentView)
        title = self.main.query_one("#doc-title")
        if self.selected is None:
            view.show(None, [], {}, None, scroll=False)
            title.update("Select a chunk (heat map cell or ranking row) to see it in its document.", layout=False)
            return
        doc_id, index = self.selected
        document = next((d for d in self.documents if d.id == doc_id), None)
        spans = self.spans.get(doc_id, [])
        scores = {i: c.score for (d, i), c in self.scores.items() if d == doc_id}
        view.show(document, spans, scores, index, scroll=scroll)
        span = spans[index]
        score = f"score {scores[index]:.3f}" if index in scores else "not scored yet"
        title.update(
            Text.assemble(
                (doc_id, "bold"),
                f" · chunk #{index} of {len(spans)} · chars {span.start}–{span.end} · {span.tokens} tokens · ",
                (score, "bold"),
            ),
            layout=False,  # one fixed line: no reflow of the screen
        )

    def on_heat_map_selected(self, event: HeatMap.Selected) -> None:
        self.select_chunk(event.doc_id, event.index)

    def on_ranking_pane_show_chunk(self, event: RankingPane.ShowChunk) -> None:
        self.select_chunk(event.doc_id, event.index, show_text=True)

    def on_line_list_highlighted(self, event: LineList.Highlighted) -> None:
        if event.control.id != "chunk-table":
            return
        self.selected = event.value
        self.widget(HeatMap).select(self.selected)
        self._show_selected(scroll=True)

    def on_ranking_pane_filter_document(self, event: RankingPane.FilterDocument) -> None:
        self.doc_filter = None if self.doc_filter == event.doc_id else event.doc_id
        self._refresh_views()

    def on_ranking_pane_sort_by(self, event: RankingPane.SortBy) -> None:
        self.sort = event.sort
        self._refresh_views()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self._refresh_views()

    def action_cycle_filter(self) -> None:
        ids = [None] + [d.id for d in self.documents]
        self.doc_filter = ids[(ids.index(self.doc_filter) + 1) % len(ids)] if self.doc_filter in ids else None
        self._refresh_views()

    # -- navigation ---------------------------------------------------------------------------

    def action_show_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        self.main.query_one("#panes", TabbedContent).active = pane
        target = {"ranking": ChunkList, "heat": HeatMap, "documents": DocumentTable}[pane]
        self.widget(target).focus()

    def action_focus_query(self) -> None:
        self.main.query_one("#query").focus()

    def action_focus_settings(self) -> None:
        self.main.query_one("#chunk-tokens").focus()
