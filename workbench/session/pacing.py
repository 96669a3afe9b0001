"""How long the app waits after a keystroke before it scores: short when runs are cheap.

A newer edit cancels a running one (between batches), so starting early only wastes the batch
in flight. That waste is small when batches are fast, and then a long fixed pause is pure delay;
when a batch takes a second (a 0.6B model on a CPU), starting one mid-word holds the next run
back until it ends, so the pause should grow. The measure of cost is how long recent runs took
to their first scores; a user's fixed `debounce_ms` overrides it.
"""

from __future__ import annotations

from ..engine.types import DEFAULT_DEBOUNCE_MS, RunStats

MIN_DELAY_S = 0.05  # below this, runs would start between the keys of a fast typist's word
MAX_DELAY_S = DEFAULT_DEBOUNCE_MS / 1000
SHARE_OF_FIRST_RESULT = 0.5  # wait half of what the first scores of a run are expected to take
SMOOTHING = 0.3  # weight of the newest run in the running estimate


class TypingPause:
    def __init__(self, fixed_s: float | None = None):
        self.fixed_s = fixed_s
        self.first_result_s: float | None = None  # running estimate over runs that scored pairs
        self._from_pass = False  # the estimate is a timed pass's, which the first run replaces

    def observe(self, stats: RunStats) -> None:
        """Learn from a finished run; runs served from the cache say nothing about model cost."""
        if not stats.scored or stats.first_result_s is None:
            return
        seen = stats.first_result_s
        old = None if self._from_pass else self.first_result_s
        self._from_pass = False
        self.first_result_s = seen if old is None else old + SMOOTHING * (seen - old)

    def observe_pass(self, seconds: float) -> None:
        """A pass of one pair timed before any run (Workbench.prepare): the estimate until a run
        gives one. Without it, the first query waits the longest pause whatever the model."""
        if self.first_result_s is None:
            self.first_result_s, self._from_pass = seconds, True

    @property
    def wants_a_pass(self) -> bool:
        """Whether a timed pass would tell the pause anything (nothing measured, nothing fixed):
        every edit of an empty query prepares again, and need not run the model each time."""
        return self.fixed_s is None and self.first_result_s is None

    def delay_s(self) -> float:
        if self.fixed_s is not None:
            return self.fixed_s
        if self.first_result_s is None:  # nothing measured yet: the cautious end
            return MAX_DELAY_S
        return min(MAX_DELAY_S, max(MIN_DELAY_S, SHARE_OF_FIRST_RESULT * self.first_result_s))
