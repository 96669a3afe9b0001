"""How well one forward pass spreads over the CPU's cores, by batch shape: why the reranker runs
its batches one per core, each single-threaded (workbench/engine/core_pool.py).

For each shape (rows x tokens) it prints tokens/s of one pass on 1 thread, of one pass on every
thread, and of one single-threaded pass per thread at once (the core pool); best of --reps, random
weights in the 0.6B shape, fp32 (fewer layers with --layers: the ratios are per layer).

Then, on a machine with more than 2 threads, the case the engine leaves to one pass at a time:
fewer batches than cores, but more than one (k batches, 1 < k < threads). For each k that divides
the threads it prints tokens/s of the k passes one after another on every thread (what the engine
does today) and of the k passes at once, each on a team of threads/k threads; "x teams" above 1
says the engine should run teams there. Nothing to print on 2 threads: k would be 1 or 2.

    python benchmarks/core_scaling.py               # 0.6B shape, 8 layers, the machine's threads
    python benchmarks/core_scaling.py --layers 28 --shapes 1x300,4x150
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE / "support")]

from bench_engine import save_shape  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="0.6B")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--shapes", default="1x64,1x300,2x300,4x150,4x280,8x137,16x137", help="rows x tokens, comma list")
    ap.add_argument("--team-shapes", default="1x64,1x300,2x300,4x280", help="rows x tokens of each of the k batches")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    from workbench.engine.core_pool import core_pool
    from workbench.engine.loading import LoadOptions, load_scorer, quiet_libraries, quiet_transformers

    quiet_libraries()
    quiet_transformers()
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_shape(args.shape, args.layers, "float32", Path(tmp) / "m")
        scorer = load_scorer(LoadOptions(model=str(model_dir), device="cpu", dtype="fp32", quantize="none"))
    pool = core_pool(threads)
    print(f"# {args.shape} shape, {args.layers} layers, fp32, torch {torch.__version__}, {threads} threads; "
          f"tokens/s, best of {args.reps}")
    print(f"{'shape':>7} {'1 thread':>9} {f'{threads} threads':>10} {'per core':>9} {'x threads':>9} {'x per core':>10}")
    rng = random.Random(0)
    for shape in args.shapes.split(","):
        rows, width = (int(x) for x in shape.split("x"))
        ids = [tuple(rng.randrange(1000, 5000) for _ in range(width)) for _ in range(rows)]

        def one_pass() -> None:
            scorer._forward(ids)

        def per_core() -> None:
            list(pool.map(lambda _: scorer._forward(ids), range(threads)))

        best: dict[str, float] = {}
        for _ in range(args.reps):  # alternating, so a busy moment falls on every way
            for name, n, fn, passes in (("1", 1, one_pass, 1), ("n", threads, one_pass, 1), ("p", threads, per_core, threads)):
                torch.set_num_threads(n)
                start = time.perf_counter()
                fn()
                rate = passes * rows * width / (time.perf_counter() - start)
                best[name] = max(best.get(name, 0.0), rate)
        torch.set_num_threads(threads)
        print(f"{shape:>7} {best['1']:9.0f} {best['n']:10.0f} {best['p']:9.0f} "
              f"{best['n'] / best['1']:8.2f}x {best['p'] / best['1']:9.2f}x", flush=True)
    teams(scorer, threads, args.team_shapes.split(","), args.reps, rng)


def teams(scorer, threads: int, shapes: list[str], reps: int, rng: random.Random) -> None:
    """k batches: one after another on every thread, against all at once on threads/k each."""
    ks = [k for k in range(2, threads) if threads % k == 0]
    if not ks:
        return
    print(f"\n# k batches of one shape: one after another on {threads} threads, or at once on teams of {threads}/k")
    print(f"{'shape':>7} {'k':>3} {'in turn':>9} {'teams':>9} {'x teams':>8}")
    for shape in shapes:
        rows, width = (int(x) for x in shape.split("x"))
        ids = [tuple(rng.randrange(1000, 5000) for _ in range(width)) for _ in range(rows)]
        for k in ks:
            best = {"turn": 0.0, "teams": 0.0}
            for _ in range(reps):
                torch.set_num_threads(threads)
                start = time.perf_counter()
                for _ in range(k):
                    scorer._forward(ids)
                best["turn"] = max(best["turn"], k * rows * width / (time.perf_counter() - start))
                start = time.perf_counter()
                on_teams(lambda: scorer._forward(ids), k, threads // k)
                best["teams"] = max(best["teams"], k * rows * width / (time.perf_counter() - start))
            torch.set_num_threads(threads)
            print(f"{shape:>7} {k:3d} {best['turn']:9.0f} {best['teams']:9.0f} {best['teams'] / best['turn']:7.2f}x",
                  flush=True)


def on_teams(fn, k: int, team: int) -> None:
    """`fn` on k threads at once, each running torch on `team` threads."""
    ready = threading.Barrier(k)

    def run() -> None:
        torch.get_num_threads()  # a new thread's count is set lazily from the last one set (core_pool.py)
        torch.set_num_threads(team)
        ready.wait()
        fn()

    workers = [threading.Thread(target=run) for _ in range(k)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


if __name__ == "__main__":
    main()
