"""Pooling token embeddings into one sentence embedding.

CT (Carlsson et al., 2021) uses attention-masked mean pooling: the mean of the last hidden
states over real (non-padding) tokens. Padding never changes the result because padded
positions are masked out of both the sum and the count.
"""

from __future__ import annotations

from ct._keras import tf
from ct.config.schema import PoolingMode, choices

POOLING_MODES = choices(PoolingMode)


def mean_pooling(token_embeddings: tf.Tensor, attention_mask: tf.Tensor) -> tf.Tensor:
    """Mean of ``token_embeddings`` over positions where ``attention_mask`` is 1.

    Args:
        token_embeddings: ``[batch, length, dim]`` last hidden states.
        attention_mask: ``[batch, length]``, 1 for real tokens and 0 for padding.

    Returns:
        ``[batch, dim]`` sentence embeddings.

    Example:
        >>> mean_pooling(backbone(ids, attention_mask=mask)[0], mask)
    """
    # float32 even under mixed precision: a float16 sum over many tokens loses precision.
    token_embeddings = tf.cast(token_embeddings, tf.float32)
    # expand_dims, not [:, :, tf.newaxis]: TFLite has no builtin for a new-axis strided slice.
    mask = tf.expand_dims(tf.cast(attention_mask, tf.float32), -1)
    summed = tf.reduce_sum(token_embeddings * mask, axis=1)
    counts = tf.maximum(tf.reduce_sum(mask, axis=1), 1e-9)
    return summed / counts


def cls_pooling(token_embeddings: tf.Tensor, attention_mask: tf.Tensor) -> tf.Tensor:
    """The first token's hidden state ([CLS] for BERT, <s> for RoBERTa)."""
    del attention_mask
    return tf.cast(token_embeddings[:, 0], tf.float32)


def get_pooling(mode: str):
    """Returns the pooling function called ``mode`` (``"mean"`` or ``"cls"``)."""
    functions = {"mean": mean_pooling, "cls": cls_pooling}
    if mode not in functions:
        raise ValueError(f"unknown pooling {mode!r}; choose one of {', '.join(POOLING_MODES)}")
    return functions[mode]
