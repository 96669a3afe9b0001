"""Getting results out (copy, export), prompt inspection and instruction presets."""

from __future__ import annotations

import io
from pathlib import Path

from textual import work

from workbench.run_format import write_csv, write_json, write_jsonl

from .app_parts import AppPart
from .messages import ExportDone, PromptExplained
from .presets import PresetError
from .screens.dialogs import InputDialog
from .screens.presets import PresetsScreen
from .screens.prompt import PromptScreen
from .widgets.chunk_list import ChunkList

EXPORT_FORMATS = {".json": "JSON", ".jsonl": "JSONL", ".csv": "CSV"}



def export_text(result, suffix: str) -> str:
    out = io.StringIO()
    {".json": write_json, ".jsonl": write_jsonl}.get(suffix, write_csv)(result, out)
    return out.getvalue()


class OutputActions(AppPart):
    """Mixed into WorkbenchApp."""

    # -- which chunk --------------------------------------------------------------------------

    def focused_chunk(self) -> tuple[str, int] | None:
        table = self.widget(ChunkList)
        key = table.chunk_at_cursor() if table.has_focus else self.session.options.selected
        if key is None:
            self.notify("Select a chunk first (a ranking row or a heat-map cell).", severity="warning")
        return key

    # -- copy and export ----------------------------------------------------------------------

    def action_copy_chunk(self) -> None:
        key = self.focused_chunk()
        text = self.session.chunk_text(key) if key else None
        if text is not None:
            self.copy_to_clipboard(text)
            self.notify(f"Copied chunk #{key[1]} of {key[0]} ({len(text):,} characters).")

    def action_copy_ranking(self) -> None:
        result = self.session.result
        if result is None:
            self.notify("No complete ranking yet.", severity="warning")
            return
        self.copy_to_clipboard(export_text(result, ".csv"))
        self.notify(f"Copied the ranking of {len(result.documents)} documents as CSV.")

    def action_export(self) -> None:
        if self.session.result is None:
            self.notify("No complete ranking to export yet.", severity="warning")
            return
        self.push_screen(
            InputDialog(
                "Export the last complete ranking to a file",
                value=str(Path.cwd() / "rerank-results.json"),
                hint="the extension picks the format: .json, .jsonl or .csv · → completes the path · enter write · escape cancel",
                paths=True,
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
        self.export(path, self.session.result)

    @work(thread=True, exit_on_error=False, group="export", name="export")
    def export(self, path: Path, result) -> None:
        suffix = path.suffix.lower()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(export_text(result, suffix), encoding="utf-8")
        self.post_message(ExportDone(f"Wrote {EXPORT_FORMATS[suffix]} of {len(result.documents)} documents to {path}"))

    def on_export_done(self, message: ExportDone) -> None:
        self.notify(message.text, title="Exported")

    def action_export_setup(self) -> None:
        """The last complete ranking's setup as a file for `score --setup`, `load_setup` and the adapters."""
        if self.session.result is None:
            self.notify("No complete ranking yet: its setup is what gets exported.", severity="warning")
            return
        self.push_screen(InputDialog("Export the setup of the last complete ranking", value=str(Path.cwd() / "rerank-setup.toml"),
                                     hint=".toml or .json · → completes the path · enter write · escape cancel", paths=True),
                         self._export_setup_to)

    def _export_setup_to(self, raw: str | None) -> None:
        from workbench.setup_file import SetupError, setup_comment, setup_from_run, write_setup

        result = self.session.result
        if not raw or result is None:
            return
        setup, notes = setup_from_run(result)
        try:
            path = write_setup(setup, Path(raw), setup_comment(self.session.reopened_run, result.query))
        except SetupError as e:
            self.notify(str(e), severity="error")
            return
        self.notify(" ".join([f"Wrote the setup to {path}.", *notes]), title="Exported")

    # -- prompt inspection --------------------------------------------------------------------

    def action_inspect_prompt(self) -> None:
        key = self.focused_chunk()
        text = self.session.chunk_text(key) if key is not None else None
        if key is None or text is None or self.session.ranker is None or self.session.shown is None:
            return
        self.explain(key, self.session.spans[key[0]][key[1]].start, len(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain", name="prompt inspection")
    def explain(self, key: tuple[str, int], start: int, chars: int) -> None:
        view = self.session.explain(key)  # waits while a run holds the model
        if view is not None:
            self.post_message(PromptExplained(f"Prompt for {key[0]} · chunk #{key[1]}", view, start, chars))

    def on_prompt_explained(self, message: PromptExplained) -> None:
        self.push_screen(PromptScreen(message.title, message.view, message.chunk_start, message.chunk_chars))

    # -- presets ------------------------------------------------------------------------------

    def action_presets(self) -> None:
        try:
            presets = self.presets.list()
        except PresetError as e:
            self.notify(str(e), severity="error")
            return
        self.push_screen(PresetsScreen(presets, self.delete_preset), self._preset_chosen)

    def _preset_chosen(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        what, text = choice
        if what == "use":
            self.use_instruction(text)
        else:
            self.action_save_preset()

    def use_instruction(self, text: str) -> None:
        self.main.use_instruction(text)  # an edit: a run follows

    def action_save_preset(self) -> None:
        self.push_screen(InputDialog("Save the current instruction as a preset named", hint="enter save · escape cancel"), self._save_preset)

    def _save_preset(self, name: str | None) -> None:
        if not name:
            return
        try:
            self.presets.save(name, self.session.instruction)
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
