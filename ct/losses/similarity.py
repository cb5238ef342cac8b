"""Similarities between embeddings, shared by every in-batch objective.

``ct_ibn``, the NLI in-batch negatives, the contrastive alignment loss and their accuracy
metrics all score every row of one ``[n, dim]`` matrix against every row of another. The
computation is here once, in float32 (a bfloat16 or float16 cosine loses the small differences
a softmax over the batch separates).
"""

from __future__ import annotations

from ct._keras import tf

SIMILARITIES = ("cosine", "dot")

# Floor on the squared norm in l2_normalize: a zero vector is mapped to zero (cosine 0) and
# its gradient stays finite instead of being NaN.
NORM_EPSILON = 1e-12


def normalize(embeddings: tf.Tensor) -> tf.Tensor:
    """Float32 unit vectors (a zero vector stays zero)."""
    return tf.math.l2_normalize(tf.cast(embeddings, tf.float32), axis=-1, epsilon=NORM_EPSILON)


def pairwise_similarities(embeddings_1: tf.Tensor, embeddings_2: tf.Tensor,
                          similarity: str = "cosine", scale=1.0) -> tf.Tensor:
    """``[n, m]`` ``scale x sim(embeddings_1[i], embeddings_2[j])``, in float32.

    Args:
        embeddings_1: ``[n, dim]``.
        embeddings_2: ``[m, dim]``.
        similarity: ``"cosine"`` or ``"dot"`` (the plain dot product).
        scale: a float or a scalar tensor (an inverse temperature; 20 is
            sentence-transformers' default, SimCSE's temperature 0.05 is the same).

    Example:
        >>> pairwise_similarities(tf.eye(2), tf.eye(2), scale=20.0).numpy().tolist()
        [[20.0, 0.0], [0.0, 20.0]]
    """
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
    if similarity == "cosine":
        embeddings_1, embeddings_2 = normalize(embeddings_1), normalize(embeddings_2)
    else:
        embeddings_1 = tf.cast(embeddings_1, tf.float32)
        embeddings_2 = tf.cast(embeddings_2, tf.float32)
    return tf.matmul(embeddings_1, embeddings_2, transpose_b=True) * tf.cast(scale, tf.float32)
