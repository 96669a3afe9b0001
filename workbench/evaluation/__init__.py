"""Judging reranker setups on queries with known answers: judgments (queries.jsonl or TREC
qrels), metrics through ir-measures at chunk and document level, TREC run files, and paired
comparisons of instructions. See the README's "Judging a setup" section."""

from .compare import Comparison, compare
from .judged import JudgedQuery, JudgmentError, Label, apply_qrels, check_against_documents, phrase_spans, read_queries
from .metrics import LEVELS, Judged, means, measure_names, per_query, resolve
from .sweep import Candidate, CandidateResult, report, sweep
from .trec import Item, parse_item, read_qrels, read_run, write_qrels, write_run

__all__ = [
    "LEVELS", "Candidate", "CandidateResult", "Comparison", "Item", "Judged", "JudgedQuery", "JudgmentError", "Label",
    "apply_qrels", "check_against_documents", "compare", "means", "measure_names", "parse_item", "per_query",
    "phrase_spans", "read_qrels", "read_queries", "read_run", "report", "resolve", "sweep", "write_qrels", "write_run",
]
