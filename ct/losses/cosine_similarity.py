"""The cosine-similarity regression objective (Reimers & Gurevych, "Sentence-BERT: Sentence
Embeddings using Siamese BERT-Networks", EMNLP 2019), sentence-transformers'
``CosineSimilarityLoss``.

Inputs: the pooled embeddings ``u`` and ``v`` of a batch of sentence pairs and their gold
similarity scaled to ``[0, 1]``. The loss of a pair is ``(cos(u, v) - score) ** 2``. This is
how SBERT, and the CT paper's "CT-STSb" models, fine-tune on the STS-B training set; the caller
scales the 0-5 STS-B gold scores with :func:`scale_sts_scores`.

Prefer it when the data carries graded similarity scores (STS-B). With (anchor, positive)
pairs and no scores, use :mod:`ct.losses.in_batch_negatives`; with NLI class labels,
:mod:`ct.losses.softmax_nli` or in-batch negatives.
"""

from __future__ import annotations

from ct._keras import tf
from ct.losses.similarity import normalize


def scale_sts_scores(scores: tf.Tensor, max_score: float = 5.0) -> tf.Tensor:
    """Gold STS scores divided by ``max_score``, in float32 (STS-B: 0-5 -> 0-1).

    Args:
        scores: ``[batch]`` gold similarity scores.
        max_score: The top of the score range (5 for STS-B and SICK-R).

    Returns:
        ``[batch]`` float32 scores in ``[0, 1]``.

    Example:
        >>> from ct._keras import tf
        >>> from ct.losses.cosine_similarity import scale_sts_scores
        >>> scale_sts_scores(tf.constant([5.0, 2.5])).numpy().tolist()
        [1.0, 0.5]
    """
    return tf.cast(scores, tf.float32) / tf.cast(max_score, tf.float32)


def cosine_similarity_loss(embeddings_1: tf.Tensor, embeddings_2: tf.Tensor,
                           scores: tf.Tensor) -> tf.Tensor:
    """Per-pair squared error between the cosine and the gold score, ``[batch]``, in float32.

    Args:
        embeddings_1: ``[batch, dim]`` embeddings ``u`` of the first sentences.
        embeddings_2: ``[batch, dim]`` embeddings ``v`` of the second sentences.
        scores: ``[batch]`` gold similarities already scaled to ``[0, 1]``; the caller scales
            STS-B gold scores with :func:`scale_sts_scores`.

    Returns:
        ``[batch]`` float32 losses ``(cos(u, v) - score) ** 2``; average them with
        ``tf.nn.compute_average_loss``.

    Example:
        >>> from ct._keras import tf
        >>> from ct.losses.cosine_similarity import cosine_similarity_loss
        >>> cosine_similarity_loss(tf.eye(2), tf.eye(2), tf.constant([1.0, 0.0])).numpy()
        array([0., 1.], dtype=float32)
    """
    cosine = tf.reduce_sum(normalize(embeddings_1) * normalize(embeddings_2), axis=-1)
    return tf.square(cosine - tf.cast(scores, tf.float32))
