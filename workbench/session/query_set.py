"""A set of judged queries scored in the background while the user tunes the instruction: the
app's version of `workbench eval` (same reading, sweep and report code).

The sweep runs on a second session that shares the app session's ranker (so its cache) and its
model lock, so it never uses the model at the same time as a live run; the app cancels it on
every edit and starts it again once the live ranking is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.calibration import best_threshold, histogram, render_histogram
from workbench.evaluation import Candidate, CandidateResult, report, sweep
from workbench.evaluation.judged import JudgedQuery, apply_qrels, check_against_documents, read_queries
from workbench.evaluation.table import report_lines
from workbench.evaluation.trec import read_qrels

from .controller import Workbench
from .recorder import NullRecorder

SET_K = 10


@dataclass(frozen=True)
class QuerySet:
    queries: list[JudgedQuery]
    source: str  # the file names, for the pane's title


def read_query_set(queries: Path, qrels: Path | None, documents: dict[str, str]) -> tuple[QuerySet | None, list[str]]:
    """The judged queries (with `qrels` replacing their phrases), checked against the documents;
    (None, problems) when nothing usable is left. Problems are "file:line: ..." lines."""
    judged, problems = read_queries(queries)
    if qrels is not None:
        lines, more = read_qrels(qrels)
        problems += more
        judged = apply_qrels(judged, lines, problems)
    problems += check_against_documents(judged, documents)
    if problems or not judged:
        return None, problems or [f"{queries}: no judged query in it"]
    return QuerySet(judged, queries.name + (f" + {qrels.name}" if qrels else "")), []


def score_query_set(main: Workbench, query_set: QuerySet, instructions: list[tuple[str, str]],
                    should_cancel: Callable[[], bool], progress: Callable[[str], None]) -> list[str]:
    """Every query under each (label, instruction); the report lines, the first one the baseline.
    Raises SessionInputError when cancelled."""
    assert main.ranker is not None, "the model is not loaded"
    shadow = Workbench(main.settings, NullRecorder("query-set runs are not recorded"), documents=main.documents)
    shadow.ranker, shadow.model_lock = main.ranker, main.model_lock  # one cache, one model user at a time
    texts = {d.id: d.text for d in main.documents}
    candidates = [Candidate(label, text) for label, text in instructions]
    results = sweep(shadow, query_set.queries, candidates, instructions[0][1], texts, SET_K, override=True,
                    progress=progress, should_cancel=should_cancel)
    info = main.ranker.scorer.info
    local = info.model_id.startswith(("/", ".", "~"))  # a directory: its name is enough on screen
    model = Path(info.model_id).name if local else info.model_id
    data = report(results, query_set.queries, SET_K, {"id": model, "fallback": bool(info.is_fallback)})
    return report_lines(data, query_set.queries) + across_the_set(results[0]) + [f"note: {n}" for n in data["notes"]]


def across_the_set(result: CandidateResult) -> list[str]:
    """Calibration over every judged query (the instruction on screen): the probabilities of all
    their chunks, and the one cut-off that best separates the relevant ones (best F1)."""
    scored = [(score, judged.qrels["chunk"].get(item, 0) >= 1)
              for judged in result.judged.values() for item, score in judged.runs["chunk"]]
    lines = ["", f"across the set ({result.candidate.label}): probability histogram of {len(scored)} chunks"]
    lines += render_histogram(histogram([s for s, _ in scored], 10, 0.0, 1.0), digits=1)
    cut = best_threshold(scored)
    if cut is not None:
        lines.append(f"one cut-off for every query: score >= {cut.shown()}  F1 {cut.f1:.3f}  "
                     f"precision {cut.precision:.3f}  recall {cut.recall:.3f}")
    return lines
