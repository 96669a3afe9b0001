#!/usr/bin/env python3
"""Check sample_data/queries.jsonl against sample_data/docs/ (stdlib only).

For every query line it verifies that:

* the line is a JSON object with a unique string `id`, a non-empty string `query`, an
  `instruction` that is null or a non-empty string, and a non-empty `relevant` list;
* every `relevant` entry names a document that exists in docs/ and has a non-empty `contains`
  phrase that occurs, exactly (case- and whitespace-sensitive), in that document's text;
* the phrase occurs in no document that is *not* listed as relevant, so that "the top chunk
  contains the phrase" can only be true of a correct document.

It also checks that docs/zz_handbook_long.md is what generate_long.py would build now.

Usage:  python sample_data/queries_check.py        exit status 0 when everything holds, 1 otherwise
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "docs"
QUERIES = HERE / "queries.jsonl"


def main() -> int:
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.iterdir()) if p.is_file()}
    errors: list[str] = []
    seen: set[str] = set()
    count = 0

    for lineno, line in enumerate(QUERIES.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"queries.jsonl:{lineno}"
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: not valid JSON ({exc})")
            continue
        if not isinstance(q, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        count += 1
        qid = q.get("id")
        if not isinstance(qid, str) or not qid:
            errors.append(f"{where}: missing or empty 'id'")
        elif qid in seen:
            errors.append(f"{where}: duplicate id {qid!r}")
        else:
            seen.add(qid)
        where = f"{where} ({qid})"
        if not isinstance(q.get("query"), str) or not q["query"].strip():
            errors.append(f"{where}: missing or empty 'query'")
        if "instruction" not in q:
            errors.append(f"{where}: missing 'instruction' (use null for the model's default)")
        elif q["instruction"] is not None and (
            not isinstance(q["instruction"], str) or not q["instruction"].strip()
        ):
            errors.append(f"{where}: 'instruction' must be null or a non-empty string")
        extra = set(q) - {"id", "query", "instruction", "relevant"}
        if extra:
            errors.append(f"{where}: unexpected keys {sorted(extra)}")

        relevant = q.get("relevant")
        if not isinstance(relevant, list) or not relevant:
            errors.append(f"{where}: 'relevant' must be a non-empty list")
            continue
        listed: set[str] = set()
        for rel in relevant:
            if not isinstance(rel, dict) or not isinstance(rel.get("doc"), str) or not isinstance(
                rel.get("contains"), str
            ):
                errors.append(f"{where}: each relevant entry needs string 'doc' and 'contains'")
                continue
            doc, phrase = rel["doc"], rel["contains"]
            listed.add(doc)
            if not phrase.strip():
                errors.append(f"{where}: empty 'contains' for {doc}")
                continue
            if doc not in docs:
                errors.append(f"{where}: document {doc!r} not found in {DOCS}")
                continue
            hits = docs[doc].count(phrase)
            if hits == 0:
                errors.append(f"{where}: phrase {phrase!r} does not occur in {doc}")
            else:
                print(f"ok   {qid:4} {doc:36} x{hits}  {phrase}")
        for name, text in docs.items():
            if name in listed:
                continue
            for rel in relevant:
                phrase = rel.get("contains") if isinstance(rel, dict) else None
                if isinstance(phrase, str) and phrase.strip() and phrase in text:
                    errors.append(
                        f"{where}: phrase {phrase!r} also occurs in {name}, which is not listed"
                    )

    stale = subprocess.run(
        [sys.executable, str(HERE / "generate_long.py"), "--check"], capture_output=True, text=True
    )
    if stale.returncode != 0:
        errors.append(stale.stdout.strip() or stale.stderr.strip() or "generate_long.py --check failed")

    for e in errors:
        print("FAIL " + e)
    print(f"{count} queries, {len(docs)} documents, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
