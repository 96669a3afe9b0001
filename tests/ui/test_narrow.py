"""What a new user saw cut at 80x24, and the heat map at 120x40: every line reads completely."""

from __future__ import annotations

import html
import re

from rich.text import Text

from workbench.engine.types import Document
from workbench.store.compare import ChunkRankChange
from workbench.session.view_model import DocumentRow as DocRow
from workbench.ui.widgets.compare_list import CompareList
from workbench.ui.widgets.fit_label import fit_line
from workbench.ui.widgets.heat_map import HeatMap
from workbench.ui.widgets.status_bar import StatusBar

from ui_helpers import MARS, sample_documents, wait_ranked

LONG = "a-rather-long-document-name-{:02}.md"


def screen_lines(app) -> list[str]:
    """The screen as text, read from a screenshot."""
    rows: dict[int, dict[int, str]] = {}
    pattern = r'<text class="[^"]*r\d+" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" clip-path="url\(#[^"]*line-(\d+)\)">([^<]*)</text>'
    for m in re.finditer(pattern, app.export_screenshot()):
        rows.setdefault(int(m.group(2)), {})[round(float(m.group(1)) / 12.2)] = html.unescape(m.group(3)).replace("\xa0", " ")
    lines = []
    for n in sorted(rows):
        line = ""
        for col in sorted(rows[n]):
            line = line.ljust(col) + rows[n][col]
        lines.append(line.rstrip())
    return lines


def thirteen_documents() -> list[Document]:
    return sample_documents() + [Document(LONG.format(n), MARS[: 200 + 40 * n], None) for n in range(10)]


async def test_the_status_bar_reads_completely_at_80_columns(make_app):
    app = make_app(query="how fine should the grind be")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ranked(pilot)
        await pilot.pause()
        bar = app.widget(StatusBar)
        text = bar.render_status().plain
        assert len(text) <= bar.content_region.width
        assert re.search(r"\d+\.\d\d s · [\d.]+k? tok/s", text), text  # the latency and the speed
        assert "tiny-qwen3" in text and "mem " in text
        assert re.search(r"\d+\.\d\d s · ", screen_lines(app)[-2])


async def test_the_heat_map_uses_the_height_and_scrolls_to_the_selected_strip(make_app):
    app = make_app(query="grind", documents=thirteen_documents())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f3")
        await pilot.pause()
        scroll = app.main.query_one("#heat-scroll")
        assert scroll.max_scroll_y == 0, "all 13 strips show at 120x40"
    app = make_app(query="grind", documents=thirteen_documents())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ranked(pilot)
        # In the ranking pane (the heat map hidden): sort by position, the last chunk of the last document.
        await pilot.press("f2", "s", "s", "end", "f3")
        await pilot.pause(0.2)
        heat = app.widget(HeatMap)
        assert heat.cursor is not None and heat.cursor[0] == 12
        scroll = app.main.query_one("#heat-scroll")
        line = heat._line_of(*heat.cursor)
        assert scroll.scroll_offset.y <= line < scroll.scroll_offset.y + scroll.size.height, "the selected strip is in view"


async def test_the_chunk_title_keeps_its_score_at_80_columns(make_app):
    app = make_app(query="grind", documents=thirteen_documents())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f2", "s", "s", "end", "f3")
        await pilot.pause(0.2)
        title = next(line for line in screen_lines(app) if "chunk #" in line)
        assert re.search(r"score \d\.\d{3}", title) and len(title) <= 80, title
        assert LONG.format(9)[:12] in title


def test_fit_line_leaves_out_details_then_cuts_the_name_with_an_ellipsis():
    title = Text.assemble(("a-rather-long-document-name.md", "bold"), " · chunk #2 of 3 · chars 347–495 · 27 tokens · ", ("score 0.003", "bold"))
    assert fit_line(title, 200, keep_last=True).plain == title.plain
    assert fit_line(title, 60, keep_last=True).plain == "a-rather-long-document-name.md · chunk #2 of 3 · score 0.003"
    short = fit_line(title, 30, keep_last=True).plain
    assert short.endswith("… · score 0.003") and len(short) == 30
    hints = Text("9 chunks · sorted by score · all documents   s sort · f filter · enter show in text")
    assert fit_line(hints, 62).plain == "9 chunks · sorted by score · all documents   s sort · f filter"


def test_a_long_document_name_ends_with_an_ellipsis_in_the_document_ranking(make_app):
    from workbench.ui.widgets.chunk_list import DocList

    docs = DocList()
    line = docs.render_row(DocRow("a-very-long-document-name-that-does-not-fit.md", 0.5, 3, 3), 0, 40)
    assert line.cell_len <= 40 and line.plain.endswith("…")


def test_the_compare_span_column_never_runs_into_the_text():
    change = ChunkRankChange("h", 123456, 124999, "big.md", "big.md", 7, 7, 1, 2, 0.0, 0.0)
    listing = CompareList()
    listing.show([change], {("h", 123456, 124999): "the chunk text"})
    plain = listing.render_row(change, 0, 100).plain
    assert "123456–124999 " in plain and "the chunk text" in plain
