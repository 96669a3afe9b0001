"""Adding, pasting, editing (in place or in $EDITOR) and removing documents."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from textual import work
from textual.app import SuspendNotSupported

from workbench.documents import decode_text, pasted_name, read_file, read_folder
from workbench.engine.types import Document
from workbench.session import SessionInputError

from .app_parts import AppPart
from .messages import DocumentsRead
from .screens.dialogs import InputDialog, PasteDialog
from .screens.edit_document import EditDocumentScreen
from .widgets.panes import DocumentTable


class DocumentActions(AppPart):
    """Mixed into WorkbenchApp: turns document keys into session edits."""

    def action_add_document(self) -> None:
        self.push_screen(
            InputDialog(
                "Add a document: a .txt/.md file, or a folder of them",
                value=str(Path.cwd()) + os.sep,
                hint="→ completes the path · enter add · escape cancel · ~ is your home folder",
                paths=True,
            ),
            self._add_path,
        )

    def _add_path(self, path: str | None) -> None:
        if path:  # the dialog refuses an empty path itself
            self.read_path(path)

    @work(thread=True, exit_on_error=False, group="documents", name="reading documents")
    def read_path(self, raw: str) -> None:
        path = Path(raw).expanduser()
        loaded = read_folder(path) if path.is_dir() else read_file(path)
        self.post_message(DocumentsRead(loaded.documents, loaded.problems, raw))

    def on_documents_read(self, message: DocumentsRead) -> None:
        for problem in message.problems:
            self.notify(problem, title="Not added", severity="warning", timeout=10)
        if message.documents:
            self.add_documents(message.documents)

    def add_documents(self, documents: list[Document]) -> None:
        added = self.session.add_documents(documents)
        names = ", ".join(d.id for d in added[:3]) + (" …" if len(added) > 3 else "")
        self.notify(f"Added {len(added)} document{'s' * (len(added) != 1)}: {names}")
        self._documents_changed()

    def action_paste_document(self) -> None:
        self.push_screen(PasteDialog(pasted_name(self.session.documents)), self._pasted)

    def _pasted(self, result: tuple[str, str] | None) -> None:
        if result:
            name, text = result
            self.add_documents([Document(id=name, text=text, path=None)])

    def current_document(self) -> Document | None:
        """The document under the cursor in the documents pane, else the selected chunk's."""
        doc_id, selected = None, self.session.options.selected
        if self.main.active_pane == "documents" or selected is None:
            doc_id = self.widget(DocumentTable).current_id()
        if doc_id is None and selected is not None:
            doc_id = selected[0]
        document = self.session.document(doc_id) if doc_id is not None else None
        if document is None:
            self.notify("No document selected: pick one in the Documents pane (F4).", severity="warning")
        return document

    def action_edit_document(self) -> None:
        document = self.current_document()
        if document is not None:
            self.push_screen(EditDocumentScreen(document), lambda text: self.replace_text(document.id, text))

    def action_edit_in_editor(self) -> None:
        """Open the document in $VISUAL/$EDITOR (the app is suspended meanwhile), read it back."""
        document = self.current_document()
        if document is None:
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        suffix = Path(document.path).suffix if document.path else ".txt"
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=suffix or ".txt", delete=False) as tmp:
            tmp.write(document.text)
        try:
            with self.suspend():
                subprocess.run([*shlex.split(editor), tmp.name], check=False)
            text, problem = decode_text(Path(tmp.name).read_bytes(), document.id)
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to an editor; use e to edit here.", severity="warning")
            return
        except (OSError, ValueError) as e:
            self.notify(f"{editor} could not be run: {e}", severity="error")
            return
        finally:
            Path(tmp.name).unlink(missing_ok=True)
        if problem:
            self.notify(f"{problem}; the document is unchanged", severity="warning")
        else:
            self.replace_text(document.id, text)
        self.refresh()

    def replace_text(self, doc_id: str, text: str | None) -> None:
        if text is None:
            return
        try:
            changed = self.session.replace_text(doc_id, text)
        except SessionInputError as e:
            self.notify(str(e).capitalize() + ".", severity="warning")
            return
        if changed:
            self.notify(f"{doc_id} changed; scoring again.")
            self._documents_changed()

    def action_remove_document(self) -> None:
        document = self.current_document()
        if document is None:
            return
        self.session.remove_document(document.id)
        self.notify(f"Removed {document.id}.")
        self._documents_changed()

    def _documents_changed(self) -> None:
        self.refresh_views()
        self.edited()
