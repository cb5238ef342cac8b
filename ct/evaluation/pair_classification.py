"""Pair classification: is a sentence pair a paraphrase (duplicate) or not, decided by a
threshold on the cosine similarity of its two embeddings; scored with the metrics and
definitions of sentence-transformers' ``BinaryClassificationEvaluator``, as fractions:

- ``ap``: average precision of the similarities ranking the pairs labelled 1 (the primary
  metric; threshold-free);
- ``accuracy`` and ``accuracy_threshold``: the best accuracy of "similar if cosine >=
  threshold" over all thresholds, the threshold halfway between the two neighbouring scores
  (and one above the highest score, every pair dissimilar, unless a threshold does better);
- ``f1``, ``precision``, ``recall``, ``f1_threshold``: the same for the F1 of the label 1;
- ``mcc``: Matthews' correlation of the predictions at ``f1_threshold``.

The in-domain measure of TwitterPara and SPRINT in the TSDAE comparison (Wang et al., 2021).

Example:
    >>> evaluator = PairClassificationEvaluator.from_path("twitterpara-dev.tsv")
    >>> evaluator(encoder)["ap"]
"""

from __future__ import annotations

import numpy as np

from ct.data.labelled_pairs import LabelledPairs, read_labelled_pairs
from ct.evaluation.embedding import embed_distinct
from ct.evaluation.ranking_metrics import average_precision


def _threshold(scores: np.ndarray, group_end: int) -> np.float32:
    """The threshold after the tie group ending at ``group_end`` (descending scores): halfway
    to the next score, or the score itself at the end or when halfway rounds onto the next."""
    if group_end == len(scores) - 1:
        return scores[group_end]
    middle = (scores[group_end] + scores[group_end + 1]) / np.float32(2)
    return scores[group_end] if middle == scores[group_end + 1] else middle


def best_thresholds(scores: np.ndarray, labels: np.ndarray) -> dict:
    """Best accuracy and best F1 of ``scores >= threshold`` predicting ``labels`` (0/1),
    with their thresholds; the first (highest) threshold wins a tie."""
    scores = np.asarray(scores, np.float32)
    labels = np.asarray(labels, np.int64)
    order = np.argsort(-scores, kind="stable")
    scores, labels = scores[order], labels[order]
    # Only a threshold between two different scores can split the pairs.
    ends = np.flatnonzero(np.append(scores[1:] != scores[:-1], True))
    predicted = ends + 1
    true_positives = np.cumsum(labels)[ends]
    negatives = len(labels) - labels.sum()
    accuracy = (true_positives + negatives - (predicted - true_positives)) / len(labels)
    result = {"accuracy": negatives / len(labels),
              "accuracy_threshold": np.nextafter(scores[0], np.float32(np.inf))}
    best = int(np.argmax(accuracy))
    if accuracy[best] > result["accuracy"]:
        result.update(accuracy=accuracy[best], accuracy_threshold=_threshold(scores, ends[best]))
    precision = true_positives / predicted
    recall = true_positives / max(labels.sum(), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(true_positives > 0, 2 * precision * recall / (precision + recall), 0.0)
    result.update(f1=0.0, precision=0.0, recall=0.0, f1_threshold=0.0)
    best = int(np.argmax(f1))
    if f1[best] > 0:
        result.update(f1=f1[best], precision=precision[best], recall=recall[best],
                      f1_threshold=_threshold(scores, ends[best]))
    return {key: float(value) for key, value in result.items()}


def matthews_correlation(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Matthews' correlation coefficient of 0/1 predictions (0 when undefined)."""
    labels, predicted = np.asarray(labels, bool), np.asarray(predicted, bool)
    tp = float(np.sum(labels & predicted))
    tn = float(np.sum(~labels & ~predicted))
    fp = float(np.sum(~labels & predicted))
    fn = float(np.sum(labels & ~predicted))
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return float((tp * tn - fp * fn) / denominator) if denominator > 0 else 0.0


class PairClassificationEvaluator:
    """Scores an encoder on sentence pairs labelled 1 (similar) or 0 (not).

    Args:
        data: the pairs and labels (:func:`read_labelled_pairs`).
        name: label used in logs and results.
        batch_size: sentences per forward pass.

    Calling it returns ``{"ap", "accuracy", "accuracy_threshold", "f1", "precision",
    "recall", "f1_threshold", "mcc", "primary_metric"}``.
    """

    kind = "pairs"
    primary_metric = "ap"

    def __init__(self, data: LabelledPairs, name: str = "pairs", batch_size: int = 64,
                 show_progress=False):
        self.data = data
        self.name = name
        self.batch_size = batch_size
        self.show_progress = show_progress

    @classmethod
    def from_path(cls, path: str, name: str = "pairs", batch_size: int = 64,
                  **kwargs) -> "PairClassificationEvaluator":
        """Builds an evaluator from a labelled-pairs file (TSV, CSV or JSONL)."""
        return cls(read_labelled_pairs(path), name=name, batch_size=batch_size, **kwargs)

    def __call__(self, encoder) -> dict:
        """Evaluates ``encoder`` (anything with ``encode(texts, batch_size, normalize)``)."""
        data = self.data
        vectors, row = embed_distinct(encoder, [*data.sentences_1, *data.sentences_2],
                                      self.batch_size, self.show_progress)
        first = vectors[[row[s] for s in data.sentences_1]]
        second = vectors[[row[s] for s in data.sentences_2]]
        scores = np.sum(first * second, axis=1, dtype=np.float32)
        labels = np.asarray(data.labels)
        result = best_thresholds(scores, labels)
        result["ap"] = average_precision(labels, scores)
        result["mcc"] = matthews_correlation(labels, scores >= result["f1_threshold"])
        return {**result, "primary_metric": self.primary_metric}
