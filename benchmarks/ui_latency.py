"""Latency of live scoring as a user feels it, driving the real app headless with Pilot.

For each scenario: the time from the last keystroke to the first updated rows in the ranking table
and to the complete ranking, plus the worst stall of the UI event loop meanwhile (how smooth typing
stays). The figures include the pause after typing (`--debounce S`; default: the app's adaptive pause).

    .venv/bin/python benchmarks/ui_latency.py [--docs sample_data/docs] [--model DIR] [--debounce 0.4]

Without --model a tiny random Qwen3 reranker (real tokenizer, real code path) is built in a temp
directory: speeds are those of the UI and engine plumbing, not of a 0.6B model. Prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from workbench.session import NullRecorder  # noqa: E402
from workbench.documents import load_documents  # noqa: E402
from workbench.engine.loading import LoadOptions  # noqa: E402
from workbench.ui.app import WorkbenchApp, WorkbenchConfig  # noqa: E402
from workbench.ui.presets import StorePresets  # noqa: E402


class RefreshMeter:
    """Time the UI thread spends redrawing the views (the part of a stall the app controls)."""

    def __init__(self, app: WorkbenchApp):
        self.times: list[float] = []
        original = app.refresh_views

        def timed() -> None:
            t = time.perf_counter()
            original()
            self.times.append(time.perf_counter() - t)

        app.refresh_views = timed  # called directly by the app, never dispatched as a handler

    def reset(self) -> None:
        self.times = []

    def summary(self) -> str:
        if not self.times:
            return "no redraws"
        return f"{len(self.times)} redraws, longest {max(self.times) * 1000:.0f} ms"


class LagMeter:
    """Worst lateness of a 10 ms timer on the app's event loop: a stall the user would feel."""

    def __init__(self, app: WorkbenchApp):
        self.worst = 0.0
        self._expected = time.perf_counter() + 0.01
        app.set_interval(0.01, self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self._expected)
        self._expected = now + 0.01

    def reset(self) -> None:
        self.worst = 0.0
        self._expected = time.perf_counter() + 0.01


async def wait_until(pilot, condition, timeout: float) -> bool:
    """Poll `condition` every 5 ms with a plain sleep on the app's loop. Not pilot.pause(): that
    walks every widget's message queue on each call, and 200 walks a second would load the
    interface thread far more than a person typing does, slowing the scoring thread it shares
    the GIL with (the first rows of an edited query came 20-60 ms later that way)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def measure(pilot, app: WorkbenchApp, lag: LagMeter, redraw: RefreshMeter, keys: str, label: str, timeout: float) -> None:
    app.action_focus_query()
    lag.reset()
    redraw.reset()
    await pilot.press(*keys)
    # Pilot waits for the app to be idle after each key, so with a short pause the last key's run
    # may be over before press() returns: wait for a complete run started after the last key.
    done = await wait_until(
        pilot,
        lambda: not app.session.running and not app.run_pending and "complete" in app.timeline
        and app.timeline.get("started", 0.0) >= (app.last_edit_at or 0.0)
        and app.session.result is not None and app.session.result.query == app.session.query,
        timeout,
    )
    if not done:
        print(f"{label:<42} did not finish within {timeout:.0f} s")
        return
    last_key = app.last_edit_at or 0.0
    first = app.timeline.get("first_rows", float("nan")) - last_key
    complete = app.timeline["complete"] - last_key
    stats = app.session.result.stats
    started = app.timeline["started"] - last_key
    print(
        f"{label}: {stats.pairs} pairs, {stats.cached} cached\n"
        f"    last key -> first rows {first * 1000:6.0f} ms, complete ranking {complete * 1000:6.0f} ms\n"
        f"    of which: debounce + start {started * 1000:.0f} ms, engine's first batch {(stats.first_result_s or 0) * 1000:.0f} ms "
        f"(chunking, prompts, cache, first forward), run {stats.latency_s * 1000:.0f} ms\n"
        f"    UI: {redraw.summary()}, worst event-loop stall {lag.worst * 1000:.0f} ms"
    )
    marks = {k: round((v - last_key) * 1000) for k, v in app.timeline.items()}
    print(f"    timeline (ms after the last key): {marks}")


async def run(args) -> None:
    loaded = load_documents([args.docs])
    model_dir = args.model
    tmp = None
    if model_dir is None:
        from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

        tmp = tempfile.TemporaryDirectory()
        model_dir = str(save_tiny_qwen3_reranker(Path(tmp.name) / "tiny-qwen3"))
    config = WorkbenchConfig(
        load_options=LoadOptions(model=model_dir),
        documents=loaded.documents,
        debounce_s=args.debounce,
    )
    app = WorkbenchApp(config, recorder=NullRecorder(), presets=StorePresets(Path(tempfile.mkdtemp()) / "p.db"))
    chars = sum(len(d.text) for d in loaded.documents)
    print(f"{len(loaded.documents)} documents, {chars / 1024:.0f} KiB from {args.docs}; model {model_dir}")
    pause = "adaptive (session/pacing.py)" if args.debounce is None else f"{args.debounce * 1000:.0f} ms"
    print(f"the pause after typing, {pause}, is included in every figure below")
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        print(f"window up after {time.perf_counter() - started:.1f} s (model loading: {app.model_state == 'loading'})")
        await wait_until(pilot, lambda: app.model_state != "loading", 300)
        print(f"model ready after {time.perf_counter() - started:.1f} s")
        if app.model_state != "loaded":
            print("model failed to load")
            return
        # With no query yet the app chunks and tokenises the documents (app.prepare_documents):
        # a person reads the screen before typing; wait for it, so typing is not slowed by it.
        await wait_until(pilot, lambda: not app.preparing, 60)
        print(f"documents prepared after {time.perf_counter() - started:.1f} s")
        import torch

        # The app sets torch's thread count for its worker threads; ask from one of those.
        threads = await asyncio.get_running_loop().run_in_executor(None, torch.get_num_threads)
        print(f"torch threads in the workers: {threads} of {os.cpu_count()} cores")
        lag, redraw = LagMeter(app), RefreshMeter(app)
        await measure(pilot, app, lag, redraw, "espresso grind size", "first query (nothing cached)", args.timeout)
        await measure(pilot, app, lag, redraw, " for a light roast", "query edited: every pair new", args.timeout)
        await pilot.press(*["backspace"] * len(" for a light roast"))
        await wait_until(pilot, lambda: not app.session.running and not app.run_pending, args.timeout)
        await measure(pilot, app, lag, redraw, " for a light roast", "same query again: every pair cached", args.timeout)
        # Typing while a long run is in flight: how late do keystrokes get handled?
        await pilot.press(*" and dose")
        lag.reset()
        t = time.perf_counter()
        await pilot.press(*" x y z")
        per_key = (time.perf_counter() - t) / 6
        await wait_until(pilot, lambda: not app.session.running and not app.run_pending, args.timeout)
        # Pilot's press() waits until the app is idle, so while a run streams scores in this
        # includes waiting for that run; the stall is what a person typing would feel.
        print(f"typing during a run: {per_key * 1000:.0f} ms per keystroke through Pilot, worst UI stall {lag.worst * 1000:.0f} ms")
    if tmp is not None:
        tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", default="sample_data/docs")
    parser.add_argument("--model", default=None, help="a local reranker directory (default: a tiny random one)")
    parser.add_argument("--debounce", type=float, default=None, help="fixed pause in seconds (default: adaptive)")
    parser.add_argument("--timeout", type=float, default=300)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
