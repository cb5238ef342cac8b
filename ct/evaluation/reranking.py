"""Reranking evaluation: each query ranks its own candidates (positives and negatives) by
cosine similarity, scored with the metrics and definitions of sentence-transformers'
``RerankingEvaluator``: MAP (average precision over all candidates, tied scores as one step),
MRR@10 and nDCG@10 (tied scores share their gains; the primary metric), as fractions. The
in-domain measure of AskUbuntu, SciDocs and StackOverflow DupQuestions in the TSDAE comparison
of domain adaptation methods (Wang et al., 2021).

Example:
    >>> evaluator = RerankingEvaluator.from_path("askubuntu-dev.jsonl")
    >>> evaluator(encoder)["map"]
"""

from __future__ import annotations

import numpy as np

from ct.data.reranking_set import RerankingSet, read_reranking_set
from ct.evaluation.embedding import embed_distinct
from ct.evaluation.ranking_metrics import average_precision, tie_averaged_ndcg


class RerankingEvaluator:
    """Scores an encoder on a reranking dev set.

    Args:
        data: the queries and their candidates (:func:`read_reranking_set`).
        name: label used in logs and results.
        batch_size: sentences per forward pass.
        at_k: the cutoff of MRR and nDCG.

    Calling it returns ``{"map", "mrr@10", "ndcg@10", "primary_metric"}``.
    """

    kind = "reranking"

    def __init__(self, data: RerankingSet, name: str = "reranking", batch_size: int = 64,
                 at_k: int = 10, show_progress=False):
        self.data = data
        self.name = name
        self.batch_size = batch_size
        self.at_k = at_k
        self.primary_metric = f"ndcg@{at_k}"
        self.show_progress = show_progress

    @classmethod
    def from_path(cls, path: str, name: str = "reranking", batch_size: int = 64,
                  **kwargs) -> "RerankingEvaluator":
        """Builds an evaluator from a reranking JSONL file."""
        return cls(read_reranking_set(path), name=name, batch_size=batch_size, **kwargs)

    def __call__(self, encoder) -> dict:
        """Evaluates ``encoder`` (anything with ``encode(texts, batch_size, normalize)``)."""
        data = self.data
        texts = [*data.queries, *(t for docs in (*data.positives, *data.negatives) for t in docs)]
        vectors, row = embed_distinct(encoder, texts, self.batch_size, self.show_progress)
        average_precisions, reciprocal_ranks, ndcgs = [], [], []
        for query, positives, negatives in zip(data.queries, data.positives, data.negatives):
            candidates = vectors[[row[t] for t in (*positives, *negatives)]]
            scores = candidates @ vectors[row[query]]
            relevant = np.zeros(len(scores), np.int64)
            relevant[:len(positives)] = 1
            ranked = relevant[np.argsort(-scores, kind="stable")][:self.at_k]
            first = np.flatnonzero(ranked)
            reciprocal_ranks.append(1.0 / (first[0] + 1) if len(first) else 0.0)
            ndcgs.append(tie_averaged_ndcg(relevant, scores, self.at_k))
            average_precisions.append(average_precision(relevant, scores))
        return {"map": float(np.mean(average_precisions)),
                f"mrr@{self.at_k}": float(np.mean(reciprocal_ranks)),
                f"ndcg@{self.at_k}": float(np.mean(ndcgs)),
                "primary_metric": self.primary_metric}
