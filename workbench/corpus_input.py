"""The inputs of a corpus job (`workbench score --queries Q --docs-jsonl D --out R`).

The queries are few and read whole. The corpus is not: `scan_corpus` reads it once to count its
documents, hash its bytes (the job's fingerprint) and report bad lines (file:line), and
`stream_documents` then reads it again, one document at a time, for each query. Duplicate ids are
renamed exactly as `workbench score` renames them (documents.unique_ids: a, a#2, a#3...), from 8
bytes per document kept during the scan instead of a set of every id.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .documents import UnreadableInput, iter_jsonl
from .engine.types import Document
from .evaluation.judged import read_text


@dataclass(frozen=True)
class CorpusQuery:
    id: str
    text: str
    instruction: str | None = None  # the query's own instruction; None: the job's


def read_query_file(path: Path) -> tuple[list[CorpusQuery], list[str]]:
    """Queries from JSONL: {"id" or "qid", "text" or "query", "instruction"?} a line (the files
    `workbench labels export` and `workbench eval` use); one problem line (file:line) per bad line."""
    text, problem = read_text(path, "queries")
    if problem:
        return [], [problem]
    queries: list[CorpusQuery] = []
    problems: list[str] = []
    first: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
            qid = obj.get("id", obj.get("qid"))
            query = obj.get("text", obj.get("query"))
            instruction = obj.get("instruction")
        except (json.JSONDecodeError, AttributeError):
            problems.append(f"{where}: skipped, expected a JSON object with 'id' and 'text' (or 'qid' and 'query')")
            continue
        if qid is None or isinstance(qid, (dict, list)) or not isinstance(query, str):
            problems.append(f"{where}: skipped, expected a JSON object with 'id' and 'text' (or 'qid' and 'query')")
            continue
        qid = str(qid)
        if not query.strip():
            problems.append(f"{where}: skipped, query {qid!r} is empty")
        elif instruction is not None and (not isinstance(instruction, str) or not instruction.strip()):
            problems.append(f"{where}: skipped, query {qid!r}: 'instruction' must be null or a non-empty string")
        elif qid in first:
            problems.append(f"{where}: skipped, duplicate query id {qid!r} (first on line {first[qid]})")
        else:
            first[qid] = n
            queries.append(CorpusQuery(qid, query, instruction))
    return queries, problems


@dataclass
class CorpusScan:
    path: Path
    documents: int = 0  # readable documents (bad lines excluded)
    sha256: str = ""
    problems: list[str] = field(default_factory=list)
    renames: dict[int, str] = field(default_factory=dict)  # position among documents -> unique id


def scan_corpus(path: Path) -> CorpusScan:
    """Count, hash and check the corpus; raises UnreadableInput when it cannot be read at all."""
    import numpy as np

    scan = CorpusScan(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    except OSError as e:
        raise UnreadableInput(f"{path}: cannot be read ({e.strerror or e})") from e
    scan.sha256 = digest.hexdigest()
    # hash() is stable within this process, which is all the renaming plan needs; 8 bytes each.
    hashes = array("q")
    for item in iter_jsonl(path):
        if isinstance(item, str):
            scan.problems.append(item)
        else:
            hashes.append(hash(item.id))
    scan.documents = len(hashes)
    scan.renames = _plan_renames(path, np.frombuffer(hashes, dtype=np.int64) if hashes else np.zeros(0, np.int64))
    return scan


def _plan_renames(path: Path, hashes) -> dict[int, str]:
    """The positions whose id an earlier document (or rename) already took, and their new ids.

    An id is taken at position p when a document before p has it or it was given as a rename
    before p, as in documents.unique_ids. "A document before p has it" is answered from the
    sorted hashes (the first occurrence of each hash), so only renames are kept as strings; a
    64-bit hash collision (odds ~1e-9 at 100k documents) would rename one document needlessly."""
    import numpy as np

    order = np.argsort(hashes, kind="stable")  # equal hashes keep document order: first = earliest
    ordered = hashes[order]
    if not len(ordered) or not (ordered[1:] == ordered[:-1]).any():
        return {}  # no duplicate: nothing to rename, no second read

    def first_at(name: str) -> int | None:
        h = hash(name)
        i = int(np.searchsorted(ordered, h))
        return int(order[i]) if i < len(ordered) and ordered[i] == h else None

    given: set[str] = set()
    next_n: dict[str, int] = {}
    renames: dict[int, str] = {}

    def taken(name: str, p: int) -> bool:
        first = first_at(name)
        return name in given or (first is not None and first < p)

    for p, doc in enumerate(d for d in iter_jsonl(path) if not isinstance(d, str)):
        if not taken(doc.id, p):
            continue
        n = next_n.get(doc.id, 2)
        while taken(f"{doc.id}#{n}", p):
            n += 1
        next_n[doc.id] = n + 1
        renames[p] = f"{doc.id}#{n}"
        given.add(renames[p])
    return renames


def stream_documents(scan: CorpusScan, skip: int = 0) -> Iterator[Document]:
    """The corpus's readable documents in file order, ids made unique, the first `skip` passed over."""
    position = 0
    for item in iter_jsonl(scan.path):
        if isinstance(item, str):
            continue
        if position >= skip:
            new_id = scan.renames.get(position)
            yield item if new_id is None else Document(id=new_id, text=item.text, path=item.path)
        position += 1
