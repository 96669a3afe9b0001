"""Benchmark workloads as users have them: a query and documents of controlled token lengths.

Texts, not token ids, so every method pays for its own tokenisation. The words come from
sample_data (real prose: the tokenizer behaves as it does on real documents); each document is cut
to within a word of its target length in Qwen3 tokens.
"""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERY = "How long are nightly database backups kept before they are deleted?"
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"


def _words() -> list[str]:
    docs = sorted((ROOT / "sample_data" / "docs").glob("*.md"))
    return " ".join(p.read_text(encoding="utf-8") for p in docs).split()


def document_lengths(kind: str, pairs: int, max_len: int, seed: int = 0) -> list[int]:
    """Token lengths of the document parts: all `max_len` ("chunks", as the chunker makes them) or
    uniform in 32..max_len ("mixed", as whole documents come)."""
    rng = random.Random(seed)
    if kind == "chunks":
        return [max_len] * pairs
    if kind == "mixed":
        return [rng.randint(32, max_len) for _ in range(pairs)]
    raise ValueError(f"unknown workload {kind!r}: chunks or mixed")


def documents(tokenizer, lengths: list[int], seed: int = 0) -> list[str]:
    """One text per length, each starting at a random place in the word pool."""
    words = _words()
    rng = random.Random(seed + 1)
    out = []
    for target in lengths:
        start = rng.randrange(len(words))
        # Tokens per word is ~1.3 in this prose: take enough words, then trim to the target.
        picked = [words[(start + k) % len(words)] for k in range(target * 2 + 8)]
        lo, hi = 1, len(picked)
        while lo < hi:  # the most words whose text stays within `target` tokens
            mid = (lo + hi + 1) // 2
            if len(tokenizer.encode(" ".join(picked[:mid]), add_special_tokens=False)) <= target:
                lo = mid
            else:
                hi = mid - 1
        out.append(" ".join(picked[:lo]))
    return out
