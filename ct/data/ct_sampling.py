"""The CT batch layout: positives and K negatives, with different negatives for each model.

Following the CT paper (Carlsson et al., ICLR 2021, appendix A.1) and the authors' code, a batch
of ``batch_size`` sentence pairs is made of ``batch_size / (K + 1)`` groups. Each group is one
positive pair (the same sentence to model 1 and model 2, label 1) followed by K negative pairs
(label 0) in which model 1 and model 2 each get their *own* random sentences. A group therefore
consumes ``1 + 2K`` sentences from the stream. With the paper's 16 pairs and K=7: 2 positives,
14 negatives, 30 sentences. With ``objective: ct_ibn`` a batch is ``batch_size`` sentences that
both models see (the negatives come from the batch itself, see ct/losses).
"""

from __future__ import annotations

from ct._keras import tf


def sentences_per_batch(batch_size: int, num_negatives: int, objective: str = "ct") -> int:
    """Sentences a batch consumes: ``(batch_size / (K + 1)) * (1 + 2K)`` for CT;
    ``batch_size`` for ``ct_ibn`` (both models embed the same sentences)."""
    if objective == "ct_ibn":
        return batch_size
    groups = batch_size // (num_negatives + 1)
    return groups * (1 + 2 * num_negatives)


def arrange_ct_batch(sentences: tf.Tensor, num_negatives: int):
    """Turns a flat batch of sentences into the two models' inputs and the labels.

    Args:
        sentences: ``[groups * (1 + 2K)]`` strings: the first ``groups`` are the positives,
            the rest are negatives.
        num_negatives: K.

    Returns:
        ``(texts_1, texts_2, labels)``, each ``[groups * (K + 1)]``; per group the positive
        comes first, then model 1's and model 2's K different negatives.

    Example:
        >>> texts_1, texts_2, labels = arrange_ct_batch(tf.constant(list("abcdefghij")), 2)
    """
    k = num_negatives
    groups = tf.shape(sentences)[0] // (1 + 2 * k)
    positives = sentences[:groups][:, tf.newaxis]
    negatives = tf.reshape(sentences[groups:groups * (1 + 2 * k)], [groups, 2, k])
    texts_1 = tf.reshape(tf.concat([positives, negatives[:, 0]], axis=1), [-1])
    texts_2 = tf.reshape(tf.concat([positives, negatives[:, 1]], axis=1), [-1])
    group_labels = tf.concat([tf.ones([1]), tf.zeros([k])], axis=0)
    labels = tf.tile(group_labels, [groups])
    return texts_1, texts_2, labels


def arrange_ibn_batch(sentences: tf.Tensor):
    """The ``ct_ibn`` layout: both models see the same sentences, in the same order.

    Returns ``(texts_1, texts_2, labels)`` with ``texts_1 == texts_2 == sentences`` and labels
    all 1 (pair ``i`` is a positive; its negatives are the batch's other sentences).
    """
    return sentences, sentences, tf.ones(tf.shape(sentences), tf.float32)


def arrange_batch(sentences: tf.Tensor, num_negatives: int, objective: str = "ct"):
    """The batch layout of ``objective``: :func:`arrange_ct_batch` or :func:`arrange_ibn_batch`."""
    if objective == "ct_ibn":
        return arrange_ibn_batch(sentences)
    return arrange_ct_batch(sentences, num_negatives)
