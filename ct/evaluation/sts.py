"""STS evaluation: Spearman (and Pearson) correlation x100 between the cosine similarity of
two sentence embeddings and the gold scores, the measure of the CT and SimCSE papers.

Example:
    >>> evaluator = STSEvaluator.from_file("bundled:stsb-dev")
    >>> evaluator(encoder)["spearman"]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import stats

from ct.data.sts import STSPairs, read_sts_file


def cosine_scores(vectors_1: np.ndarray, vectors_2: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two ``[n, dim]`` arrays."""
    norms = np.linalg.norm(vectors_1, axis=1) * np.linalg.norm(vectors_2, axis=1)
    return np.sum(vectors_1 * vectors_2, axis=1) / np.maximum(norms, 1e-12)


def correlations(similarities: np.ndarray, gold: Sequence[float]) -> dict:
    """``{"spearman", "pearson", "num_pairs"}``, correlations x100."""
    gold = np.asarray(gold, dtype=np.float64)
    return {"spearman": float(stats.spearmanr(similarities, gold)[0] * 100),
            "pearson": float(stats.pearsonr(similarities, gold)[0] * 100),
            "num_pairs": int(len(gold))}


def pair_similarities(encoder, pair_sets: Sequence[STSPairs], batch_size: int = 64,
                      show_progress: bool = False) -> list[np.ndarray]:
    """Cosine similarity of every pair of every set; each distinct sentence is embedded once.

    Args:
        encoder: anything with ``encode(list_of_texts, batch_size=...) -> ndarray``.
        pair_sets: the STS sets.
        batch_size: sentences per forward pass.
    """
    unique = sorted({s for pairs in pair_sets for s in (*pairs.sentences_1, *pairs.sentences_2)})
    position = {sentence: i for i, sentence in enumerate(unique)}
    kwargs = {"show_progress": show_progress} if show_progress else {}
    vectors = encoder.encode(unique, batch_size=batch_size, **kwargs)
    results = []
    for pairs in pair_sets:
        index_1 = np.array([position[s] for s in pairs.sentences_1])
        index_2 = np.array([position[s] for s in pairs.sentences_2])
        results.append(cosine_scores(vectors[index_1], vectors[index_2]))
    return results


class STSEvaluator:
    """Scores an encoder on one STS set.

    Args:
        pairs: the sentence pairs and gold scores.
        name: label used in logs and results (e.g. ``"stsb_dev"``).
        batch_size: sentences per forward pass.

        as_fraction: report correlations as fractions (as sentence-transformers'
            ``EmbeddingSimilarityEvaluator`` and the other ``ct eval --task`` kinds do)
            rather than x100 (the CT and SimCSE papers' tables).

    Calling it returns ``{"spearman", "pearson", "num_pairs", "primary_metric"}``; correlations
    are x100 unless ``as_fraction``.
    """

    kind = "sts"
    primary_metric = "spearman"

    def __init__(self, pairs: STSPairs, name: str = "sts", batch_size: int = 64,
                 as_fraction: bool = False):
        self.pairs = pairs
        self.name = name
        self.batch_size = batch_size
        self.as_fraction = as_fraction

    @classmethod
    def from_file(cls, path: str, name: str = "stsb_dev", batch_size: int = 64,
                  format: str = "auto") -> "STSEvaluator":
        """Builds an evaluator from an STS file (any supported format) or ``bundled:stsb-dev``."""
        return cls(read_sts_file(path, format), name=name, batch_size=batch_size)

    @classmethod
    def from_path(cls, path: str, name: str = "sts", batch_size: int = 64,
                  **kwargs) -> "STSEvaluator":
        """An evaluator of ``ct eval --task sts:PATH`` and ``eval_tasks``: any STS file,
        correlations as fractions."""
        kwargs.pop("show_progress", None)
        return cls(read_sts_file(path), name=name, batch_size=batch_size, as_fraction=True)

    def __call__(self, encoder) -> dict:
        """Evaluates ``encoder`` (anything with ``encode(list_of_texts) -> ndarray``)."""
        (similarities,) = pair_similarities(encoder, [self.pairs], self.batch_size)
        result = correlations(similarities, self.pairs.scores)
        if self.as_fraction:
            result.update(spearman=result["spearman"] / 100, pearson=result["pearson"] / 100)
        return {**result, "primary_metric": self.primary_metric}
