"""Getting results out (copy, export), prompt inspection, presets, help and the palette's list."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from textual import work
from textual.binding import Binding

from workbench.engine.types import AGGREGATES
from workbench.report import result_dict, write_csv, write_jsonl

from .messages import ExportDone, PromptExplained
from .presets import PresetError
from .screens.dialogs import InputDialog
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .screens.presets import PresetsScreen
from .screens.prompt import PromptScreen
from .widgets.heat_map import HeatMap
from .widgets.panes import DocumentTable
from .widgets.ranking import ChunkTable, DocRankTable

EXPORT_FORMATS = {".json": "JSON", ".jsonl": "JSONL", ".csv": "CSV"}

EDITOR_KEYS = [
    Binding("tab", "-", "Next field (shift+tab: previous)"),
    Binding("ctrl+z", "-", "Undo (ctrl+y redo) in an editor"),
    Binding("ctrl+a", "-", "Start of line (ctrl+e end of line) in an editor"),
]
APP_KEYS = [
    Binding("ctrl+p", "-", "Command palette: every action, presets, sorting, filters"),
    Binding("ctrl+q", "-", "Quit"),
]


def export_text(result, suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(result_dict(result), ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    (write_jsonl if suffix == ".jsonl" else write_csv)(result, out)
    return out.getvalue()


class OutputActions:
    """Mixed into WorkbenchApp."""

    # -- which chunk --------------------------------------------------------------------------

    def focused_chunk(self) -> tuple[str, int] | None:
        table = self.widget(ChunkTable)
        key = table.chunk_at_cursor() if table.has_focus else self.selected
        if key is None:
            self.notify("Select a chunk first (a ranking row or a heat-map cell).", severity="warning")
        return key

    def chunk_text(self, key: tuple[str, int]) -> str | None:
        doc = next((d for d in self.documents if d.id == key[0]), None)
        spans = self.spans.get(key[0], [])
        if doc is None or key[1] >= len(spans):
            return None
        return spans[key[1]].text_of(doc.text)

    # -- copy and export ----------------------------------------------------------------------

    def action_copy_chunk(self) -> None:
        key = self.focused_chunk()
        text = self.chunk_text(key) if key else None
        if text is not None:
            self.copy_to_clipboard(text)
            self.notify(f"Copied chunk #{key[1]} of {key[0]} ({len(text):,} characters).")

    def action_copy_ranking(self) -> None:
        if self.result is None:
            self.notify("No complete ranking yet.", severity="warning")
            return
        out = io.StringIO()
        write_csv(self.result, out)
        self.copy_to_clipboard(out.getvalue())
        self.notify(f"Copied the ranking of {len(self.result.documents)} documents as CSV.")

    def action_export(self) -> None:
        if self.result is None:
            self.notify("No complete ranking to export yet.", severity="warning")
            return
        self.push_screen(
            InputDialog(
                "Export the last complete ranking to a file",
                value=str(Path.cwd() / "rerank-results.json"),
                hint="the extension picks the format: .json, .jsonl or .csv · enter write · escape cancel",
            ),
            self._export_to,
        )

    def _export_to(self, raw: str | None) -> None:
        if not raw:
            return
        path = Path(raw).expanduser()
        if path.suffix.lower() not in EXPORT_FORMATS:
            self.notify(f"{path.name}: end the name with .json, .jsonl or .csv", severity="error")
            return
        self.export(path, self.result)

    @work(thread=True, exit_on_error=False, group="export", name="export")
    def export(self, path: Path, result) -> None:
        suffix = path.suffix.lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(export_text(result, suffix), encoding="utf-8")
        self.post_message(ExportDone(f"Wrote {EXPORT_FORMATS[suffix]} of {len(result.documents)} documents to {path}"))

    def on_export_done(self, message: ExportDone) -> None:
        self.notify(message.text, title="Exported")

    # -- prompt inspection --------------------------------------------------------------------

    def action_inspect_prompt(self) -> None:
        key = self.focused_chunk()
        if key is None or self.live is None or self.current_inputs is None:
            return
        text = self.chunk_text(key)
        if text is None:
            return
        span = self.spans[key[0]][key[1]]
        self.explain(key, text, span.start)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain", name="prompt inspection")
    def explain(self, key: tuple[str, int], text: str, start: int) -> None:
        inputs, live = self.current_inputs, self.live
        with live.model_lock:  # the tokenizer is used by one thread at a time
            view = live.ranker.explain(inputs.instruction, inputs.query, text)
        self.post_message(PromptExplained(f"Prompt for {key[0]} · chunk #{key[1]}", view, start, len(text)))

    def on_prompt_explained(self, message: PromptExplained) -> None:
        self.push_screen(PromptScreen(message.title, message.view, message.chunk_start, message.chunk_chars))

    # -- presets ------------------------------------------------------------------------------

    def action_presets(self) -> None:
        try:
            presets = self.presets.list()
        except PresetError as e:
            self.notify(str(e), severity="error")
            return
        self.push_screen(PresetsScreen(presets), self._preset_chosen)

    def _preset_chosen(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        what, text = choice
        if what == "use":
            self.use_instruction(text)
        else:
            self.action_save_preset()

    def use_instruction(self, text: str) -> None:
        self.main.query_one("#instruction").load_text(text)  # posts Changed: a run follows

    def action_save_preset(self) -> None:
        self.push_screen(InputDialog("Save the current instruction as a preset named", hint="enter save · escape cancel"), self._save_preset)

    def _save_preset(self, name: str | None) -> None:
        if not name:
            return
        try:
            self.presets.save(name, self.instruction_text())
        except PresetError as e:
            self.notify(str(e), severity="error")
            return
        self.notify(f"Saved the instruction as preset {name!r}.")

    def delete_preset(self, name: str) -> bool:
        try:
            self.presets.delete(name)
        except PresetError as e:
            self.notify(str(e), severity="error")
            return False
        self.notify(f"Deleted preset {name!r}.")
        return True

    # -- help and palette ---------------------------------------------------------------------

    def help_groups(self) -> list[tuple[str, list[Binding]]]:
        return [
            ("Main screen", list(MainScreen.BINDINGS)),
            ("Ranking pane (F2)", ChunkTable.BINDINGS + DocRankTable.BINDINGS),
            ("Heat map (F3): arrows move between chunks and documents", HeatMap.BINDINGS),
            ("Documents pane (F4)", DocumentTable.BINDINGS),
            ("Editors and fields", EDITOR_KEYS),
            ("Anywhere", APP_KEYS),
        ]

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_groups()))

    def palette_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        yield "Help: keys", "Every key binding (F1)", self.action_help
        for pane, title in (("ranking", "Ranking"), ("heat", "Heat map and text"), ("documents", "Documents")):
            yield f"Show {title}", f"Switch to the {title.lower()} pane", partial(self.action_show_pane, pane)
        yield "Rerun now", "Score again without waiting (ctrl+r)", self.action_rerun
        yield "Cancel the running run", "Stop scoring; ctrl+r starts again", self.action_cancel_run
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
        yield "Inspect prompt", "What the model saw for the selected chunk (i)", self.action_inspect_prompt
        for sort in ("score", "document", "position"):
            yield f"Sort chunks by {sort}", "Ranking pane order", partial(self._set_sort, sort)
        yield "Filter: all documents", "Show every document's chunks", partial(self._set_filter, None)
        for d in self.documents:
            yield f"Filter: {d.id}", "Show only this document's chunks", partial(self._set_filter, d.id)
        for how in AGGREGATES:
            yield f"Aggregate: {how}", "Document score from chunk scores", partial(self._set_aggregate, how)
        yield "Reload model", "Load the model again (after a failure)", self.action_reload_model
        yield "Model details", "What was loaded and why", self.action_model_details

    def _set_sort(self, sort: str) -> None:
        self.sort = sort
        self._refresh_views()

    def _set_filter(self, doc_id: str | None) -> None:
        self.doc_filter = doc_id
        self._refresh_views()

    def _set_aggregate(self, how: str) -> None:
        self.main.query_one("#aggregate").value = how  # the settings bar reports the change

    def action_model_details(self) -> None:
        if self.scorer is None:
            self.notify("No model is loaded.", severity="warning")
            return
        info = self.scorer.info
        lines = [f"{info.model_id} ({info.kind})", f"revision {info.revision or '-'}", *info.choices]
        if info.fallback_reason:
            lines.append(f"FALLBACK: {info.fallback_reason}")
        self.notify("\n".join(lines), title="Model", timeout=15)
