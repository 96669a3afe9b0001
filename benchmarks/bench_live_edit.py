"""Live-edit latencies of one ranking loop: what typing in a long document or in the query costs.

A ~32k-token document built from sample_data, ranked with default chunking by the tiny random
Qwen3 reranker (real tokenizer; speed outside the model does not depend on weights) or --model.
Prints, for (a) a cold full ranking, (b) one-word edits in the document, (c) changed queries:
wall time, time inside the model (scorer.score_prompts batches), the rest ("outside the model"),
pairs scored and pairs from the cache. Medians over --rounds.

    python benchmarks/bench_live_edit.py                 # tiny model, ~32k tokens
    python benchmarks/bench_live_edit.py --model DIR --tokens 32000 --rounds 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.engine.loading import LoadOptions, load_scorer  # noqa: E402
from workbench.engine.ranking import Ranker  # noqa: E402
from workbench.engine.types import ChunkSettings, Document  # noqa: E402

INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
QUERY = "how long are nightly backups kept"


class ModelClock:
    """Wraps a scorer's score_prompts to add up the time spent inside its batches."""

    def __init__(self, scorer):
        self.inner = scorer.score_prompts
        self.total = 0.0
        self.first_batch: float | None = None
        scorer.score_prompts = self  # instance attribute: the Ranker calls this

    def reset(self) -> None:
        self.total, self.first_batch = 0.0, None

    def __call__(self, prompts, should_cancel=None):
        batches = self.inner(prompts, should_cancel)
        while True:
            t = time.perf_counter()
            try:
                batch = next(batches)
            except StopIteration:
                self.total += time.perf_counter() - t
                return
            spent = time.perf_counter() - t
            self.total += spent
            if self.first_batch is None:
                self.first_batch = spent
            yield batch


def long_document(tokenizer, target_tokens: int) -> str:
    """sample_data's documents (not the long handbook) cycled until `target_tokens` tokens."""
    sources = [p.read_text() for p in sorted((ROOT / "sample_data" / "docs").iterdir()) if not p.name.startswith("zz_")]
    parts, tokens, i = [], 0, 0
    while tokens < target_tokens:
        for para in sources[i % len(sources)].split("\n\n"):
            parts.append(para)
            tokens += len(tokenizer.encode(para, add_special_tokens=False)) + 1
            if tokens >= target_tokens:
                break
        i += 1
    return "\n\n".join(parts)


def edit_word(text: str, round_no: int) -> str:
    """`text` with one word near a spread-out position replaced by a different word."""
    pos = len(text) * (round_no * 7 % 10 + 0.5) / 10
    start = text.index(" ", int(pos)) + 1
    end = start
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[:start] + f"edited{round_no}" + text[end:]


def run(ranker, clock, query: str, text: str, settings: ChunkSettings) -> dict:
    clock.reset()
    t = time.perf_counter()
    result = ranker.rank(query, INSTRUCTION, [Document("long", text)], settings)
    wall = time.perf_counter() - t
    s = result.stats
    first = s.first_result_s if s.first_result_s is not None else wall
    return dict(
        wall=wall * 1e3,
        model=clock.total * 1e3,
        outside=(wall - clock.total) * 1e3,
        first=first * 1e3,
        first_outside=(first - (clock.first_batch or 0.0)) * 1e3,
        scored=s.scored,
        cached=s.cached,
        pairs=s.pairs,
    )


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def live_edit_report(model: str | None, tokens: int, rounds: int, say=print) -> None:
    """Measure (a) a cold full ranking, (b) one-word edits, (c) changed queries; `say` each line."""
    with tempfile.TemporaryDirectory() as tmp:
        if model is None:
            from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

            model = str(save_tiny_qwen3_reranker(Path(tmp)))
        scorer = load_scorer(LoadOptions(model=model, device="cpu"))
    clock = ModelClock(scorer)
    ranker = Ranker(scorer)
    settings = ChunkSettings()
    text = long_document(scorer.tokenizer, tokens)
    n_tokens = len(scorer.tokenizer.encode(text, add_special_tokens=False))
    say(f"document: {n_tokens} tokens, {len(text)} chars; chunks {settings.tokens}/{settings.overlap}; "
        f"model {scorer.info.model_id}")

    cold = run(ranker, clock, QUERY, text, settings)
    say(f"(a) cold full rank: {cold['wall']:.0f} ms total, {cold['outside']:.1f} ms outside the model, "
        f"{cold['pairs']} pairs, first rows at {cold['first']:.0f} ms")

    edits = []
    for r in range(rounds):
        text = edit_word(text, r)
        edits.append(run(ranker, clock, QUERY, text, settings))
    say(f"(b) one-word edit (median of {rounds}): {median(edits, 'outside'):.1f} ms outside the model, "
        f"{median(edits, 'wall'):.1f} ms total; pairs rescored {median(edits, 'scored'):.0f}, "
        f"cached {median(edits, 'cached'):.0f} of {edits[0]['pairs']}")

    queries = []
    for r in range(rounds):
        queries.append(run(ranker, clock, f"{QUERY} {'and where' if r % 2 else 'or for'} {r}", text, settings))
    say(f"(c) changed query (median of {rounds}): first rows at {median(queries, 'first'):.1f} ms, of which "
        f"{median(queries, 'first_outside'):.1f} ms outside the model; total {median(queries, 'wall'):.0f} ms, "
        f"{median(queries, 'outside'):.1f} ms outside the model; pairs {queries[0]['pairs']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="reranker directory or hub id (default: the tiny random one)")
    ap.add_argument("--tokens", type=int, default=32_000, help="document length in tokens")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    live_edit_report(args.model, args.tokens, args.rounds)


if __name__ == "__main__":
    main()
