"""Keeping the views in step with the session: the ranking lists, heat map, document view and the
selected chunk, redrawn at most every REFRESH_S while scores stream in; pane navigation."""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.message import Message

from workbench.ab_compare import render
from workbench.first_stage import DESCRIPTIONS, FirstStageRanking
from workbench.session.first_stage_view import FirstStageRequest, FirstStageView, with_first_stage
from workbench.session.live_metrics import live_metrics, metrics_line

from .app_parts import AppPart
from .screens.main import PANES
from .widgets.ab_pane import ABPane
from .widgets.query_set_pane import QuerySetPane
from .widgets.chunk_list import ChunkList, DocList
from .widgets.document_view import DocumentView
from .widgets.heat_map import HeatMap
from .widgets.line_list import LineList
from .widgets.panes import DocumentTable, HeatPane
from .widgets.ranking import RankingPane

if TYPE_CHECKING:
    from textual.timer import Timer

REFRESH_S = 0.2  # the views redraw at most this often while scores stream in


class FirstStageRanked(Message):
    """A first stage's ranking of the chunks on screen, computed off the UI thread."""

    def __init__(self, key: tuple, ranking: FirstStageRanking) -> None:
        super().__init__()
        self.key, self.ranking = key, ranking


class ViewUpdates(AppPart):
    """Mixed into WorkbenchApp: draws `self.session` into the widgets; holds no state of its own
    beyond the redraw timer."""

    _refresh_timer: Timer | None = None
    _last_refresh = 0.0
    _metrics_key: tuple | None = None  # (result, labels) the metrics text was computed for
    _metrics_text = ""
    _first_stage: FirstStageView | None = None

    def request_refresh(self) -> None:
        """Redraw now, or at most every REFRESH_S while scores stream in (one redraw per burst).
        A run's first scores are drawn at once: they are what the user waits for after typing."""
        first_scores = self._first_scores_undrawn()
        if self._refresh_timer is not None and not first_scores:
            return
        wait = 0.0 if first_scores else self._last_refresh + REFRESH_S - perf_counter()
        if wait <= 0:
            self.refresh_views()
        else:
            self._refresh_timer = self.set_timer(wait, self.refresh_views)

    def _first_scores_undrawn(self) -> bool:
        """The running run has scores and none of them is drawn yet. Until its chunks arrive
        ("chunked") the scores held are the previous run's: a redraw then must not count as its
        first rows, or its real first scores would wait for the redraw timer."""
        return bool(self.session.scores) and "chunked" in self.timeline and "first_rows" not in self.timeline

    def refresh_views(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
        self._refresh_timer = None
        self._last_refresh = perf_counter()
        session = self.session
        if self._first_scores_undrawn():
            self.timeline["first_rows"] = perf_counter()
        view = with_first_stage(session.view(), *self._first_stage_now())
        texts = {d.id: d.text for d in session.documents}
        self.widget(ChunkList).show(view.chunks, view.ranks, texts, view.capacity, view.grades,
                                    view.first_stage, view.first_stage_ranks)
        self.widget(DocList).show(view.documents, view.first_stage)
        where = f"only {view.doc_filter}" if view.doc_filter else "all documents"
        self.widget(RankingPane).set_info(
            Text.assemble(
                (f"{len(view.chunks)} chunks · sorted by {view.sort} · {where}", "bold"),
                (self._first_stage_note(view.first_stage), "bold"),
                (f" · {self.labelled_metrics()}" if view.grades or any(r.grade for r in view.documents) else "", "bold green"),
                ("   s sort · f filter · space this document only · enter show in text · 0-3 label · i prompt", "dim"),
            )
        )
        self.widget(HeatMap).show(view.strips, session.options.selected)
        self._show_selected(scroll=False)
        self.widget(DocumentTable).show(session.documents, {k: len(v) for k, v in session.spans.items()}, session.edited)

    # -- the first stage next to the reranker (b) ------------------------------------------

    @property
    def first_stage(self) -> FirstStageView:
        if self._first_stage is None:
            self._first_stage = FirstStageView()
        return self._first_stage

    def action_cycle_first_stage(self) -> None:
        self.set_first_stage(self.first_stage.cycle())

    def set_first_stage(self, method: str) -> None:
        """Show `method`'s rank ("none", "bm25" or "embedding") next to the reranker's."""
        self.first_stage.choose(method)
        self.notify(f"First stage: {DESCRIPTIONS[method]}; its rank → the reranker's in the ranking pane."
                    if method != "none" else "First stage off.", timeout=4)
        self.refresh_views()

    def _first_stage_now(self) -> tuple[str, FirstStageRanking | None]:
        """The first stage on and its ranking of the chunks on screen (None until computed)."""
        request = self.first_stage.request(self.session)
        if request is not None:
            self._rank_first_stage(request)
        return self.first_stage.method, self.first_stage.ranking()

    def _first_stage_note(self, method: str | None) -> str:
        if method is None:
            return ""
        return f" · {method} rank→reranker's" + (" (ranking…)" if self.first_stage.pending() else "")

    @work(thread=True, exclusive=True, exit_on_error=False, group="first-stage", name="first stage")
    def _rank_first_stage(self, request: FirstStageRequest) -> None:
        self.post_message(FirstStageRanked(request.key, request.compute()))

    def on_first_stage_ranked(self, message: FirstStageRanked) -> None:
        if self.first_stage.accept(message.key, message.ranking):
            self.refresh_views()

    # -- selection ------------------------------------------------------------------------

    def select_chunk(self, doc_id: str, index: int, *, show_text: bool = False) -> None:
        self.session.select((doc_id, index))
        self.widget(HeatMap).select(self.session.options.selected)
        self._show_selected(scroll=True)
        if show_text:
            self.action_show_pane("heat")

    def _show_selected(self, scroll: bool) -> None:
        session, view = self.session, self.widget(DocumentView)
        selected = session.options.selected
        if selected is None:
            view.show(None, [], {}, None, scroll=False)
            self.widget(HeatPane).show_title(None)
            return
        doc_id, index = selected
        spans = session.spans.get(doc_id, [])
        scores = {i: c.score for (d, i), c in session.scores.items() if d == doc_id}
        view.show(session.document(doc_id), spans, scores, index, scroll=scroll)
        span = spans[index]
        score = f"score {scores[index]:.3f}" if index in scores else "not scored yet"
        self.widget(HeatPane).show_title(
            Text.assemble(
                (score, "bold"),  # first: the line is cut at the right on narrow screens
                f" · {doc_id} · chunk #{index} of {len(spans)} · chars {span.start}–{span.end} · {span.tokens} tokens",
            )
        )

    def on_heat_map_selected(self, event: HeatMap.Selected) -> None:
        self.select_chunk(event.doc_id, event.index)

    def on_ranking_pane_show_chunk(self, event: RankingPane.ShowChunk) -> None:
        self.select_chunk(event.doc_id, event.index, show_text=True)

    def on_line_list_highlighted(self, event: LineList.Highlighted) -> None:
        if event.control.id == "chunk-table":
            self.session.select(event.value)
            self.widget(HeatMap).select(self.session.options.selected)
            self._show_selected(scroll=True)

    def on_ranking_pane_filter_document(self, event: RankingPane.FilterDocument) -> None:
        self.session.options.toggle_filter(event.doc_id)
        self.refresh_views()

    def on_ranking_pane_sort_by(self, event: RankingPane.SortBy) -> None:
        self.session.options.sort = event.sort
        self.refresh_views()

    def action_cycle_sort(self) -> None:
        self.session.options.cycle_sort()
        self.refresh_views()

    def action_cycle_filter(self) -> None:
        self.session.options.cycle_filter([d.id for d in self.session.documents])
        self.refresh_views()

    def labelled_metrics(self) -> str:
        """The complete ranking's metrics from the user's labels (recomputed only when it or the
        labels change: a redraw while scores stream in costs nothing)."""
        session = self.session
        if session.result is None or session.running:
            return "labels: metrics when the run completes"
        key = (id(session.result), frozenset(session.labels.grades.items()))
        if self._metrics_key != key:
            line = metrics_line(live_metrics(session.result, session.labels, session.documents))
            self._metrics_key, self._metrics_text = key, line or "labels: none relevant yet"
        return self._metrics_text

    # -- A/B --------------------------------------------------------------------------------

    def action_pin_a(self) -> None:
        ab, result = self.session.ab, self.session.result
        if ab.a is not None:
            ab.clear()
            self.notify("A unpinned.", timeout=3)
        elif result is None:
            self.notify("Nothing to pin yet: wait for a complete ranking.", severity="warning")
            return
        else:
            ab.pin(result)
            self.notify("Pinned this ranking as A. Edit the instruction or settings; F7 compares A with B.", timeout=6)
        self.refresh_ab()

    def refresh_ab(self) -> None:
        """Compare A with the latest complete ranking (after each finished run, not while scoring)."""
        session = self.session
        comparison = session.ab.comparison(session.result, session.documents)
        if comparison is None or session.result is session.ab.a:
            note = "A is pinned: edit the instruction or settings; B appears here when the next run finishes." if session.ab.a else None
            self.widget(ABPane).show(None, note)
            return
        lines = render(comparison)
        if session.labels.grades:  # the same labels judge both sides
            for n, (side, result) in enumerate((("A", comparison.a.result), ("B", comparison.b.result))):
                line = metrics_line(live_metrics(result, session.labels, session.documents))
                lines.insert(2 + n, f"{side} with your labels: {line or 'no relevant label among its chunks'}")
        self.widget(ABPane).show(lines)

    # -- navigation ---------------------------------------------------------------------------

    def action_show_pane(self, pane: str) -> None:
        if pane in PANES:
            target = {"ranking": ChunkList, "heat": HeatMap, "documents": DocumentTable, "ab": ABPane,
                      "set": QuerySetPane}[pane]
            self.main.show_pane(pane, self.widget(target))

    def action_focus_query(self) -> None:
        self.main.focus_query()

    def action_focus_settings(self) -> None:
        self.main.focus_settings()
