"""Store benchmark: log N runs of 20 chunks, then time the reads the UI does most.

    .venv/bin/python benchmarks/store_bench.py [--runs 3000] [--db PATH]

Prints figures only (no asserts). Uses a temporary database unless --db is given.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from workbench.engine.types import (
    ChunkScore, ChunkSettings, ChunkSpan, Document, DocumentScore, ModelInfo, RankResult,
    RunStats, sigmoid,
)
from workbench.store import RunLog, SqliteScoreCache, open_store

MODEL = ModelInfo("Qwen/Qwen3-Reranker-0.6B", "qwen3-reranker", "cuda", "bfloat16")
DOCS_PER_RUN, CHUNKS_PER_DOC, CHUNK_CHARS = 4, 5, 400  # 20 chunks per run


def make_run(i: int, rng: random.Random) -> tuple[list[Document], RankResult]:
    # A pool of 200 distinct texts, so texts and spans are shared between runs as in real use.
    docs = []
    for d in range(DOCS_PER_RUN):
        n = rng.randrange(200)
        docs.append(Document(f"doc{d}.txt", f"text {n} ".ljust(CHUNK_CHARS * CHUNKS_PER_DOC, "x"),
                             f"/corpus/doc{n}.txt"))
    scores = []
    for doc in docs:
        chunks = []
        for c in range(CHUNKS_PER_DOC):
            logit = rng.uniform(-8, 8)
            span = ChunkSpan(doc.id, c, c * CHUNK_CHARS, (c + 1) * CHUNK_CHARS, 96)
            chunks.append(ChunkScore(doc.id, span, logit, sigmoid(logit), 130, False))
        scores.append(DocumentScore(doc.id, doc.path, max(ch.score for ch in chunks), 0, chunks))
    scores.sort(key=lambda d: -d.score)
    for rank, d in enumerate(scores, 1):
        d.rank = rank
    result = RankResult(f"query {i}", "Given a web search query, retrieve relevant passages",
                        MODEL, ChunkSettings(128, 16), "max", 3, scores,
                        RunStats(20, 20, 0, 2600, 0.8, 0.1))
    return docs, result


def timed(fn, repeat: int = 20) -> float:
    """Median wall time of fn() in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report(label: str, ms: float) -> None:
    print(f"{label:<48} {ms:8.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.db"

    store = open_store(path)
    log = RunLog(store)
    sessions = [log.ensure_session(f"session {s}") for s in range(10)]
    rng = random.Random(0)
    runs = [make_run(i, rng) for i in range(args.runs)]
    fingerprint = {"torch": "2.5.1", "transformers": "4.51.0", "prompt_template_hash": "abc"}

    start = time.perf_counter()
    ids = [log.log_result(sessions[i % 10], docs, result, fingerprint)
           for i, (docs, result) in enumerate(runs)]
    insert_s = time.perf_counter() - start
    print(f"log_result: {args.runs} runs x 20 chunks in {insert_s:.2f} s "
          f"({insert_s / args.runs * 1000:.2f} ms per run, begin+finish, 2 commits)")

    total = log.count_runs()
    in_session = log.count_runs(sessions[3])
    # Keyset paging: a deep page starts from the cursor of the row before it, no OFFSET walk.
    deep = log.history_page(limit=total)[max(0, total - 51)].cursor
    deep_in_session = log.history_page(sessions[3], limit=in_session)[max(0, in_session - 51)].cursor
    report(f"history_page, first page (50 of {total})", timed(lambda: log.history_page(limit=50)))
    report("history_page, last page (keyset)", timed(lambda: log.history_page(limit=50, after=deep)))
    report(f"history_page, one session, last page (of {in_session})",
           timed(lambda: log.history_page(sessions[3], limit=50, after=deep_in_session)))
    report("list_sessions (10 sessions)", timed(log.list_sessions))
    report("load_run (4 docs, 20 chunks)", timed(lambda: log.load_run(ids[len(ids) // 2])))
    report("compare_runs (20 vs 20 chunks)", timed(lambda: log.compare_runs(ids[1], ids[11])))
    store.close()
    size_mb = path.stat().st_size / 1e6
    report(f"open_store incl. quick_check ({size_mb:.1f} MB)",
           timed(lambda: open_store(path).close(), repeat=5))

    store = open_store(path)
    cache = SqliteScoreCache(store)
    items = {f"{rng.getrandbits(256):064x}": rng.uniform(-8, 8) for _ in range(10_000)}
    start = time.perf_counter()
    cache.put_many("fp", items)
    report("score cache put_many, 10k keys", (time.perf_counter() - start) * 1000)
    keys = list(items)
    report("score cache get_many, 10k keys (all hits)", timed(lambda: cache.get_many("fp", keys), 5))
    store.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
