"""Judged queries: the queries file (JSONL) and the judgments (its `relevant` lists, or qrels).

queries.jsonl, one object a line: `{"id", "query", "instruction"?, "relevant"?: [{"doc",
"contains"?, "grade"?}]}`. An entry with `contains` judges, at chunk level, every chunk whose
text contains that exact phrase (grade 1 unless `grade` says otherwise); one without judges the
whole document. `--qrels FILE` (TREC, see trec.py) replaces the `relevant` lists when given.

Every problem is collected, one message each with file:line, so that a bad file is fixed in
one pass: unknown query or document ids, duplicates, grades outside 0..3, phrases or spans
that are not in their document, malformed lines, and a set with no relevant judgment at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..documents import special_file_kind
from .trec import MAX_GRADE, Item, QrelsLine, _grade


@dataclass(frozen=True)
class Label:
    """One judgment. `phrase` (from queries.jsonl) or `item.span`/`item.chunk` make it a chunk-level
    label; a whole-document item makes it a document-level one."""

    item: Item
    grade: int
    where: str
    phrase: str | None = None

    @property
    def chunk_level(self) -> bool:
        return self.phrase is not None or not self.item.whole

    @property
    def name(self) -> str:
        return f"{self.item}~{self.phrase!r}" if self.phrase is not None else str(self.item)


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    query: str
    instruction: str | None
    labels: tuple[Label, ...] = field(default=())
    where: str = ""

    @property
    def relevant(self) -> tuple[tuple[str, str], ...]:
        """(document id, phrase) of the positive phrase labels: the shape earlier versions had."""
        return tuple((lb.item.doc, lb.phrase) for lb in self.labels if lb.phrase is not None and lb.grade > 0)


class JudgmentError(ValueError):
    """Unusable judged input; `problems` holds one "file:line: ..." message each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_text(path: Path, what: str) -> tuple[str, str | None]:
    kind = special_file_kind(path)
    if kind:  # reading a pipe or a device would wait or run forever
        return "", f"{path}: it is {kind}, not a regular file of {what}"
    try:
        return path.read_text(encoding="utf-8"), None
    except UnicodeDecodeError as e:
        return "", f"{path}: not UTF-8 text ({e.reason} at byte {e.start})"
    except OSError as e:
        return "", f"{path}: cannot read it ({e.strerror or e})"


def read_queries(path: Path) -> tuple[list[JudgedQuery], list[str]]:
    """The well-formed queries and one message per problem (nothing stops at the first)."""
    text, problem = read_text(path, "judged queries")
    if problem:
        return [], [problem]
    queries: list[JudgedQuery] = []
    problems: list[str] = []
    first: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{n}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            qid, query, instruction = str(obj["id"]), obj["query"], obj.get("instruction")
            entries = obj.get("relevant") or []
            if not isinstance(entries, list):
                raise TypeError("'relevant' must be a list")
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
            problems.append(f"{where}: not a judged query ({type(e).__name__}: {e})")
            continue
        if not isinstance(query, str) or not query.strip():
            problems.append(f"{where}: query {qid!r} has no query text")
            continue
        if instruction is not None and (not isinstance(instruction, str) or not instruction.strip()):
            problems.append(f"{where}: query {qid!r}: 'instruction' must be null or a non-empty string")
            continue
        if qid in first:
            problems.append(f"{where}: duplicate query id {qid!r} (first at {first[qid]})")
            continue
        first[qid] = where
        labels = _labels(entries, qid, where, problems)
        queries.append(JudgedQuery(qid, query, instruction, tuple(labels), where))
    return queries, problems


def _labels(entries: list, qid: str, where: str, problems: list[str]) -> list[Label]:
    labels: list[Label] = []
    seen: set[tuple[str, str | None]] = set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("doc"), str):
            problems.append(f"{where}: query {qid!r}, relevant entry {i}: needs a 'doc' string")
            continue
        phrase = entry.get("contains")
        if phrase is not None and (not isinstance(phrase, str) or not phrase):
            problems.append(f"{where}: query {qid!r}, relevant entry {i}: 'contains' must be a non-empty string")
            continue
        grade = _grade(entry.get("grade", 1))
        if grade is None or isinstance(entry.get("grade", 1), bool):
            problems.append(f"{where}: query {qid!r}, relevant entry {i}: grade {entry.get('grade')!r} is not an integer 0..{MAX_GRADE}")
            continue
        key = (entry["doc"], phrase)
        if key in seen:
            problems.append(f"{where}: query {qid!r}, relevant entry {i}: duplicate of an earlier entry")
            continue
        seen.add(key)
        labels.append(Label(Item(entry["doc"]), grade, f"{where}", phrase))
    return labels


def apply_qrels(queries: list[JudgedQuery], qrels: list[QrelsLine], problems: list[str]) -> list[JudgedQuery]:
    """The queries with their labels replaced by the qrels' (a qrels query id not among the
    queries is a problem)."""
    by_id = {q.id: q for q in queries}
    labels: dict[str, list[Label]] = {q.id: [] for q in queries}
    for line in qrels:
        if line.query_id not in by_id:
            problems.append(f"{line.where}: query {line.query_id!r} is not in the queries file")
            continue
        labels[line.query_id].append(Label(line.item, line.grade, line.where))
    return [replace(q, labels=tuple(labels[q.id])) for q in queries]


def check_against_documents(queries: list[JudgedQuery], texts: dict[str, str]) -> list[str]:
    """One message per label naming an unknown document, a phrase not in its document, or a span
    past its end; and one when no query has a relevant (grade ≥ 1) judgment at all."""
    problems = []
    for q in queries:
        for lb in q.labels:
            doc = lb.item.doc
            if doc not in texts:
                near = ", ".join(sorted(texts)[:5]) + (", ..." if len(texts) > 5 else "")
                problems.append(f"{lb.where}: query {q.id!r}: unknown document {doc!r} (documents given: {near})")
            elif lb.phrase is not None and lb.phrase not in texts[doc]:
                problems.append(f"{lb.where}: query {q.id!r}: phrase {lb.phrase!r} does not occur in {doc!r}")
            elif lb.item.span is not None and lb.item.span[1] > len(texts[doc]):
                problems.append(f"{lb.where}: query {q.id!r}: span {lb.item} ends past the end of {doc!r} ({len(texts[doc])} characters)")
    if queries and not any(lb.grade > 0 for q in queries for lb in q.labels):
        problems.append("no query has a relevant judgment (grade 1..3): there is nothing to measure")
    return problems


def phrase_spans(queries: list[JudgedQuery], texts: dict[str, str]) -> list[tuple[str, Item, int]]:
    """The judgments as qrels rows: each phrase becomes the span of every place it occurs."""
    rows = []
    for q in queries:
        for lb in q.labels:
            if lb.phrase is None:
                rows.append((q.id, lb.item, lb.grade))
                continue
            start = texts[lb.item.doc].find(lb.phrase)
            while start >= 0:
                rows.append((q.id, Item(lb.item.doc, span=(start, start + len(lb.phrase))), lb.grade))
                start = texts[lb.item.doc].find(lb.phrase, start + 1)
    return rows
