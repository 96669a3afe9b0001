"""`workbench score --queries Q.jsonl --docs-jsonl D.jsonl --out R.jsonl`: the corpus-scale job.

Every document against every query, chunked, scored and aggregated as `workbench score` does,
streamed in flat memory (corpus_job.py). Progress (rate, ETA) goes to stderr on a terminal only;
otherwise stderr gets one summary line. Stopped or killed, the same command resumes where the
output ends (and takes what the model already scored from the score cache); other arguments on
the same --out are refused. Jobs are not recorded in the run log (--session does not apply).
"""

from __future__ import annotations

import hashlib
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import typer

from .cli_common import configure, fail, load_scorer, print_notices, warn

# The flags of `workbench score` that configure() reads.
_CONFIG_FLAGS = ("model", "device", "dtype", "quantize", "chunk_tokens", "chunk_overlap", "max_length",
                 "aggregate", "top_k", "offline", "db", "backend", "backend_api", "backend_scores", "compile")
# Flags of `workbench score` that mean nothing for a corpus job, and what to say.
_NOT_WITH_QUERIES = {
    "compare_with": "--compare-with", "calibrate": "--calibrate", "qrels": "--qrels", "qid": "--qid",
    "top": "--top", "session": "--session", "first_stage": "--first-stage", "rerank_top": "--rerank-top",
}


def score_corpus(**flags) -> None:
    """Run (or resume) the job `workbench score --queries` describes; flags are score()'s."""
    from .corpus_input import read_query_file, scan_corpus
    from .corpus_job import job_arguments
    from .corpus_output import JobRefused, check_arguments
    from .documents import UnreadableInput

    queries_path, docs_path, out = _check_flags(flags)
    from .cli_setup import with_setup

    instructions = flags.get("instructions") or []
    given = {k: flags[k] for k in _CONFIG_FLAGS if k in flags}
    given["backend"] = given.get("backend") or None  # typer gives [] when --backend is not used
    given, _ = with_setup(flags.get("setup"), given | {"instruction": instructions[0] if instructions else None}, None)
    settings, options, run_settings = configure(**given)
    queries, problems = read_query_file(queries_path)
    for problem in problems:
        warn(problem)
    if not queries:
        fail(f"{queries_path}: no query to score", 2)
    try:
        scan = scan_corpus(docs_path)
    except UnreadableInput as e:
        fail(str(e))
    for problem in scan.problems:
        warn(problem)
    if not scan.documents:
        fail("nothing to score: no readable document was given")
    arguments = job_arguments(scan, queries, _sha256(queries_path), settings.instruction, run_settings,
                              options.max_length)
    try:
        job = check_arguments(out, arguments)  # refused before the model loads
    except JobRefused as e:
        fail(str(e), 2)
    if job is not None and job.get("complete"):
        warn(f"{out} is complete ({job.get('lines')} lines): nothing to do")
        return
    scorer = load_scorer(options)
    arguments["model"] = _model(scorer)
    _run(flags, settings, run_settings, queries, scan, arguments, scorer, out)


def _check_flags(flags: dict) -> tuple[Path, Path, Path]:
    """Usage errors (exit 2) before anything is read or loaded."""
    queries, docs, out = flags.get("queries"), flags.get("docs_jsonl"), flags.get("out")
    if queries is None:
        fail("--out writes the results of a corpus job: give --queries FILE too (and --docs-jsonl)", 2)
    if out is None:
        fail("--queries scores a corpus into a file: give --out FILE.jsonl", 2)
    if docs is None:
        fail("--queries scores the documents of --docs-jsonl FILE: give it", 2)
    if flags.get("paths"):
        fail("with --queries the documents come from --docs-jsonl only: drop the paths", 2)
    if flags.get("query") is not None:
        fail("--query and --queries: give one (put the query in the --queries file)", 2)
    if len(flags.get("instructions") or []) > 1:
        fail("--queries takes one --instruction (for queries that name none)", 2)
    for name, flag in _NOT_WITH_QUERIES.items():
        if flags.get(name) not in (None, False):
            fail(f"{flag} does not apply to a corpus job (--queries)", 2)
    if getattr(flags.get("normalize"), "value", "none") != "none":
        fail("--normalize does not apply to a corpus job (--queries)", 2)
    if getattr(flags.get("fmt"), "value", "table") != "table":
        fail("--queries writes JSONL to --out: drop --format", 2)
    out = Path(out).expanduser()
    if out.is_dir() or str(out) == "-":
        fail(f"--out {out}: needs a file name", 2)
    if not out.parent.is_dir():
        fail(f"--out {out}: the folder {out.parent} does not exist", 2)
    return Path(queries).expanduser(), Path(docs).expanduser(), out


