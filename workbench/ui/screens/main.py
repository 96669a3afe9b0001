"""The main screen: editors, settings, the three panes, and the lines that say what is going on."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Footer, Static, TabbedContent, TabPane, TextArea

from workbench.session import RunSettings

from ..config import WorkbenchConfig

from ..widgets.ab_pane import ABPane
from ..widgets.query_set_pane import QuerySetPane
from ..widgets.editors import PromptEditor
from ..widgets.panes import DocumentsPane, HeatPane
from ..widgets.ranking import RankingPane
from ..widgets.run_line import RunLine
from ..widgets.settings_bar import SettingsBar
from ..widgets.status_bar import StatusBar

PANES = ("ranking", "heat", "documents", "ab", "set")


class MainScreen(Screen):
    # description: the footer's word; tooltip: the help screen's sentence. F2-F4 stay out of the
    # footer: the pane tabs show them, and the footer must read completely at 80 columns.
    BINDINGS = [
        Binding("f1", "app.help", "Help", tooltip="This list of keys", id="help", priority=True),
        Binding("f2", "app.show_pane('ranking')", "Ranking", id="pane.ranking", priority=True, show=False,
                tooltip="Ranking pane: every chunk, and the documents by aggregated score"),
        Binding("f3", "app.show_pane('heat')", "Heat map", id="pane.heat", priority=True, show=False,
                tooltip="Heat map pane: a strip per document, the selected chunk in its text"),
        Binding("f4", "app.show_pane('documents')", "Documents", id="pane.documents", priority=True, show=False,
                tooltip="Documents pane: add, paste, edit, remove documents"),
        Binding("f5", "app.history", "History", id="history.open", priority=True,
                tooltip="History: this session's runs, newest first; reopen one, or mark two and compare"),
        Binding("f6", "app.tried_instructions", "Tried", id="history.tried", priority=True, show=False,
                tooltip="Every instruction tried for this query, best first under your labels; enter restores one"),
        Binding("f7", "app.show_pane('ab')", "A/B", id="pane.ab", priority=True, show=False,
                tooltip="A/B pane: the pinned ranking (A) against the latest one (B)"),
        Binding("f10", "app.show_pane('set')", "Query set", id="pane.set", priority=True, show=False,
                tooltip="Query-set pane: the judged queries of --queries, scored for the current instruction (and A)"),
        Binding("ctrl+b", "app.pin_a", "Pin A", id="ab.pin", priority=True, show=False,
                tooltip="Pin the current ranking as A (again: unpin); edit, and the A/B pane (F7) compares"),
        Binding("f8", "app.focus_settings", "Settings", show=False, id="focus.settings", priority=True,
                tooltip="Chunk size, overlap, aggregation and k (the line under the editors)"),
        Binding("f9", "app.compare_previous", "Compare", show=False, id="history.compare-previous", priority=True,
                tooltip="Compare the current run with the previous one: rank moves, Kendall tau, top-k overlap"),
        Binding("escape", "app.focus_query", "Query", show=False, id="focus.query",
                tooltip="Back to the query editor"),
        Binding("ctrl+r", "app.rerun", "Rerun", id="run.rerun", priority=True,
                tooltip="Score again now, without waiting (unchanged pairs come from the cache)"),
        Binding("ctrl+o", "app.add_document", "Add file", id="docs.add-file", priority=True,
                tooltip="Add a .txt/.md file, or a folder of them"),
        Binding("ctrl+n", "app.paste_document", "Paste doc", show=False, id="docs.new", priority=True,
                tooltip="A new document from pasted text"),
        Binding("ctrl+t", "app.presets", "Presets", id="instruction.presets", priority=True,
                tooltip="Instruction presets: pick one, save the current instruction, delete"),
        Binding("ctrl+s", "app.export", "Export", id="results.export", priority=True,
                tooltip="Write the ranking to a .json, .jsonl or .csv file"),
        Binding("ctrl+g", "app.copy_ranking", "Copy ranking", show=False, id="results.copy-ranking", priority=True,
                tooltip="Copy the ranking as CSV (OSC 52 clipboard: works over SSH)"),
        Binding("ctrl+e", "app.edit_in_editor", "$EDITOR", show=False, id="docs.editor",
                tooltip="Edit the selected document in $EDITOR (outside the text editors)"),
        Binding("ctrl+y", "app.copy_chunk", "Copy chunk", show=False, id="results.copy-chunk",
                tooltip="Copy the selected chunk's text (outside the text editors, where it is redo)"),
        # Not priority: in the editors and settings these keys are typed as text.
        *(Binding(str(g), f"app.label({g})", f"Grade {g}", show=False, id=f"label.{g}",
                  tooltip=f"Label the selected chunk {g} ({name}) for this query; in the document ranking, the document")
          for g, name in enumerate(("not relevant", "somewhat relevant", "relevant", "the answer"))),
        Binding("d", "app.score_distribution", "Distribution", show=False, id="results.distribution",
                tooltip="Score distribution of the ranking, and with labels the cut-off with the best F1"),
        Binding("minus", "app.label(-1)", "Unlabel", show=False, id="label.remove",
                tooltip="Remove the selected chunk's (or document's) label for this query"),
        Binding("i", "app.inspect_prompt", "Prompt", show=False, id="results.prompt",
                tooltip="Show exactly what the model saw for the selected chunk (outside the editors)"),
    ]

    class Ready(Message):
        """The screen is mounted: the app may fill it and start loading."""

    def __init__(self, config: WorkbenchConfig) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        config = self.config
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
            with TabPane("A/B F7", id="ab"):
                yield ABPane(id="ab-pane")
            with TabPane("Query set F10", id="set"):
                yield QuerySetPane(id="set-pane")
        yield RunLine(id="run-line")
        yield StatusBar(hide_volatile=config.hide_volatile, id="status")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p is listed by F1; the room goes to keys

    def on_mount(self) -> None:
        query = self.query_one("#query", PromptEditor)
        query.move_cursor(query.document.end)  # type on after a --query given on the command line
        query.focus()
        if self.config.hide_volatile:
            for editor in self.query(PromptEditor):
                editor.cursor_blink = False  # a blinking cursor differs between screenshots
        self.post_message(self.Ready())

    # -- what the app may ask of this screen: it sets no widget of ours by id ------------------

    def load_inputs(self, query: str, instruction: str, settings: RunSettings) -> None:
        """Show inputs that are not an edit (a reopened or restored run): no Changed events."""
        with self.prevent(TextArea.Changed):
            for selector, text in (("#query", query), ("#instruction", instruction)):
                editor = self.query_one(selector, PromptEditor)
                editor.load_text(text)
                editor.move_cursor(editor.document.end)  # typing goes on where the text ends
        self.show_settings(settings)

    def show_settings(self, settings: RunSettings) -> None:
        """Put settings in the bar; it reports them back (a run follows only if they changed)."""
        self.query_one(SettingsBar).show(settings.chunking, settings.aggregate, settings.top_k)

    def use_instruction(self, text: str) -> None:
        """Replace the instruction as an edit would (a run follows)."""
        self.query_one("#instruction", PromptEditor).load_text(text)

    def show_banner(self, lines: list[str] | None) -> None:
        banner = self.query_one("#fallback-banner", Static)
        banner.set_class(bool(lines), "-visible")
        banner.update(Text("\n".join(lines or []), no_wrap=True, overflow="ellipsis"))

    @property
    def active_pane(self) -> str:
        return str(self.query_one("#panes", TabbedContent).active)

    def show_pane(self, pane: str, focus: Widget) -> None:
        self.query_one("#panes", TabbedContent).active = pane
        focus.focus()

    def focus_query(self) -> None:
        self.query_one("#query").focus()

    def focus_settings(self) -> None:
        self.query_one(SettingsBar).focus_first()
