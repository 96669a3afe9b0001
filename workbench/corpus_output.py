"""The output of a corpus job: RESULTS (JSONL), RESULTS.job.json and, while it runs, RESULTS.scores.

RESULTS gets one line per (query, document), queries in file order and each query's documents in
corpus order, appended batch by batch; a line is done once its newline is written. The job file
holds the arguments the output was written with (so a restart resumes only the same job) and,
once complete, the run's figures. RESULTS.scores holds each line's unrounded document score as
8 bytes: ranks need them (probabilities near 1 agree to 6 decimals), and a document's rank within
its query is known only once every document is scored. So the final pass rewrites RESULTS with a
`rank` on every line, from one query's scores at a time (16 bytes per document), and removes
RESULTS.scores. Until then lines carry no rank: readers of a running job get scores as they come.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

FORMAT = 1  # of the job file; a change that alters the lines changes it


class JobRefused(Exception):
    """The output cannot be written or resumed with these arguments; the message says why."""


def job_file(out: Path) -> Path:
    return out.with_name(out.name + ".job.json")


def scores_file(out: Path) -> Path:
    return out.with_name(out.name + ".scores")


def read_job(out: Path) -> dict | None:
    try:
        return json.loads(job_file(out).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise JobRefused(f"{job_file(out)} cannot be read ({e}); delete it and {out} to start over") from e


def write_job(out: Path, job: dict) -> None:
    """Replace the job file whole (a kill leaves the old one or the new one, never half)."""
    path = job_file(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(job, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def check_arguments(out: Path, arguments: dict) -> dict | None:
    """The job file when `out` holds a job begun with these arguments (those given are compared),
    None when there is nothing to resume; JobRefused for another job's output or any other file."""
    job = read_job(out)
    if job is None:
        if out.exists() and out.stat().st_size > 0:
            raise JobRefused(
                f"{out} exists and was not written by `workbench score --queries` (no {job_file(out).name}); "
                "pass another --out or remove it"
            )
        return None
    before = job.get("arguments", {})
    changed = [k for k in arguments if before.get(k) != arguments[k]]
    if job.get("format") != FORMAT:
        changed.insert(0, "format")
    if changed:
        what = "; ".join(f"{k}: {_short(before.get(k))} then, {_short(arguments.get(k))} now" for k in changed)
        raise JobRefused(
            f"{out} was written by a job with other arguments ({what}); resuming would mix two jobs' "
            f"results: pass another --out, or delete {out} and {job_file(out).name} to start over"
        )
    return job


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:59] + "…"


def begin(out: Path, arguments: dict) -> int:
    """Start or resume the job writing `out`: the number of lines already done (a torn last line
    and any score past the last whole line dropped)."""
    job = check_arguments(out, arguments)
    if job is None or not out.exists():
        write_job(out, {"format": FORMAT, "arguments": arguments, "complete": False})
        out.write_bytes(b"")
        scores_file(out).write_bytes(b"")
        return 0
    if job.get("complete"):
        return job.get("lines", 0)
    lines, _ = _whole_lines(out, None)
    try:
        scored = scores_file(out).stat().st_size // 8
    except FileNotFoundError:
        scored = 0 if not _ranked(out) else lines  # killed between the rank pass's two steps
    done = min(lines, scored)
    _, end = _whole_lines(out, done)
    with out.open("r+b") as f:
        f.truncate(end)
    if scores_file(out).exists():
        with scores_file(out).open("r+b") as f:
            f.truncate(done * 8)
    return done


def _whole_lines(path: Path, limit: int | None) -> tuple[int, int]:
    """(lines, bytes) of the first `limit` newline-ended lines of `path` (all when None)."""
    lines = offset = end = 0
    with path.open("rb") as f:
        while (limit is None or lines < limit) and (block := f.read(1 << 20)):
            start = 0
            while (limit is None or lines < limit) and (i := block.find(b"\n", start)) >= 0:
                lines, end, start = lines + 1, offset + i + 1, i + 1
            offset += len(block)
    return lines, end


class Appender:
    """Appends lines and their unrounded scores; each batch flushed before the next is scored."""

    def __init__(self, out: Path) -> None:
        self.lines = out.open("a", encoding="utf-8", newline="\n")
        self.scores = scores_file(out).open("ab")

    def write(self, lines: list[dict], scores: list[float]) -> None:
        import numpy as np

        self.lines.write("".join(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n" for line in lines))
        self.lines.flush()
        # Scores after lines: a kill in between leaves fewer scores than lines, and begin() keeps
        # the shorter; the other way round a score would outlive its line.
        self.scores.write(np.asarray(scores, dtype="<f8").tobytes())
        self.scores.flush()

    def close(self) -> None:
        self.lines.close()
        self.scores.close()


_RANKED = re.compile(rb', "rank": \d+\}\n?$')


def _ranked(out: Path) -> bool:
    with out.open("rb") as f:
        first = f.readline()
    return bool(_RANKED.search(first))


def add_ranks(out: Path, per_query: int) -> None:
    """Rewrite `out` with each line's rank within its query (ties: corpus order, as `workbench
    score` ranks), then drop the scores file. Safe to repeat after a kill at any point."""
    import numpy as np

    scores = scores_file(out)
    if not scores.exists() or _ranked(out):
        scores.unlink(missing_ok=True)
        return
    tmp = out.with_name(out.name + ".ranking")
    with out.open("r", encoding="utf-8", newline="\n") as src, tmp.open("w", encoding="utf-8", newline="\n") as dst:
        offset = 0
        while True:
            block = np.fromfile(scores, dtype="<f8", count=per_query, offset=offset)
            if not len(block):
                break
            offset += block.nbytes
            order = np.argsort(-block, kind="stable")  # best first; equal scores keep corpus order
            ranks = np.empty(len(block), dtype=np.int64)
            ranks[order] = np.arange(1, len(block) + 1)
            for rank in ranks.tolist():
                line = src.readline()
                dst.write(f'{line.rstrip().removesuffix("}")}, "rank": {rank}}}\n')
    os.replace(tmp, out)
    scores.unlink()
