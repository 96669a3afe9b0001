"""How well one forward pass spreads over the CPU's cores, by batch shape: why the reranker runs
its batches one per core, each single-threaded (workbench/engine/core_pool.py).

For each shape (rows x tokens) it prints tokens/s of one pass on 1 thread, of one pass on every
thread, and of one single-threaded pass per thread at once (the core pool); best of --reps, random
weights in the 0.6B shape, fp32 (fewer layers with --layers: the ratios are per layer).

    python benchmarks/core_scaling.py               # 0.6B shape, 8 layers, the machine's threads
    python benchmarks/core_scaling.py --layers 28 --shapes 1x300,4x150
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
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
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    from workbench.engine.core_pool import core_pool
    from workbench.engine.loading import LoadOptions, load_scorer, quiet_libraries

    quiet_libraries()
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


if __name__ == "__main__":
    main()
