"""In-batch negatives, a.k.a. MultipleNegativesRankingLoss (Henderson et al., "Efficient
Natural Language Response Suggestion for Smart Reply", 2017).

Inputs: ``[batch, dim]`` anchor embeddings, the ``[batch, dim]`` embeddings of their positives
and optionally ``[batch, dim]`` hard negatives. Every anchor is scored against every candidate
(all positives, then all hard negatives) by cosine similarity times ``scale``; the loss is the
cross-entropy of picking its own positive, so the other pairs of the batch act as negatives.
This is sentence-transformers' ``MultipleNegativesRankingLoss`` and supervised SimCSE (Gao et
al., "SimCSE", EMNLP 2021), which trains on NLI with the entailment hypothesis as positive and
the contradiction as hard negative.

Prefer it to :mod:`ct.losses.softmax_nli` for NLI training (better STS scores) whenever
(anchor, positive) pairs exist; it needs large batches, since the batch is the pool of
negatives. Use :mod:`ct.losses.cosine_similarity` when the data has graded similarity scores
(STS-B) rather than positive pairs.
"""

from __future__ import annotations

from typing import Optional, Sequence

from ct._keras import tf
from ct.losses.similarity import pairwise_similarities


def in_batch_logits(anchors: tf.Tensor, candidates: tf.Tensor, scale: float = 20.0) -> tf.Tensor:
    """Scaled cosine similarities of every anchor with every candidate, in float32.

    Args:
        anchors: ``[batch, dim]`` anchor embeddings.
        candidates: ``[num_candidates, dim]`` candidate embeddings.
        scale: Multiplier of the cosines (an inverse temperature; 20 is sentence-transformers'
            default, SimCSE's temperature 0.05 is the same value).

    Returns:
        ``[batch, num_candidates]`` float32 matrix ``scale * cos(anchors[i], candidates[j])``.

    Example:
        >>> from ct._keras import tf
        >>> from ct.losses.in_batch_negatives import in_batch_logits
        >>> in_batch_logits(tf.eye(2), tf.eye(2), scale=20.0).numpy().tolist()
        [[20.0, 0.0], [0.0, 20.0]]
    """
    return pairwise_similarities(anchors, candidates, "cosine", scale)


def in_batch_negatives_loss(anchors: tf.Tensor, positives: tf.Tensor,
                            hard_negatives: Optional[tf.Tensor] = None,
                            scale: float = 20.0,
                            all_candidates: Optional[Sequence[tf.Tensor]] = None,
                            offset=0) -> tf.Tensor:
    """Per-anchor cross-entropy of finding its positive among the batch, ``[batch]``.

    The candidates are ``concat(positives, hard_negatives)``; the correct candidate of
    anchor ``i`` is ``positives[i]``. With several replicas, ``all_candidates`` holds every
    replica's positives (and hard negatives), gathered in replica order, and ``offset`` this
    replica's first index in them: the candidates are then the whole global batch, as on one
    device.

    Args:
        anchors: ``[batch, dim]`` anchor embeddings (e.g. NLI premises).
        positives: ``[batch, dim]`` embeddings of the positives (e.g. entailed hypotheses).
        hard_negatives: Optional ``[batch, dim]`` embeddings of hard negatives (e.g.
            contradicting hypotheses), used as extra candidates for every anchor.
        scale: Multiplier of the cosine similarities, see :func:`in_batch_logits`.
        all_candidates: ``[positives of all replicas, hard negatives of all replicas]``
            (default: this replica's own).
        offset: index of this replica's first anchor in the global batch.

    Returns:
        ``[batch]`` float32 losses; average them with ``tf.nn.compute_average_loss``.

    Example:
        >>> from ct._keras import tf
        >>> from ct.losses.in_batch_negatives import in_batch_negatives_loss
        >>> float(in_batch_negatives_loss(tf.eye(4), tf.eye(4))[0]) < 1e-3
        True
    """
    if all_candidates is None:
        all_candidates = [positives] + ([hard_negatives] if hard_negatives is not None else [])
    candidates = tf.concat([tf.cast(c, tf.float32) for c in all_candidates], axis=0)
    logits = in_batch_logits(anchors, candidates, scale)
    labels = tf.cast(offset, tf.int32) + tf.range(tf.shape(logits)[0], dtype=tf.int32)
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
