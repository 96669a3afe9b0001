"""Forward passes one per CPU core, each single-threaded: the reranker's batches on a CPU, the
offline fallback's pieces.

A multi-threaded torch pass splits every matmul and elementwise op over the cores and meets them at
a barrier hundreds of times a pass; small passes split badly. Independent passes, one per core,
each on one thread, meet at no barrier. Measured on a 2-core machine: a pass of one row of the
0.6B shape ran x1.58-1.60 faster on two threads than on one, two passes at once x1.90-1.94
(core_scaling.py); whole calls in fp32 ran x1.02-1.16 faster (bench_engine.py, `engine`
against `onepass`, 8 and 32 pairs); the fallback's first ranking of sample_data took 0.80x the
time of whole batches in bf16 (fallback_first_screen.py, `bf16` against `bf16/64/0`) and 0.78x in
fp32 on an AVX2-only CPU (`fp32` against `fp32/64/0`).

One pool serves the process, rebuilt when torch's thread count changes: a scorer loaded again
(a new dtype, a benchmark round) does not leave a pool of idle threads behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import torch

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_size = 0


def core_pool(threads: int) -> ThreadPoolExecutor:
    """A pool of `threads` threads, each running torch on one thread; the same pool while the
    count stays the same."""
    global _pool, _size
    with _lock:
        if _pool is None or _size != threads:
            if _pool is not None:
                _pool.shutdown(wait=False)  # passes queued on it still run to their end
            _pool, _size = _start(threads), threads
        return _pool


def _start(threads: int) -> ThreadPoolExecutor:
    """torch's thread count is per thread, but a new thread starts from the count set last by any
    thread: set 1 in each pool thread, then the caller's count again, so the app's later threads
    (a new scoring worker per run) get theirs."""
    caller = torch.get_num_threads()
    started = threading.Barrier(threads + 1, timeout=30)

    def single_threaded() -> None:
        # torch sets up a thread's count lazily, at its first parallel op or get_num_threads(), from
        # the count set last anywhere: the caller's, restored below. Do it now, then set 1, or the
        # first pass would undo the 1 and each pool thread run a team of its own over every core.
        torch.get_num_threads()
        torch.set_num_threads(1)
        started.wait()  # keeps this thread busy, so each task starts a thread of its own

    pool = ThreadPoolExecutor(threads, thread_name_prefix="torch-core")
    for _ in range(threads):
        pool.submit(single_threaded)
    try:
        started.wait()
    finally:
        torch.set_num_threads(caller)
    return pool


def launch(threads: int, fn: Callable[[], object]) -> Future:
    """`fn` as a future: on the pool of `threads` single-threaded cores when there are several,
    else run here and now (its result or its exception kept for whoever reads the future)."""
    if threads > 1:
        return core_pool(threads).submit(fn)
    future: Future = Future()
    try:
        future.set_result(fn())
    except Exception as e:
        future.set_exception(e)
    return future