def _run(flags, settings, run_settings, queries, scan, arguments, scorer, out: Path) -> None:
    from .corpus_job import make_ranker, run_job
    from .corpus_output import Appender, JobRefused, add_ranks, begin, read_job, write_job
    from .engine.ranking import RankingInputError
    from .engine.scorer import ScoringError
    from .session.sqlite_recorder import open_recorder

    total = len(queries) * scan.documents
    recorder = open_recorder(settings.db, origin="score", log_runs=False, cache_scores=not flags.get("no_cache"))
    lock = None
    try:
        print_notices(recorder)
        lock = _lock(out)  # two jobs appending to one --out would garble it
        try:
            start = begin(out, arguments)
        except (JobRefused, OSError) as e:
            fail(str(e), 2 if isinstance(e, JobRefused) else 1)
        appender = Appender(out)
        ranker = make_ranker(scorer, recorder.score_cache())
        try:
            with _progress(total, start) as advance:
                stats = run_job(ranker, queries, scan, settings.instruction, run_settings, start, appender, advance)
        except (ScoringError, RankingInputError) as e:
            fail(f"{e} (the lines written so far stay in {out}: run the same command to resume)")
        except KeyboardInterrupt:
            warn(f"stopped: {out} keeps the lines written so far; run the same command to resume")
            raise typer.Exit(130) from None
        finally:
            appender.close()
            print_notices(recorder)
        add_ranks(out, scan.documents)
        job = read_job(out) or {}
        write_job(out, job | {"complete": True, "lines": total, "stats": stats.to_dict()})
    finally:
        recorder.close()
        if lock is not None:
            lock.close()
    warn(_summary(stats, len(queries), scan.documents, out))


def _summary(stats, queries: int, documents: int, out: Path) -> str:
    resumed = f", {stats.resumed} already there" if stats.resumed else ""
    return (
        f"wrote {out}: {documents} documents x {queries} quer{'y' if queries == 1 else 'ies'} = "
        f"{documents * queries} lines ({stats.pairs} scored now{resumed}) in {stats.seconds:.1f} s, "
        f"{stats.rate(stats.pairs):.1f} pairs/s, {stats.rate(stats.prompt_tokens):.0f} tokens/s; "
        f"{stats.scored} scored by the model, {stats.cached} from the score cache"
    )


@contextmanager
def _progress(total: int, done: int):
    """A bar with rate and ETA on stderr when it is a terminal; otherwise nothing (the summary
    line follows). Yields the function to call with the pairs this run has done so far."""
    if not sys.stderr.isatty():
        yield lambda pairs: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("scoring"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} pairs/s"), TextColumn("ETA"), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("scoring", total=total, completed=done, rate="-")
        began = time.perf_counter()

        def advance(pairs: float) -> None:
            rate = pairs / max(time.perf_counter() - began, 1e-9)
            bar.update(task, completed=done + pairs, rate=f"{rate:.1f}")

        yield advance


def _lock(out: Path):
    """An exclusive lock on `out` itself (Linux/macOS; elsewhere none): no file left behind."""
    try:
        import fcntl
    except ImportError:
        return None
    handle = out.open("ab")  # creates an empty `out` for a new job, as begin() would
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        fail(f"another job is writing {out} now: wait for it, or pass another --out", 2)
    return handle


def _model(scorer) -> str:
    from .corpus_job import model_argument

    return model_argument(scorer)


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""  # unreadable: read_query_file has said so already
