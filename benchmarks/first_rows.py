"""How soon a scoring call on a CPU shows its first rows, with and without the quick first batch.

With several torch threads the reranker runs its batches one per core, each single-threaded
(engine/core_pool.py). A live run's first rows would then wait for a whole batch on one core, so
the call's smallest batch runs first, on every thread, and the rest are cut to an even share per
core (`Qwen3Reranker.quick_first_batch`). This times both ways on the same model in one process,
alternating each round, from the call to its first scored batch and to its last: texts in, the
prompts built anew each time (a changed query), the shared head included.

    python benchmarks/first_rows.py                        # 0.6B shape, fp32, 16 pairs, 3 rounds
    python benchmarks/first_rows.py --workloads mixed --pairs 32 --rounds 5

Random weights in the real shape (speed does not depend on weight values). On a GPU, or with one
torch thread, both ways are the same single pass at a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE / "support")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench_engine import SHAPE_HELP, save_shape  # noqa: E402
from texts import INSTRUCTION, QUERY, document_lengths, documents  # noqa: E402


def timed_call(scorer, texts: list[str]) -> tuple[float, float, dict[int, float]]:
    """Seconds to the first scored batch and to the last, and the scores."""
    scorer.forget_texts()  # a changed query: nothing of the last call is kept
    start = time.perf_counter()
    prompts = scorer.build_prompts(INSTRUCTION, QUERY, texts)
    first, scores = None, {}
    for batch in scorer.score_prompts(prompts):
        first = first if first is not None else time.perf_counter() - start
        scores.update(batch)
    return first, time.perf_counter() - start, scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="0.6B", help=SHAPE_HELP)
    ap.add_argument("--layers", type=int, help="keep only this many layers")
    ap.add_argument("--workloads", default="chunks,mixed", help="chunks (all 256 tokens) and/or mixed (32..384)")
    ap.add_argument("--pairs", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: every core)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from workbench.engine.loading import LoadOptions, load_scorer, quiet_libraries

    quiet_libraries()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_shape(args.shape, args.layers, "float32", Path(tmp) / "model")
        scorer = load_scorer(LoadOptions(model=str(model_dir), device="cpu", dtype="fp32"))
    print(f"# {args.shape} shape{f', {args.layers} layers' if args.layers else ''}, fp32, cpu, "
          f"{torch.get_num_threads()} threads, {args.pairs} pairs, {args.rounds} rounds (median)")
    for workload in args.workloads.split(","):
        texts = documents(scorer.tokenizer, document_lengths(workload, args.pairs, 256 if workload == "chunks" else 384))
        timed_call(scorer, texts[:2])  # warm-up
        runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        scores: dict[bool, dict[int, float]] = {}
        for r in range(args.rounds):
            for quick in ((True, False) if r % 2 == 0 else (False, True)):
                scorer.quick_first_batch = quick
                first, total, scores[quick] = timed_call(scorer, texts)
                runs[quick].append((first, total))
        scorer.quick_first_batch = True
        gap = max(abs(scores[True][i] - scores[False][i]) for i in scores[True])
        for quick in (True, False):
            first = statistics.median(f for f, _ in runs[quick])
            total = statistics.median(t for _, t in runs[quick])
            name = "quick first batch" if quick else "whole batches per core"
            print(f"{workload:7} {name:22} first rows {first:6.2f} s   all {total:6.2f} s   "
                  f"rounds: {', '.join(f'{f:.2f}/{t:.2f}' for f, t in runs[quick])}")
        # Per round, whole batches' time over the quick first batch's: above 1, the quick way is faster.
        sooner = [whole[0] / quick[0] for quick, whole in zip(runs[True], runs[False])]
        speed = [whole[1] / quick[1] for quick, whole in zip(runs[True], runs[False])]
        print(f"{workload:7} first rows x{statistics.median(sooner):.2f} sooner; the whole call x{statistics.median(speed):.3f} "
              f"as fast (per round: {', '.join(f'{x:.3f}' for x in speed)}); largest logit difference {gap:.1e}")


if __name__ == "__main__":
    main()
