"""Reading documents from files, folders, stdin and JSONL, with a clear word for each bad input.

Nothing here raises for a user's mistake: every problem becomes a message, and the readable
documents still come through.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .engine.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".text"}
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # ~4M tokens: far past useful, still readable in memory


@dataclass
class LoadedDocuments:
    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one human-readable line per skipped input

    def extend(self, other: "LoadedDocuments") -> None:
        self.documents.extend(other.documents)
        self.problems.extend(other.problems)


def decode_text(data: bytes, label: str) -> tuple[str | None, str | None]:
    """Text of a file's bytes, or a reason it is not a text document."""
    if b"\x00" in data[:8192]:
        return None, f"{label}: skipped, looks like a binary file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return None, f"{label}: skipped, not UTF-8 text (bad byte at offset {e.start})"
    if not text.strip():
        return None, f"{label}: skipped, the document is empty"
    return text, None


# What stat() says a path is, for anything a document cannot be read from.
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def special_file_kind(path: Path) -> str | None:
    """What `path` is when it is neither a regular file nor a folder ("a named pipe (FIFO)"), else
    None (also when stat() fails: the read that follows reports that).

    Decided from stat() alone, never by opening: opening a FIFO for reading waits for a writer
    forever, and a device such as /dev/zero never ends."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), "a special file")


def _special_file_problem(path: Path) -> str | None:
    kind = special_file_kind(path)
    if kind is None:
        return None
    return f"{path}: skipped, it is {kind}, not a regular file (to read a stream, pipe it in and pass -)"


def read_file(path: Path, doc_id: str | None = None) -> LoadedDocuments:
    out = LoadedDocuments()
    label = str(path)
    problem = _special_file_problem(path)
    if problem:
        out.problems.append(problem)
        return out
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            out.problems.append(
                f"{label}: skipped, {size / 2**20:.1f} MiB is over the {MAX_DOCUMENT_BYTES // 2**20} MiB "
                "limit per document; split it into parts"
            )
            return out
        data = path.read_bytes()
    except FileNotFoundError:
        out.problems.append(f"{label}: no such file")
        return out
    except IsADirectoryError:
        out.problems.append(f"{label}: is a folder")
        return out
    except OSError as e:
        out.problems.append(f"{label}: cannot be read ({e.strerror or e})")
        return out
    text, problem = decode_text(data, label)
    if problem:
        out.problems.append(problem)
    else:
        out.documents.append(Document(id=doc_id or path.name, text=text, path=str(path)))
    return out


def read_folder(folder: Path) -> LoadedDocuments:
    out = LoadedDocuments()
    files = []
    for p in sorted(folder.rglob("*")):
        problem = _special_file_problem(p)  # a pipe, socket or device: named, never opened
        if problem:
            out.problems.append(problem)
        elif p.is_file() and p.suffix.lower() in TEXT_SUFFIXES:
            files.append(p)
    if not files:
        out.problems.append(f"{folder}: no .txt or .md files in this folder")
    for f in files:
        out.extend(read_file(f, doc_id=str(f.relative_to(folder))))
    return out


def read_stdin(stream: TextIO) -> LoadedDocuments:
    out = LoadedDocuments()
    text = stream.read()
    if text.strip():
        out.documents.append(Document(id="stdin", text=text, path=None))
    else:
        out.problems.append("stdin: skipped, nothing was piped in")
    return out


class UnreadableInput(Exception):
    """A whole input cannot be read (a pipe, missing, not UTF-8): the message names it."""


def iter_jsonl(path: Path) -> Iterator[Document | str]:
    """The documents of a JSONL file of {"id", "text"} objects one at a time, as they are read,
    and a problem line (str, "file:line: ...") for each bad line; raises UnreadableInput.

    Streamed, so a corpus of any size passes in flat memory (`score --queries`)."""
    problem = _special_file_problem(path)
    if problem:
        raise UnreadableInput(problem)
    try:
        with path.open(encoding="utf-8-sig") as lines:
            for n, line in enumerate(lines, 1):
                if line.strip():
                    yield _jsonl_document(path, n, line)
    except (OSError, UnicodeDecodeError) as e:
        raise UnreadableInput(f"{path}: cannot be read as UTF-8 JSONL ({e})") from e


def _jsonl_document(path: Path, n: int, line: str) -> Document | str:
    try:
        obj = json.loads(line)
        doc_id, text = str(obj["id"]), obj["text"]
        if not isinstance(text, str):
            raise TypeError
    except (json.JSONDecodeError, KeyError, TypeError):
        return f"{path}:{n}: skipped, expected a JSON object with string 'id' and 'text'"
    if not text.strip():
        return f"{path}:{n}: skipped, document {doc_id!r} is empty"
    return Document(id=doc_id, text=text, path=f"{path}:{n}")


def read_jsonl(path: Path) -> LoadedDocuments:
    """One {"id", "text"} object per line; bad lines are reported by number and skipped."""
    out = LoadedDocuments()
    try:
        for item in iter_jsonl(path):
            if isinstance(item, str):
                out.problems.append(item)
            else:
                out.documents.append(item)
    except UnreadableInput as e:  # all or nothing, as a file that cannot be read at all
        return LoadedDocuments(problems=[str(e)])
    return out


def load_documents(paths: Iterable[str], docs_jsonl: str | None = None, stdin: TextIO | None = None) -> LoadedDocuments:
    """Read every input named; `-` reads stdin. Document ids are made unique."""
    out = LoadedDocuments()
    for raw in paths:
        if raw == "-":
            if stdin is not None:
                out.extend(read_stdin(stdin))
            continue
        p = Path(raw).expanduser()
        out.extend(read_folder(p) if p.is_dir() else read_file(p))
    if docs_jsonl:
        out.extend(read_jsonl(Path(docs_jsonl).expanduser()))
    out.documents = unique_ids(out.documents)
    return out


def one_line(text: str, width: int) -> str:
    """`text` on one line (runs of whitespace become one space), cut to `width` with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def pasted_name(documents: list[Document]) -> str:
    """A free name for a document pasted as text: pasted-1, pasted-2, ..."""
    taken = {d.id for d in documents}
    return next(f"pasted-{n}" for n in range(1, len(taken) + 2) if f"pasted-{n}" not in taken)


def unique_ids(documents: list[Document]) -> list[Document]:
    taken: set[str] = set()
    next_n: dict[str, int] = {}  # next suffix to try per base id (keeps many duplicates linear)
    result = []
    for d in documents:
        new_id = d.id
        if new_id in taken:
            n = next_n.get(d.id, 2)
            while f"{d.id}#{n}" in taken:  # an input may already be named like "a.txt#2"
                n += 1
            next_n[d.id] = n + 1
            new_id = f"{d.id}#{n}"
        taken.add(new_id)
        result.append(d if new_id == d.id else Document(id=new_id, text=d.text, path=d.path))
    return result
