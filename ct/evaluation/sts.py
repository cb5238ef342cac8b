"""STS evaluation: Spearman (and Pearson) correlation x100 between the cosine similarity of
two sentence embeddings and the gold scores, the measure of the CT and SimCSE papers.

Example:
    >>> evaluator = STSEvaluator.from_file("bundled:stsb-dev")
    >>> evaluator(encoder)["spearman"]
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ct.data.sts import STSPairs, read_sts_benchmark


def cosine_scores(vectors_1: np.ndarray, vectors_2: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two ``[n, dim]`` arrays."""
    norms = np.linalg.norm(vectors_1, axis=1) * np.linalg.norm(vectors_2, axis=1)
    return np.sum(vectors_1 * vectors_2, axis=1) / np.maximum(norms, 1e-12)


class STSEvaluator:
    """Scores an encoder on one STS set.

    Args:
        pairs: the sentence pairs and gold scores.
        name: label used in logs and results (e.g. ``"stsb_dev"``).
        batch_size: sentences per forward pass.

    Calling it returns ``{"spearman", "pearson", "num_pairs", "primary_metric"}``; correlations
    are x100. Each distinct sentence is embedded once.
    """

    primary_metric = "spearman"

    def __init__(self, pairs: STSPairs, name: str = "sts", batch_size: int = 64):
        self.pairs = pairs
        self.name = name
        self.batch_size = batch_size
        self._unique = sorted(set(pairs.sentences_1) | set(pairs.sentences_2))
        position = {s: i for i, s in enumerate(self._unique)}
        self._index_1 = np.array([position[s] for s in pairs.sentences_1])
        self._index_2 = np.array([position[s] for s in pairs.sentences_2])

    @classmethod
    def from_file(cls, path: str, name: str = "stsb_dev", batch_size: int = 64) -> "STSEvaluator":
        """Builds an evaluator from an STS-B file or ``bundled:stsb-dev``."""
        return cls(read_sts_benchmark(path), name=name, batch_size=batch_size)

    def __call__(self, encoder) -> dict:
        """Evaluates ``encoder`` (anything with ``encode(list_of_texts) -> ndarray``)."""
        vectors = encoder.encode(self._unique, batch_size=self.batch_size)
        similarities = cosine_scores(vectors[self._index_1], vectors[self._index_2])
        gold = np.asarray(self.pairs.scores)
        return {
            "spearman": float(stats.spearmanr(similarities, gold)[0] * 100),
            "pearson": float(stats.pearsonr(similarities, gold)[0] * 100),
            "num_pairs": len(gold),
            "primary_metric": self.primary_metric,
        }
