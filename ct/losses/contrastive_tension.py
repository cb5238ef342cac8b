"""The Contrastive Tension objective (Carlsson et al., "Semantic Re-tuning with Contrastive
Tension", ICLR 2021).

Inputs: the pooled embeddings of model 1 and model 2 for a batch of sentence pairs, and a
label per pair (1: the same sentence went to both models; 0: two different random sentences).
The logit of a pair is the dot product of its two embeddings, and the loss is sigmoid binary
cross-entropy. Prefer ``ct_ibn`` (in-batch negatives) when batches are large; plain CT is the
paper's objective.
"""

from __future__ import annotations

from ct._keras import tf


def contrastive_tension_logits(embeddings_1: tf.Tensor, embeddings_2: tf.Tensor) -> tf.Tensor:
    """Dot product of each pair of embeddings: ``[batch, dim] x [batch, dim] -> [batch]``."""
    return tf.reduce_sum(embeddings_1 * embeddings_2, axis=-1)


def contrastive_tension_loss(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Per-pair sigmoid binary cross-entropy, ``[batch]``, computed in float32.

    Args:
        logits: ``[batch]`` dot products from :func:`contrastive_tension_logits`.
        labels: ``[batch]`` 1.0 for positive pairs, 0.0 for negative pairs.
    """
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.float32)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)


def split_positive_negative(per_pair_loss: tf.Tensor, labels: tf.Tensor):
    """Sums of the loss over positive and over negative pairs, and their counts.

    The original code logs these separately to see whether the models separate identical
    sentences from random ones.

    Returns:
        ``(positive_sum, negative_sum, num_positive, num_negative)`` as float32 scalars.
    """
    labels = tf.cast(labels, tf.float32)
    positive_sum = tf.reduce_sum(per_pair_loss * labels)
    negative_sum = tf.reduce_sum(per_pair_loss * (1.0 - labels))
    num_positive = tf.reduce_sum(labels)
    num_negative = tf.reduce_sum(1.0 - labels)
    return positive_sum, negative_sum, num_positive, num_negative
