"""The parts of a training step every ct model shares: loss scaling for mixed float16, and an
update that is dropped on every replica when any replica saw a NaN/inf loss or gradient.

The trainer reads the returned ``nonfinite`` flag to stop the run or count a skipped batch
(``on_nonfinite``); the weights never take a non-finite value.
"""

from __future__ import annotations

from typing import Callable

from ct._keras import keras, tf


def uses_loss_scaling(optimizer) -> bool:
    """True for a mixed-float16 ``LossScaleOptimizer``."""
    return isinstance(optimizer, keras.mixed_precision.LossScaleOptimizer)


def loss_and_gradients(optimizer, variables, compute_loss: Callable):
    """Runs ``compute_loss()`` under a tape; returns ``(outputs, loss, gradients)``.

    Args:
        optimizer: the model's optimizer (scales the loss if it is a LossScaleOptimizer).
        variables: the trainable variables.
        compute_loss: returns ``(outputs, loss)``: anything the step reports, and this
            replica's share of the global mean loss.
    """
    with tf.GradientTape() as tape:
        outputs, loss = compute_loss()
        scaled_loss = optimizer.get_scaled_loss(loss) if uses_loss_scaling(optimizer) else loss
    gradients = tape.gradient(scaled_loss, variables)
    if uses_loss_scaling(optimizer):
        gradients = optimizer.get_unscaled_gradients(gradients)
    return outputs, loss, gradients


def apply_finite_update(optimizer, gradients, variables, loss) -> tf.Tensor:
    """Applies the gradients unless a loss or gradient is non-finite on any replica.

    Variables without a gradient (e.g. BERT's pooler, which mean pooling does not use) are
    left out. Returns this replica's share of "the step was skipped" (sums to 1 over replicas
    when it was, 0 otherwise).
    """
    pairs = [(g, v) for g, v in zip(gradients, variables) if g is not None]
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g, _ in pairs]
                           + [tf.math.is_finite(loss)])
    nonfinite = tf.distribute.get_replica_context().all_reduce(
        tf.distribute.ReduceOp.SUM, 1.0 - tf.cast(finite, tf.float32))
    keep = tf.cast(nonfinite == 0.0, tf.float32)
    optimizer.apply_gradients([(tf.where(keep > 0, g, tf.zeros_like(g)), v) for g, v in pairs])
    replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
    return (1.0 - keep) / replicas


def count_tokens(features: dict) -> tf.Tensor:
    """Real (non-padding) tokens in a batch, over every ``attention_mask_*`` column."""
    return tf.cast(tf.add_n([tf.reduce_sum(value) for key, value in sorted(features.items())
                             if key.startswith("attention_mask")]), tf.float32)
