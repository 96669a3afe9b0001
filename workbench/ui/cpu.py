"""Leave one CPU core to the interface when the model runs multi-threaded passes on the CPU
while the user types.

torch defaults to one compute thread per core. In the app that starves the UI thread (typing
stutters while a run is scoring) and, when other processes are busy too, its compute threads wait on
each other at every barrier: on a loaded 2-core machine one run of sample_data took 30 s with 2
threads and 2.6 s with 1. An explicit OMP_NUM_THREADS or WORKBENCH_TORCH_THREADS wins.

The exceptions get every core:
- a launch's first ranking (the starter query, or the restored session): nobody has typed yet, and
  it is the one the user waits for. On an idle 2-core machine the offline fallback ranked
  sample_data in 19 s with both cores against 33 s with one (fp32; in bf16 autocast, with one
  single-threaded pass per core, it now takes about 9.7 s);
- a scorer whose every pass is single-threaded, on a core of its own (the offline fallback on a
  CPU; the reranker on a CPU when asked, as the app does while the user types:
  Scorer.run_single_threaded_passes): no pass waits at a barrier for the core the interface is
  using. In tmux on a 2-core AVX2 machine, sample_data with no weights, a first query typed 5 s
  after the window asked for it was ranked 21.8-27.0 s after its last key against 41.5 s on one
  core; a key typed meanwhile showed on screen in 31-50 ms (median; 44-79 ms at worst) against
  28-31 ms (34-56 ms) (benchmarks/screen_timing.sh typed 5, echo 1). With the reranker (the 0.6B
  shape cut to 2 layers, 12 sample documents): 21.4-23.6 s against 40.0-45.5 s, keys in 29-43 ms
  (median) against 38-72 ms.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_for_run(first_run: bool, single_threaded_passes: bool = False) -> int | None:
    """Set torch's CPU threads for the run about to start: every core for the launch's first run
    and for a scorer whose passes are all single-threaded, else cores - 1; the count set, or None
    if the user's setting is left alone."""
    return reserve_a_core_for_the_ui(spare=0 if first_run or single_threaded_passes else 1)


def reserve_a_core_for_the_ui(spare: int = 1) -> int | None:
    """Set torch's CPU thread count to cores - `spare` (at least 1); the count set, or None if left alone."""
    wanted = os.environ.get("WORKBENCH_TORCH_THREADS", "").strip()
    if not wanted and os.environ.get("OMP_NUM_THREADS"):
        return None
    import torch

    threads = int(wanted) if wanted.isdigit() and int(wanted) > 0 else max(1, usable_cores() - spare)
    if threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    return threads
