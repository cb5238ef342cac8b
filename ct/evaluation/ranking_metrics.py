"""Ranking metrics with sentence-transformers' definitions (which follow scikit-learn's and
the TREC tools'), in NumPy.

- :func:`average_precision`: scikit-learn's ``average_precision_score``: precision summed
  over the recall gained at each distinct score (tied scores form one step).
- :func:`tie_averaged_ndcg`: scikit-learn's ``ndcg_score(..., k)`` for one query: documents
  with equal scores share the average of their gains (McSherry & Najork, 2008).
- :func:`cutoff_metrics`: the ``InformationRetrievalEvaluator`` metrics from each query's
  ranked list: Accuracy@k, Precision@k, Recall@k, MRR@k, nDCG@k (binary gains), MAP@k.

Example:
    >>> average_precision(np.array([1, 0, 1]), np.array([0.9, 0.8, 0.1]))
    0.8333333333333333
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _score_groups(relevant: np.ndarray, scores: np.ndarray):
    """Relevant and total counts per distinct score, highest score first."""
    distinct, inverse = np.unique(-np.asarray(scores), return_inverse=True)
    counts = np.bincount(inverse, minlength=len(distinct))
    gains = np.bincount(inverse, weights=np.asarray(relevant, np.float64),
                        minlength=len(distinct))
    return gains, counts


def average_precision(relevant: np.ndarray, scores: np.ndarray) -> float:
    """Average precision of ``scores`` ranking the items where ``relevant`` is 1 (0 when none
    is)."""
    gains, counts = _score_groups(relevant, scores)
    true_positives = np.cumsum(gains)
    total = true_positives[-1]
    if total == 0:
        return 0.0
    precision = true_positives / np.cumsum(counts)
    recall_gained = gains / total
    return float(np.sum(recall_gained * precision))


def tie_averaged_ndcg(relevant: np.ndarray, scores: np.ndarray, k: int) -> float:
    """nDCG@k of one query with tie-averaged gains; 0 when nothing is relevant."""
    relevant = np.asarray(relevant, np.float64)
    discount = np.zeros(len(relevant))
    cutoff = min(k, len(relevant))
    discount[:cutoff] = 1.0 / np.log2(np.arange(cutoff) + 2)
    cumulative = np.cumsum(discount)
    gains, counts = _score_groups(relevant, scores)
    ends = np.cumsum(counts) - 1
    group_discount = np.diff(cumulative[ends], prepend=0.0)
    dcg = float(np.sum(gains / counts * group_discount))
    ideal = float(np.sum(np.sort(relevant)[::-1] * discount))
    return dcg / ideal if ideal > 0 else 0.0


def cutoff_metrics(hits: np.ndarray, num_relevant: np.ndarray, accuracy_at: Sequence[int],
                   precision_recall_at: Sequence[int], mrr_at: Sequence[int],
                   ndcg_at: Sequence[int], map_at: Sequence[int]) -> dict:
    """The retrieval metrics, averaged over queries.

    Args:
        hits: ``[queries, max_k]`` bool: whether the document at each rank is relevant
            (ranks beyond the corpus are False).
        num_relevant: ``[queries]``: each query's number of relevant documents (>= 1).

    Returns:
        ``{"accuracy@1": ..., "precision@10": ..., "recall@100": ..., "mrr@10": ...,
        "ndcg@10": ..., "map@100": ...}`` as fractions.
    """
    hits = np.asarray(hits, bool)
    num_relevant = np.asarray(num_relevant, np.float64)
    width = hits.shape[1]
    rank = np.arange(width)
    discount = 1.0 / np.log2(rank + 2)
    metrics = {}
    for k in accuracy_at:
        metrics[f"accuracy@{k}"] = float(np.mean(hits[:, :k].any(axis=1)))
    for k in precision_recall_at:
        found = hits[:, :k].sum(axis=1)
        metrics[f"precision@{k}"] = float(np.mean(found / k))
        metrics[f"recall@{k}"] = float(np.mean(found / num_relevant))
    for k in mrr_at:
        within = hits[:, :k]
        first = np.argmax(within, axis=1)
        metrics[f"mrr@{k}"] = float(np.mean(np.where(within.any(axis=1), 1.0 / (first + 1), 0)))
    for k in ndcg_at:
        dcg = (hits[:, :k] * discount[:k]).sum(axis=1)
        ideal_cumulative = np.cumsum(1.0 / np.log2(np.arange(k) + 2))
        ideal = ideal_cumulative[np.minimum(num_relevant, k).astype(int) - 1]
        metrics[f"ndcg@{k}"] = float(np.mean(dcg / ideal))
    for k in map_at:
        within = hits[:, :k]
        precision_at_hit = np.cumsum(within, axis=1) / (rank[:within.shape[1]] + 1) * within
        metrics[f"map@{k}"] = float(np.mean(precision_at_hit.sum(axis=1)
                                            / np.minimum(k, num_relevant)))
    return metrics
