"""The pause after typing: short when runs answer fast, longer when they are slow, fixed when set."""

from workbench.engine.types import RunStats
from workbench.session.pacing import MAX_DELAY_S, MIN_DELAY_S, TypingPause


def _run(first_s: float, scored: int = 10) -> RunStats:
    return RunStats(pairs=10, scored=scored, first_result_s=first_s)


def test_cheap_runs_start_soon_after_typing_stops():
    pause = TypingPause()
    assert pause.delay_s() == MAX_DELAY_S  # nothing known yet
    for _ in range(5):
        pause.observe(_run(0.08))
    assert MIN_DELAY_S <= pause.delay_s() < 0.1


def test_slow_runs_wait_longer_and_cached_runs_teach_nothing():
    pause = TypingPause()
    pause.observe(_run(0.1))
    fast = pause.delay_s()
    pause.observe(_run(0.001, scored=0))  # all from the cache: says nothing about the model
    assert pause.delay_s() == fast
    for _ in range(10):
        pause.observe(_run(2.5))  # a 0.6B model on a CPU
    assert pause.delay_s() == MAX_DELAY_S


def test_a_fixed_pause_is_kept():
    pause = TypingPause(0.25)
    pause.observe(_run(0.01))
    assert pause.delay_s() == 0.25


def test_a_pass_timed_before_any_run_sizes_the_first_pause_until_runs_say_more():
    pause = TypingPause()
    pause.observe_pass(0.02)  # the tiny model's warm-up pass: the first query need not wait long
    assert pause.delay_s() == MIN_DELAY_S
    pause.observe(_run(0.5))
    pause.observe_pass(0.001)  # a later timing never overrides what runs measured
    assert pause.delay_s() == 0.25


def test_a_pass_is_wanted_only_while_nothing_is_measured_or_fixed():
    pause = TypingPause()
    assert pause.wants_a_pass
    pause.observe_pass(0.02)
    assert not pause.wants_a_pass  # preparing again (another empty-query edit) runs no model pass
    assert not TypingPause(0.25).wants_a_pass
