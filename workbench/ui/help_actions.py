"""F1 help (built from the bindings) and the command palette's list of actions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.binding import Binding

from workbench.engine.types import AGGREGATES, DEFAULT_MODEL, DTYPES, QUANTIZATIONS
from workbench.session import RunSettings

from .app_parts import AppPart
from .presets import PresetError
from .screens.compare import CompareScreen
from .screens.dialogs import InputDialog
from .screens.help import HelpScreen, fallback_note
from .screens.history import HistoryScreen
from .screens.main import MainScreen
from .widgets.chunk_list import ChunkList, DocList
from .widgets.heat_map import HeatMap
from .widgets.history_list import HistoryList
from .widgets.panes import DocumentTable

# Keys that Textual or the focused widget handle: listed on the help screen only.
EDITOR_KEYS = [
    Binding("tab", "-", "Next field (shift+tab: previous)", id="info.tab"),
    Binding("ctrl+z", "-", "Undo (ctrl+y redo) in an editor", id="info.undo"),
    Binding("ctrl+a", "-", "Start of line (ctrl+e end of line) in an editor", id="info.line"),
]
APP_KEYS = [
    Binding("ctrl+p", "-", "Command palette: every action, presets, sorting, filters", id="info.palette"),
    Binding("ctrl+q", "-", "Quit", id="info.quit"),
]


class HelpAndPalette(AppPart):
    """Mixed into WorkbenchApp."""

    def help_groups(self) -> list[tuple[str, list[Binding]]]:
        return [
            ("Main screen", list(MainScreen.BINDINGS)),
            ("Ranking pane (F2)", ChunkList.BINDINGS + DocList.BINDINGS),
            ("Heat map (F3): arrows move between chunks and documents", HeatMap.BINDINGS),
            ("Documents pane (F4)", DocumentTable.BINDINGS),
            ("History (F5)", HistoryList.BINDINGS + HistoryScreen.BINDINGS + CompareScreen.BINDINGS),
            ("Editors and fields", EDITOR_KEYS),
            ("Anywhere", APP_KEYS),
        ]

    def action_help(self) -> None:
        info = self.session.model
        note = fallback_note(info.fallback_reason) if info is not None and info.is_fallback else None
        self.push_screen(HelpScreen(self.help_groups(), note))

    def palette_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        yield "Help: keys", "Every key binding (F1)", self.action_help
        for pane, title in (("ranking", "Ranking"), ("heat", "Heat map and text"), ("documents", "Documents")):
            yield f"Show {title}", f"Switch to the {title.lower()} pane", partial(self.action_show_pane, pane)
        yield "Rerun now", "Score again without waiting (ctrl+r)", self.action_rerun
        yield "Cancel the running run", "Stop scoring; ctrl+r starts again", self.action_cancel_run
        yield "Cancel the query-set scoring", "Stop scoring the --queries set until the next run", self.stop_query_set
        yield "Add file or folder…", "Read .txt/.md documents (ctrl+o)", self.action_add_document
        yield "Paste text as a new document…", "ctrl+n", self.action_paste_document
        yield "Edit document here", "Edit the selected document in the app", self.action_edit_document
        yield "Edit document in $EDITOR", "Suspend the app and open your editor", self.action_edit_in_editor
        yield "Remove document", "Remove the selected document", self.action_remove_document
        yield "Instruction presets…", "Pick, save or delete presets (ctrl+t)", self.action_presets
        yield "Save instruction as preset…", "Name the current instruction", self.action_save_preset
        try:
            for name, text in self.presets.list():
                yield f"Use preset: {name}", text[:80], partial(self.use_instruction, text)
        except PresetError:
            pass
        yield "Copy selected chunk", "To the clipboard (OSC 52, works over SSH)", self.action_copy_chunk
        yield "Copy ranking as CSV", "To the clipboard (ctrl+g)", self.action_copy_ranking
        yield "Export results…", "JSON, JSONL or CSV file (ctrl+s)", self.action_export
        yield "Export setup…", "Model, instruction, chunking as TOML: score --setup, load_setup, LangChain, LlamaIndex", self.action_export_setup
        yield "Inspect prompt", "What the model saw for the selected chunk (i)", self.action_inspect_prompt
        for sort in ("score", "document", "position"):
            yield f"Sort chunks by {sort}", "Ranking pane order", partial(self._set_sort, sort)
        yield "Filter: all documents", "Show every document's chunks", partial(self._set_filter, None)
        for d in self.session.documents:
            yield f"Filter: {d.id}", "Show only this document's chunks", partial(self._set_filter, d.id)
        for how in AGGREGATES:
            yield f"Aggregate: {how}", "Document score from chunk scores", partial(self._set_aggregate, how)
        yield "History…", "This session's runs: reopen one, compare two (F5)", self.action_history
        for method in ("none", "bm25", "embedding"):
            yield f"First stage: {method}", "Its rank next to the reranker's: what reranking moved (b)", partial(self.set_first_stage, method)
        yield "Score distribution and cut-off", "Histogram; with labels the best F1 threshold (d)", self.action_score_distribution
        yield "Instructions tried…", "Best so far under your labels; restore one (F6)", self.action_tried_instructions
        yield "Compare with the previous run", "Rank moves, Kendall tau, top-k overlap (F9)", self.action_compare_previous
        yield "Reload model", "Load the model again (after a failure)", self.action_reload_model
        yield "Load another model…", "Hub id or local directory; a pinned A stays for A/B", self.action_switch_model
        yield "Score through a rerank server…", "vLLM or a /rerank server (URLs, comma-separated)", self.action_switch_backend
        if self.config.load_options.backend:
            yield "Score with a local model", "Stop using the rerank server", partial(self.load_other_model, backend=())
        for how in QUANTIZATIONS:
            yield f"Quantize: {how}", "Load the model again with bitsandbytes 8-bit / 4-bit (GPU)", partial(self.load_other_model, quantize=how)
        for dtype in DTYPES:
            yield f"Precision: {dtype}", "Load the model again in this dtype", partial(self.load_other_model, dtype=dtype)
        yield "Model details", "What was loaded and why", self.action_model_details

    def _set_sort(self, sort: str) -> None:
        self.session.options.sort = sort
        self.refresh_views()

    def _set_filter(self, doc_id: str | None) -> None:
        self.session.options.doc_filter = doc_id
        self.refresh_views()

    def _set_aggregate(self, how: str) -> None:
        settings = self.session.settings
        self.main.show_settings(RunSettings(settings.chunking, how, settings.top_k))

    def action_switch_model(self) -> None:
        current = self.config.load_options.model or DEFAULT_MODEL
        self.push_screen(
            InputDialog("Load another reranker: a hub id or a local directory", value=current,
                        hint="enter load (a pinned A stays, so F7 compares the models) · escape cancel"),
            lambda model: self.load_other_model(model=model) if model else None,
        )

    def action_switch_backend(self) -> None:
        current = ", ".join(self.config.load_options.backend) or "http://127.0.0.1:8000"
        self.push_screen(
            InputDialog("Score through rerank servers: base URLs, comma-separated", value=current,
                        hint="enter connect (the model setting names the tokenizer; unset: the server's model) · escape cancel"),
            lambda urls: self.load_other_model(backend=tuple(u.strip() for u in urls.split(",") if u.strip())) if urls else None,
        )

    def action_model_details(self) -> None:
        info = self.session.model
        if info is None:
            self.notify("No model is loaded.", severity="warning")
            return
        lines = [f"{info.model_id} ({info.kind})", f"revision {info.revision or '-'}", *info.choices,
                 *self.session.engine_notes()]
        if info.fallback_reason:
            lines.append(f"FALLBACK: {info.fallback_reason}")
        self.notify("\n".join(lines), title="Model", timeout=15)
