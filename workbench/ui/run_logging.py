"""The UI's side of the run log: open it without ever stopping the app, and make it safe to call
from the scoring threads (one call at a time; a failure becomes a notice, never a crash)."""

from __future__ import annotations

import inspect
import threading
from pathlib import Path
from typing import Any


class RunLog:
    """Wraps a `workbench.runlog.RunLogger`. Methods return a problem text instead of raising."""

    def __init__(self, logger: Any):
        self.logger = logger
        self._lock = threading.Lock()
        self._warned = 0

    def score_cache(self):
        """The logger's persistent cache (it tolerates store failures itself); None if it has none."""
        try:
            return self.logger.score_cache()
        except Exception:  # noqa: BLE001 - no persistent cache is fine, memory still works
            return None

    def begin(self, query, instruction, documents, chunking, aggregate, top_k, model_info) -> tuple[Any, str | None]:
        """Record a run's inputs; (run id, problem text or None)."""
        try:
            with self._lock:
                run_id = self.logger.begin(query, instruction, documents, chunking, aggregate, top_k, model_info)
        except Exception as e:  # noqa: BLE001 - logging must not stop scoring
            return None, f"run log: this run is not recorded ({e})"
        return run_id, self._new_warnings()

    def finish(self, run_id: Any, result: Any) -> str | None:
        try:
            with self._lock:
                self.logger.finish(run_id, result)
        except Exception as e:  # noqa: BLE001
            return f"run log: could not record the result ({e})"
        return self._new_warnings()

    def discard(self, run_id: Any) -> None:
        """Drop a run that was superseded or failed before finishing (never raises)."""
        if run_id is None or not hasattr(self.logger, "discard"):
            return
        try:
            with self._lock:
                self.logger.discard(run_id)
        except Exception:  # noqa: BLE001 - a stray 'running' row is harmless
            pass

    def _new_warnings(self) -> str | None:
        """Warnings the logger collected since the last call (it reports failures that way)."""
        warnings = getattr(self.logger, "warnings", None)
        if not isinstance(warnings, list) or len(warnings) <= self._warned:
            return None
        new, self._warned = warnings[self._warned :], len(warnings)
        return "run log: " + "; ".join(str(w) for w in new)


def open_run_log(db: Path | None, session: str | None) -> tuple[RunLog | None, list[str]]:
    """Open the run log named by the config; (None, [why]) when it is unavailable."""
    try:
        from workbench.runlog import RunLogger
    except ImportError as e:
        return None, [f"run log unavailable, runs are not recorded ({e})"]
    notices: list[str] = []
    try:
        kwargs = {}
        if session is not None:
            if "session" in inspect.signature(RunLogger.open).parameters:
                kwargs["session"] = session
            else:
                notices.append("--session is not supported by this run log; runs go to the default session")
        logger = RunLogger.open(db, **kwargs)
    except Exception as e:  # noqa: BLE001 - any store failure degrades to "not logged"
        return None, [f"run log unavailable, runs are not recorded ({e})"]
    if getattr(logger, "notice", None):
        notices.append(str(logger.notice))
    return RunLog(logger), notices
