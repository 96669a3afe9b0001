"""Hand-built engine results for the store tests (the engine is written in parallel), plus the
functions child processes run in the concurrency tests (they must be importable by name)."""

from __future__ import annotations

import random
from pathlib import Path

from workbench.engine.types import (
    ChunkScore,
    ChunkSettings,
    ChunkSpan,
    Document,
    DocumentScore,
    ModelInfo,
    RankResult,
    RunStats,
    sigmoid,
)

MODEL = ModelInfo(
    model_id="Qwen/Qwen3-Reranker-0.6B",
    kind="qwen3-reranker",
    device="cpu",
    dtype="float32",
    revision="0123abcd",
    max_length=8192,
    attn_implementation="sdpa",
    choices=("dtype auto -> float32 (cpu)",),
)
FINGERPRINT = {"torch": "2.5.1", "transformers": "4.51.0", "python": "3.11.9",
               "workbench": "0.1.0", "prompt_template_hash": "feedbeef"}
CHUNK_CHARS = 40


def make_documents(n: int = 3, chunks: int = 3, prefix: str = "doc") -> list[Document]:
    """Documents whose text is `chunks` blocks of CHUNK_CHARS characters each."""
    docs = []
    for d in range(n):
        text = "".join(f"{prefix}{d} block {c} ".ljust(CHUNK_CHARS, ".") for c in range(chunks))
        docs.append(Document(id=f"{prefix}{d}.txt", text=text, path=f"/data/{prefix}{d}.txt"))
    return docs


def make_result(
    documents: list[Document],
    logits: dict[str, list[float]] | None = None,
    *,
    query: str = "what is in block one?",
    instruction: str = "Given a web search query, retrieve relevant passages that answer the query",
    cancelled: bool = False,
    chunking: ChunkSettings = ChunkSettings(tokens=16, overlap=0),
    seed: int = 0,
) -> RankResult:
    """A RankResult over fixed CHUNK_CHARS spans; logits given per doc id, or random."""
    rng = random.Random(seed)
    scores = []
    for doc in documents:
        n = len(doc.text) // CHUNK_CHARS
        doc_logits = (logits or {}).get(doc.id) or [round(rng.uniform(-8, 8), 3) for _ in range(n)]
        chunks = [
            ChunkScore(
                doc_id=doc.id,
                chunk=ChunkSpan(doc.id, i, i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS, tokens=9 + i),
                logit=logit,
                score=sigmoid(logit),
                prompt_tokens=60 + i,
                truncated=(i == 2),
                cached=(i == 1),
            )
            for i, logit in enumerate(doc_logits)
        ]
        best = max(c.score for c in chunks) if chunks else 0.0
        scores.append(DocumentScore(doc.id, doc.path, best, 0, chunks))
    scores.sort(key=lambda d: -d.score)
    for rank, d in enumerate(scores, start=1):
        d.rank = rank
    pairs = sum(len(d.chunks) for d in scores)
    return RankResult(
        query=query,
        instruction=instruction,
        model=MODEL,
        chunking=chunking,
        aggregate="max",
        top_k=3,
        documents=scores,
        stats=RunStats(pairs=pairs, scored=pairs - 1, cached=1, prompt_tokens=640,
                       latency_s=1.25, first_result_s=0.4),
        cancelled=cancelled,
    )


def write_runs(db_path: str, worker: int, count: int) -> int:
    """Child process: log `count` runs into a shared session; returns how many were written."""
    from workbench.store import RunLog, open_store

    store = open_store(Path(db_path), busy_timeout=30)
    log = RunLog(store)
    session = log.ensure_session("shared")
    for i in range(count):
        docs = make_documents(3, 3, prefix=f"w{worker}r{i % 5}-")
        log.log_result(session, docs, make_result(docs, query=f"w{worker} q{i}", seed=i), FINGERPRINT)
    store.close()
    return count


def fill_cache(db_path: str, worker: int, keys: int) -> int:
    """Child process: put half-shared keys into the score cache in small batches, then read back."""
    from workbench.store import SqliteScoreCache, open_store

    store = open_store(Path(db_path), busy_timeout=30)
    cache = SqliteScoreCache(store)
    # Keys k0..k{keys-1} are shared by both workers (same logit); w{worker}-k* are private.
    for start in range(0, keys, 100):
        shared = {f"k{i}": float(i) for i in range(start, start + 100)}
        private = {f"w{worker}-k{i}": -float(i) for i in range(start, start + 100)}
        cache.put_many("fp", {**shared, **private})
    got = cache.get_many("fp", [f"k{i}" for i in range(keys)])
    store.close()
    assert got == {f"k{i}": float(i) for i in range(keys)}
    return len(got)


def kill_mid_run(script: str, db: Path, while_alive=None) -> int:
    """Run `script` (Python source given the database path as argv[1]) in a child process; once it
    prints the id of the run it began, call `while_alive(run_id)` if given, then kill the child
    with SIGKILL, as a crash or `kill -9` would. Returns the run id."""
    import os
    import signal
    import subprocess
    import sys

    here = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent.parent), str(here)])}
    child = subprocess.Popen([sys.executable, "-c", script, str(db)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        run_id = int(child.stdout.readline())
        if while_alive is not None:
            while_alive(run_id)
        return run_id
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
