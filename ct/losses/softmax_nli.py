"""The Sentence-BERT classification objective (Reimers & Gurevych, "Sentence-BERT: Sentence
Embeddings using Siamese BERT-Networks", EMNLP 2019).

Inputs: the pooled embeddings ``u`` and ``v`` of the premise and the hypothesis of a batch of
NLI pairs. :func:`nli_classifier_features` builds ``[u; v; |u - v|]``; a trainable ``Dense(3)``
in the model (not here) turns the features into logits, and :func:`softmax_nli_loss` is the
per-pair softmax cross-entropy against the gold label. Label ids follow the
tensorflow-datasets SNLI/MultiNLI order: 0 entailment, 1 neutral, 2 contradiction.

Prefer :mod:`ct.losses.in_batch_negatives` (entailment as positive, contradiction as hard
negative) for NLI training: Reimers & Gurevych (2020) and Gao et al. (2021, supervised SimCSE)
report clearly better STS scores with it. The softmax objective is the original SBERT recipe,
useful to reproduce SBERT numbers or when only labelled pairs (no triplets) are available.
"""

from __future__ import annotations

from ct._keras import tf

#: Label ids of the tensorflow-datasets SNLI/MultiNLI ``label`` feature.
ENTAILMENT, NEUTRAL, CONTRADICTION = 0, 1, 2
NUM_NLI_LABELS = 3


def nli_classifier_features(embeddings_1: tf.Tensor, embeddings_2: tf.Tensor) -> tf.Tensor:
    """SBERT's classifier input ``[u; v; |u - v|]``, ``[batch, 3 * dim]`` in float32.

    Args:
        embeddings_1: ``[batch, dim]`` embeddings ``u`` of the premises.
        embeddings_2: ``[batch, dim]`` embeddings ``v`` of the hypotheses.

    Returns:
        ``[batch, 3 * dim]`` float32 features for the model's ``Dense(3)`` classifier.

    Example:
        >>> from ct._keras import tf
        >>> from ct.losses.softmax_nli import nli_classifier_features
        >>> nli_classifier_features(tf.ones([2, 4]), tf.zeros([2, 4])).shape
        TensorShape([2, 12])
    """
    u = tf.cast(embeddings_1, tf.float32)
    v = tf.cast(embeddings_2, tf.float32)
    return tf.concat([u, v, tf.abs(u - v)], axis=-1)


def softmax_nli_loss(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Per-pair sparse softmax cross-entropy, ``[batch]``, computed in float32.

    Args:
        logits: ``[batch, 3]`` classifier outputs over the features of
            :func:`nli_classifier_features`.
        labels: ``[batch]`` integer labels: 0 entailment, 1 neutral, 2 contradiction (the
            tensorflow-datasets SNLI/MultiNLI order).

    Returns:
        ``[batch]`` float32 losses; average them with ``tf.nn.compute_average_loss``.

    Example:
        >>> from ct._keras import tf
        >>> from ct.losses.softmax_nli import softmax_nli_loss
        >>> softmax_nli_loss(tf.zeros([2, 3]), tf.constant([0, 2])).shape
        TensorShape([2])
    """
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
