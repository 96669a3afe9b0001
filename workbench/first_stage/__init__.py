"""First-stage baselines: BM25 and the bundled embedding model rank the chunks the reranker
scores, so the CLI, eval and the app can show what the reranker adds over the retriever that
feeds it. No Textual here (tests/first_stage/test_first_stage_rank.py checks)."""

from .ranking import DESCRIPTIONS, METHODS, FirstStageRanking, first_stage_scores, moved, rank_first_stage

__all__ = ["DESCRIPTIONS", "METHODS", "FirstStageRanking", "first_stage_scores", "moved", "rank_first_stage"]
