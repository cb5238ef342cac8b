"""Retrieval evaluation: each query searches the whole corpus by cosine similarity; the
ranked lists are scored against the relevance judgements with the metrics and definitions of
sentence-transformers' ``InformationRetrievalEvaluator`` (Reimers & Gurevych, 2019; the BEIR
benchmark, Thakur et al., 2021, ranks by nDCG@10).

Ranking: by score, highest first; equal scores by corpus id (string order), as
sentence-transformers does, so ties never depend on the chunking. Metrics (fractions):
Accuracy@{1,3,5,10}, Precision@/Recall@{1,3,5,10,100}, MRR@10, nDCG@10 (the primary
metric), MAP@100.

Memory stays bounded for corpora of a million documents: documents are embedded once (each
distinct text once: equal documents get equal scores), in chunks of ``corpus_chunk_size``
taken in length order (each chunk's batches are then also sorted by token count, so little
padding is computed), and each chunk is scored against blocks of queries, keeping only every
query's running top 100. Peak memory is a chunk's vectors plus
one ``[query block, chunk]`` score matrix, whatever the corpus size.

Example:
    >>> evaluator = RetrievalEvaluator.from_path("data/scifact")
    >>> evaluator(encoder)["ndcg@10"]
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np

from ct.data.retrieval_set import RetrievalSet, read_retrieval_set
from ct.evaluation.embedding import embed_distinct
from ct.evaluation.ranking_metrics import cutoff_metrics

logger = logging.getLogger(__name__)

# A [query block, corpus chunk] float32 score matrix holds at most this many entries (64 MB).
_SCORE_BLOCK = 1 << 24


def _top_k(scores: np.ndarray, docs: np.ndarray, k: int,
           id_rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best ``(scores, docs)`` of each row, under the order (score descending,
    corpus id ascending); not sorted."""
    if scores.shape[1] <= k:
        return scores, np.broadcast_to(docs, scores.shape)
    columns = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(scores, columns, axis=1).min(axis=1)
    # argpartition splits a tie at the k-th score arbitrarily: those rows choose by corpus id.
    for row in np.nonzero((scores >= kth[:, None]).sum(axis=1) > k)[0]:
        candidates = np.nonzero(scores[row] >= kth[row])[0]
        order = np.lexsort((id_rank[docs[candidates]], -scores[row, candidates]))
        columns[row] = candidates[order[:k]]
    return np.take_along_axis(scores, columns, axis=1), docs[columns]


