"""Requests to one or more rerank servers: bounded concurrency, retries with backoff, timeouts.

Work is a list of requests (one query, a few documents each). Each server takes a few at a time;
a request that fails in a way worth retrying (connection refused, timeout, 429, 5xx, an answer
missing some documents) goes back in the queue with a growing pause and prefers another server.
Results are handed to the caller as they arrive, so a run that fails late keeps (and caches)
everything scored before. After the last try the error says which server failed and how.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import httpx

from .protocol import ProtocolError

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
POLL_S = 0.1  # how often a waiting run looks at its cancel check


class BackendError(Exception):
    """A request failed for good (the message names the server and the cause)."""


@dataclass
class Job:
    """One request's worth of work: `ask(client, base_url)` returns {item: value} for the items it
    got answers for; items missing from the answer are asked again."""

    items: list[int]
    attempts: int = 0
    not_before: float = 0.0
    last_error: str = ""
    avoid: str | None = None  # the server that just failed it


@dataclass
class PoolSettings:
    concurrency: int = 4  # requests in flight per server
    timeout_s: float = 60.0
    attempts: int = 4
    backoff_s: float = 0.5  # first pause; doubles each time, with jitter, capped below
    max_backoff_s: float = 8.0
    headers: dict[str, str] = field(default_factory=dict)


class ServerPool:
    def __init__(self, urls: list[str], settings: PoolSettings | None = None):
        self.urls = [u.rstrip("/") for u in urls]
        self.settings = settings or PoolSettings()
        self.client = httpx.Client(timeout=self.settings.timeout_s, headers=self.settings.headers)
        self.retries = 0  # requests asked again, over the pool's life (shown in figures)
        # A server that just failed gets no new work until this time, while others can take it;
        # the rest grows with its failures in a row (a replica that is down stays out of the way).
        self.resting_until: dict[str, float] = {}
        self.failures: dict[str, int] = {}

    def run(
        self,
        jobs: list[Job],
        ask: Callable[[httpx.Client, str, list[int]], dict[int, float]],
        should_stop: Callable[[], bool] | None = None,
    ) -> Iterator[dict[int, float]]:
        """Yield each request's results as it completes; BackendError after a job's last try.
        `should_stop` is polled while waiting; when it says stop, iteration ends quietly (the
        caller raises its own Cancelled)."""
        queue = list(jobs)
        slots = len(self.urls) * self.settings.concurrency
        busy: dict[str, int] = {u: 0 for u in self.urls}
        running: dict[Future, tuple[Job, str]] = {}
        executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="rerank-http")
        try:
            while queue or running:
                if should_stop is not None and should_stop():
                    return
                now = time.monotonic()
                for job in [j for j in queue if j.not_before <= now]:
                    url = self._pick(busy, job.avoid)
                    if url is None:  # this job waits for a healthy server; others may go now
                        continue
                    queue.remove(job)
                    busy[url] += 1
                    running[executor.submit(ask, self.client, url, job.items)] = (job, url)
                if not running:
                    time.sleep(min(POLL_S, max(0.0, min(j.not_before for j in queue) - now)))
                    continue
                done, _ = wait(list(running), timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    job, url = running.pop(future)
                    busy[url] -= 1
                    answers, problem, wait_s = _outcome(future, url)
                    if problem is None:
                        self.failures[url] = 0
                    if answers:
                        yield answers
                    missing = [i for i in job.items if i not in answers]
                    if missing:
                        problem = problem or f"{url}: the answer left out {len(missing)} of {len(job.items)} documents"
                        queue.append(self._again(job, missing, url, problem, wait_s))
        finally:
            # Requests in flight finish in the background; their answers are dropped.
            executor.shutdown(wait=False, cancel_futures=True)

    def _pick(self, busy: dict[str, int], avoid: str | None) -> str | None:
        free = [u for u in self.urls if busy[u] < self.settings.concurrency]
        if not free:
            return None
        now = time.monotonic()
        healthy = [u for u in self.urls if u != avoid and self.resting_until.get(u, 0.0) <= now]
        candidates = [u for u in healthy if u in free]
        if not candidates:
            if healthy:  # a healthy server is only busy: wait for it rather than retry a failing one
                return None
            candidates = free
        return min(candidates, key=lambda u: busy[u])

    def _again(self, job: Job, missing: list[int], url: str, problem: str, wait_s: float) -> Job:
        attempts = job.attempts + 1
        if attempts >= self.settings.attempts:
            raise BackendError(f"{problem} (gave up after {attempts} tries)")
        self.retries += 1
        pause = min(self.settings.max_backoff_s, self.settings.backoff_s * 2 ** (attempts - 1))
        pause *= random.uniform(0.75, 1.25)  # replicas that failed together do not retry together
        pause = max(pause, min(wait_s, 60.0))  # a 429's Retry-After, within reason
        self.failures[url] = self.failures.get(url, 0) + 1
        rest = self.settings.backoff_s * 2 ** self.failures[url]
        self.resting_until[url] = time.monotonic() + min(max(pause, rest), 30.0)
        return Job(missing, attempts, time.monotonic() + pause, problem, avoid=url)

    def close(self) -> None:
        self.client.close()


def _outcome(future: Future, url: str) -> tuple[dict[int, float], str | None, float]:
    """(answers, why it should be asked again or None, seconds the server asked us to wait);
    raises BackendError for what retrying cannot fix (a 4xx, an answer in the wrong shape)."""
    try:
        return future.result(), None, 0.0
    except httpx.TimeoutException:
        return {}, f"{url}: no answer within the timeout", 0.0
    except httpx.ConnectError as e:
        return {}, f"cannot reach the rerank server at {url} ({failure_reason(e)})", 0.0
    except httpx.TransportError as e:
        return {}, f"{url}: the connection failed ({failure_reason(e)})", 0.0
    except httpx.HTTPStatusError as e:
        status = e.response.status_code
        detail = e.response.text.strip().replace("\n", " ")[:200]
        if status in RETRY_STATUS:
            retry_after = e.response.headers.get("retry-after", "")
            wait_s = float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 0.0
            return {}, f"{url} answered {status}: {detail}", wait_s
        raise BackendError(f"{url} refused the request ({status}): {detail}") from None
    except (ProtocolError, ValueError) as e:
        raise BackendError(f"{url} answered in an unexpected shape: {e}") from None


def failure_reason(e: Exception) -> str:
    """A connection failure in a few words ("connection refused" rather than errno prose)."""
    text = str(e) or type(e).__name__
    return "connection refused" if "refused" in text.lower() else text.splitlines()[0][:120]
