"""The main screen: editors, settings, the three panes, and the lines that say what is going on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from ..widgets.editors import PromptEditor
from ..widgets.panes import DocumentsPane, HeatPane
from ..widgets.ranking import RankingPane
from ..widgets.run_line import RunLine
from ..widgets.settings_bar import SettingsBar
from ..widgets.status_bar import StatusBar

PANES = ("ranking", "heat", "documents")


class MainScreen(Screen):
    BINDINGS = [
        Binding("f1", "app.help", "Help", id="help", priority=True),
        Binding("f2", "app.show_pane('ranking')", "Ranking", id="pane.ranking", priority=True),
        Binding("f3", "app.show_pane('heat')", "Heat map", id="pane.heat", priority=True),
        Binding("f4", "app.show_pane('documents')", "Documents", id="pane.documents", priority=True),
        Binding("f8", "app.focus_settings", "Chunk settings", id="focus.settings", show=False, priority=True),
        Binding("escape", "app.focus_query", "Back to the query", id="focus.query", show=False),
        Binding("ctrl+r", "app.rerun", "Rerun", id="run.rerun", priority=True),
        Binding("ctrl+o", "app.add_document", "Add file", id="docs.add-file", priority=True),
        Binding("ctrl+n", "app.paste_document", "Paste doc", id="docs.new", show=False, priority=True),
        Binding("ctrl+t", "app.presets", "Presets", id="instruction.presets", priority=True),
        Binding("ctrl+s", "app.export", "Export", id="results.export", priority=True),
        Binding("ctrl+g", "app.copy_ranking", "Copy ranking (CSV)", id="results.copy-ranking", show=False, priority=True),
        Binding("ctrl+y", "app.copy_chunk", "Copy chunk (outside the editors)", id="results.copy-chunk", show=False),
        Binding("i", "app.inspect_prompt", "Inspect prompt (outside the editors)", id="results.prompt", show=False),
    ]

    def compose(self) -> ComposeResult:
        config = self.app.config  # type: ignore[attr-defined]
        yield Static("", id="fallback-banner")
        with Horizontal(id="editors"):
            yield PromptEditor(config.query, "Query", placeholder="Type what you are searching for…", id="query")
            yield PromptEditor(config.instruction, "Instruction · ctrl+t presets", id="instruction")
        yield SettingsBar(config.chunking, config.aggregate, config.top_k, id="settings")
        with TabbedContent(id="panes", initial="ranking"):
            with TabPane("Ranking F2", id="ranking"):
                yield RankingPane(id="ranking-pane")
            with TabPane("Heat map F3", id="heat"):
                yield HeatPane(id="heat-pane")
            with TabPane("Documents F4", id="documents"):
                yield DocumentsPane(id="documents-pane")
        yield RunLine(id="run-line")
        yield StatusBar(hide_volatile=config.hide_volatile, id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        query = self.query_one("#query", PromptEditor)
        query.move_cursor(query.document.end)  # type on after a --query given on the command line
        query.focus()
        self.app.start()  # type: ignore[attr-defined]