def _merge(scores: np.ndarray, docs: np.ndarray, k: int,
           id_rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` best, sorted (score descending, corpus id ascending)."""
    order = np.lexsort((id_rank[docs], -scores), axis=-1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(docs, order, axis=1)


class RetrievalEvaluator:
    """Scores an encoder on a retrieval dev set (queries, corpus, relevance judgements).

    Args:
        data: the dev set (:func:`ct.data.retrieval_set.read_retrieval_set`).
        name: label used in logs and results.
        batch_size: sentences per forward pass.
        corpus_chunk_size: documents embedded and scored at a time (bounds memory).
        accuracy_at, precision_recall_at, mrr_at, ndcg_at, map_at: the cutoffs.
        show_progress: show encoding progress (True or a :mod:`ct.progress` mode).

    Calling it returns every metric (e.g. ``"ndcg@10"``) and ``"primary_metric"``.
    """

    kind = "retrieval"

    def __init__(self, data: RetrievalSet, name: str = "retrieval", batch_size: int = 64,
                 corpus_chunk_size: int = 50_000, accuracy_at: Sequence[int] = (1, 3, 5, 10),
                 precision_recall_at: Sequence[int] = (1, 3, 5, 10, 100),
                 mrr_at: Sequence[int] = (10,), ndcg_at: Sequence[int] = (10,),
                 map_at: Sequence[int] = (100,), show_progress=False):
        self.data = data
        self.name = name
        self.batch_size = batch_size
        self.corpus_chunk_size = corpus_chunk_size
        self.cutoffs = dict(accuracy_at=tuple(accuracy_at),
                            precision_recall_at=tuple(precision_recall_at),
                            mrr_at=tuple(mrr_at), ndcg_at=tuple(ndcg_at), map_at=tuple(map_at))
        self.max_k = max(max(ks) for ks in self.cutoffs.values())
        self.primary_metric = f"ndcg@{max(ndcg_at)}"
        self.show_progress = show_progress
        # Each document's position in corpus-id order: the tie-breaker of the ranking.
        self.id_rank = np.empty(len(data.corpus_ids), np.int64)
        self.id_rank[np.argsort(np.array(data.corpus_ids, dtype=object), kind="stable")] = \
            np.arange(len(data.corpus_ids))
        self.search_seconds = 0.0

    @classmethod
    def from_path(cls, path: str, name: str = "retrieval", batch_size: int = 64,
                  **kwargs) -> "RetrievalEvaluator":
        """Builds an evaluator from a BEIR folder (or one of its qrels files)."""
        return cls(read_retrieval_set(path), name=name, batch_size=batch_size, **kwargs)

    def search(self, encoder, query_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, docs)``, ``[queries, min(max_k, corpus)]``: each query's best documents
        (corpus positions), ranked; the corpus is embedded here, chunk by chunk."""
        texts = self.data.corpus_texts
        k = min(self.max_k, len(texts))
        length_order = np.argsort(np.fromiter((len(t) for t in texts), np.int64, len(texts)),
                                  kind="stable")
        num_queries = len(query_vectors)
        best_scores = np.zeros((num_queries, 0), np.float32)
        best_docs = np.zeros((num_queries, 0), np.int64)
        for start in range(0, len(texts), self.corpus_chunk_size):
            docs = length_order[start:start + self.corpus_chunk_size]
            # Each distinct text once: equal documents get equal scores, ranked by id.
            vectors, row = embed_distinct(encoder, (texts[i] for i in docs), self.batch_size,
                                          self.show_progress)
            vectors = vectors[[row[texts[i]] for i in docs]]
            started = time.perf_counter()
            block = max(1, _SCORE_BLOCK // len(docs))
            chunk_scores, chunk_docs = [], []
            for first in range(0, num_queries, block):
                scores = query_vectors[first:first + block] @ vectors.T
                top_scores, top_docs = _top_k(scores, docs, k, self.id_rank)
                chunk_scores.append(top_scores)
                chunk_docs.append(top_docs)
            best_scores, best_docs = _merge(
                np.concatenate([best_scores, np.concatenate(chunk_scores)], axis=1),
                np.concatenate([best_docs, np.concatenate(chunk_docs)], axis=1), k, self.id_rank)
            self.search_seconds += time.perf_counter() - started
        return best_scores, best_docs

    def __call__(self, encoder) -> dict:
        """Evaluates ``encoder`` (anything with ``encode(texts, batch_size, normalize)``)."""
        data = self.data
        self.search_seconds = 0.0
        vectors, row = embed_distinct(encoder, data.query_texts, self.batch_size,
                                      self.show_progress)
        queries = vectors[[row[text] for text in data.query_texts]]
        _, docs = self.search(encoder, queries)
        position = {doc: i for i, doc in enumerate(data.corpus_ids)}
        hits = np.zeros((len(queries), self.max_k), bool)
        for row, query in enumerate(data.query_ids):
            relevant = np.fromiter((position[d] for d in data.relevant[query]), np.int64)
            hits[row, :docs.shape[1]] = np.isin(docs[row], relevant)
        num_relevant = np.array([len(data.relevant[q]) for q in data.query_ids])
        metrics = cutoff_metrics(hits, num_relevant, **self.cutoffs)
        logger.info("%s: %d queries, %d documents: nDCG@10 %.4f", self.name, len(queries),
                    len(data.corpus_ids), metrics.get("ndcg@10", float("nan")))
        return {**metrics, "primary_metric": self.primary_metric}
