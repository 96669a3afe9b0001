"""TREC file formats: qrels (`QUERY 0 ITEM GRADE`) and runs (`QUERY Q0 ITEM RANK SCORE TAG`).

An ITEM names what is judged or ranked:

- `DOC`               the whole document (its id as `workbench eval` loads it: the file name, or
                      the path below the folder given, e.g. `sub/notes.md`);
- `DOC#N`             chunk N (0-based) of the document, under the chunking in use;
- `DOC@START-END`     a character span [START, END) of the document's text: a chunk is judged
                      with the grade when it contains the whole span (as a `contains` phrase).

Fields are separated by whitespace, so in a document id `%`, whitespace, `#` and `@` are written
percent-encoded (`%25`, `%20`, `%23`, `%40`, ...) and decoded when read; ids without them (all of
sample_data's) are written as they are. Grades are integers 0..3 (0 = judged not relevant).
Blank lines and lines starting with `#` are skipped in qrels files.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, TextIO

MAX_GRADE = 3
_ESCAPE = re.compile(r"[%#@\s]")
_CHUNK = re.compile(r"^(?P<doc>[^#@]+)#(?P<index>\d+)$")
_SPAN = re.compile(r"^(?P<doc>[^#@]+)@(?P<start>\d+)-(?P<end>\d+)$")


def encode_doc(doc_id: str) -> str:
    return _ESCAPE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), doc_id)


def decode_doc(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


@dataclass(frozen=True)
class Item:
    """A judged or ranked thing: a whole document, a chunk by index, or a character span."""

    doc: str
    chunk: int | None = None
    span: tuple[int, int] | None = None

    @property
    def whole(self) -> bool:
        return self.chunk is None and self.span is None

    def __str__(self) -> str:
        doc = encode_doc(self.doc)
        if self.chunk is not None:
            return f"{doc}#{self.chunk}"
        if self.span is not None:
            return f"{doc}@{self.span[0]}-{self.span[1]}"
        return doc


def parse_item(text: str) -> Item:
    """`DOC`, `DOC#N` or `DOC@START-END` (see the module docstring); ValueError when malformed."""
    if m := _CHUNK.match(text):
        return Item(decode_doc(m["doc"]), chunk=int(m["index"]))
    if m := _SPAN.match(text):
        start, end = int(m["start"]), int(m["end"])
        if end <= start:
            raise ValueError(f"span {text!r} is empty: END must be greater than START")
        return Item(decode_doc(m["doc"]), span=(start, end))
    if "#" in text or "@" in text:
        raise ValueError(f"{text!r} is not DOC, DOC#N or DOC@START-END ('#' and '@' in ids are written %23 and %40)")
    return Item(decode_doc(text))


@dataclass(frozen=True)
class QrelsLine:
    query_id: str
    item: Item
    grade: int
    where: str  # "file:line"


def read_qrels(path: Path) -> tuple[list[QrelsLine], list[str]]:
    """Every well-formed judgment, and one message per bad line ("file:line: ...").

    Duplicates (the same query and item twice) are reported, the first one kept."""
    from .judged import read_text

    lines: list[QrelsLine] = []
    problems: list[str] = []
    seen: dict[tuple[str, Item], str] = {}
    text, problem = read_text(path, "TREC qrels")
    if problem:
        return [], [problem]
    for n, raw in enumerate(text.splitlines(), 1):
        where = f"{path}:{n}"
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        fields = raw.split()
        if len(fields) != 4:
            problems.append(f"{where}: expected 'QUERY 0 ITEM GRADE' (4 fields), got {len(fields)}")
            continue
        qid, _, item_text, grade_text = fields
        try:
            item = parse_item(item_text)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            continue
        grade = _grade(grade_text)
        if grade is None:
            problems.append(f"{where}: grade {grade_text!r} is not an integer 0..{MAX_GRADE}")
            continue
        if (qid, item) in seen:
            problems.append(f"{where}: duplicate judgment of {item_text} for query {qid!r} (first at {seen[qid, item]})")
            continue
        seen[qid, item] = where
        lines.append(QrelsLine(qid, item, grade, where))
    return lines, problems


def _grade(text) -> int | None:
    try:
        grade = int(text)
    except (TypeError, ValueError):
        return None
    return grade if 0 <= grade <= MAX_GRADE else None


def write_qrels(out: TextIO, judgments: Iterable[tuple[str, Item | str, int]]) -> None:
    """`QUERY 0 ITEM GRADE` lines, in the order given."""
    for qid, item, grade in judgments:
        out.write(f"{qid} 0 {item} {int(grade)}\n")


def write_run(out: TextIO, ranking: Iterable[tuple[str, str, float]], tag: str) -> None:
    """`QUERY Q0 ITEM RANK SCORE TAG` lines from (query id, item, score) in rank order per query.

    A non-finite score (NaN from an overflowing model) is written below every finite score of
    its query, so that tools that sort by score (trec_eval does) keep it last."""
    tag = re.sub(r"\s+", "_", tag) or "workbench"
    rows = list(ranking)
    finite = [s for _, _, s in rows if math.isfinite(s)]
    floor = (min(finite) if finite else 0.0) - 1.0
    rank: dict[str, int] = {}
    for qid, item, score in rows:
        rank[qid] = rank.get(qid, 0) + 1
        value = score if math.isfinite(score) else floor
        out.write(f"{qid} Q0 {item} {rank[qid]} {value:.6f} {tag}\n")


def read_run(path: Path) -> dict[str, list[tuple[str, int, float]]]:
    """A run file back: per query, (item, rank, score) in file order. ValueError on a bad line."""
    run: dict[str, list[tuple[str, int, float]]] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        fields = raw.split()
        if len(fields) != 6:
            raise ValueError(f"{path}:{n}: expected 'QUERY Q0 ITEM RANK SCORE TAG' (6 fields), got {len(fields)}")
        run.setdefault(fields[0], []).append((fields[2], int(fields[3]), float(fields[4])))
    return run
