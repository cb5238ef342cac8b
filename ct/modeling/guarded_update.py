"""The optimizer update every ct model makes: loss scaling for float16, and a step that is
skipped as a whole when it cannot be trusted.

A step is **skipped** when the loss or the (all-reduced) gradient holds a NaN or an infinity.
A skipped step changes nothing: no weight, no optimizer slot, not the optimizer's iteration
count and so not the learning-rate schedule. That is why the update is a branch (apply or
not), taken in a cross-replica context as Keras' ``LossScaleOptimizer`` does, and not an update
with zeroed gradients: Adam's moments and weight decay, and RMSprop's accumulator, move even
with a zero gradient, and Keras' own loss-scale optimizer still counts a skipped step.

Under ``mixed_float16`` the loss is multiplied by a dynamic **loss scale** before
differentiation and the gradients divided by it after (Micikevicius et al., 2018, as Keras
does it): an overflowing gradient with a finite loss is an *overflow*, the step is skipped and
the scale halves (not below 1); after ``growth_steps`` applied steps in a row it doubles. What
loss scaling cannot explain (a non-finite loss, or a non-finite gradient when the scale is
already 1, and any non-finite step in float32 or bfloat16) is reported as *non-finite*, and
the trainer stops or skips per ``on_nonfinite``.

Only an overflow moves the scale. Keras' ``LossScaleOptimizer`` (and PyTorch's ``GradScaler``)
halve it on any non-finite gradient, so a batch whose *loss* is already NaN or infinite (a NaN
label, a corrupt line: nothing a smaller scale could fix, since the loss is computed before it
is scaled) would halve it too, and with ``on_nonfinite: skip`` a stream of such batches would
ratchet the scale down to 1 and let float16 gradients underflow. Here a non-finite step leaves
the scale and the count of steps towards growth as they were: it says nothing about the
scale. A non-finite gradient under a finite loss cannot be told from an overflow in one step
(an overflowed infinity turns into NaN further down the backward pass), so it counts as one
while the scale is above 1, as in Keras.

Sparse gradients (the word-embedding lookups) stay ``IndexedSlices``: only their values are
checked and unscaled, so the normal path never builds a dense ``[vocab, dim]`` gradient.

The layer also counts the steps taken (``steps``), skipped ones included: the position in the
data stream, which the optimizer's iteration count no longer is.

Example:
    >>> guard = GuardedUpdate(dynamic_loss_scale=False)
    >>> status = guard.apply(optimizer, gradients, model.trainable_variables, loss)
    >>> status["nonfinite"], status["overflow"]
"""

from __future__ import annotations

from ct._keras import keras, tf

_ONLY_FIRST_REPLICA = tf.VariableAggregation.ONLY_FIRST_REPLICA


def _values(gradient):
    return gradient.values if isinstance(gradient, tf.IndexedSlices) else gradient


def _map_values(function, gradient):
    if isinstance(gradient, tf.IndexedSlices):
        return tf.IndexedSlices(function(gradient.values), gradient.indices,
                                gradient.dense_shape)
    return function(gradient)


def all_finite(tensors) -> tf.Tensor:
    """True if no tensor (or IndexedSlices' values) holds a NaN or an infinity."""
    checks = [tf.reduce_all(tf.math.is_finite(_values(t))) for t in tensors if t is not None]
    return tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)


class GuardedUpdate(keras.layers.Layer):
    """Loss scaling, the guarded optimizer update, and the step counter of a training model.

    Args:
        dynamic_loss_scale: scale the loss (``mixed_float16``); otherwise the scale stays 1.
        initial_scale: the first loss scale (2^15, as Keras).
        growth_steps: finite steps in a row after which the scale doubles (2000, as Keras).
    """

    def __init__(self, dynamic_loss_scale: bool = False, initial_scale: float = 2.0 ** 15,
                 growth_steps: int = 2000, **kwargs):
        super().__init__(name=kwargs.pop("name", "guarded_update"), dtype="float32", **kwargs)
        self.dynamic_loss_scale = bool(dynamic_loss_scale)
        self.growth_steps = int(growth_steps)
        self.steps = self.add_weight(
            name="steps", shape=(), dtype=tf.int64, trainable=False,
            initializer="zeros", aggregation=_ONLY_FIRST_REPLICA)
        self.loss_scale = self.add_weight(
            name="loss_scale", shape=(), dtype=tf.float32, trainable=False,
            initializer=keras.initializers.Constant(
                initial_scale if self.dynamic_loss_scale else 1.0),
            aggregation=_ONLY_FIRST_REPLICA)
        self.finite_streak = self.add_weight(
            name="finite_streak", shape=(), dtype=tf.int64, trainable=False,
            initializer="zeros", aggregation=_ONLY_FIRST_REPLICA)

    # ------------------------------------------------------------------ scaling
    def scale_loss(self, loss: tf.Tensor) -> tf.Tensor:
        """``loss x scale`` under dynamic loss scaling, else ``loss``."""
        if not self.dynamic_loss_scale:
            return loss
        return loss * tf.cast(self.loss_scale, loss.dtype)

    def unscale(self, gradients):
        """Gradients of the scaled loss divided by the scale (sparse ones stay sparse)."""
        if not self.dynamic_loss_scale:
            return gradients
        inverse = 1.0 / self.loss_scale
        return [None if g is None else _map_values(lambda v: v * tf.cast(inverse, v.dtype), g)
                for g in gradients]

    # ------------------------------------------------------------------ the update
    def apply(self, optimizer, gradients, variables, loss) -> dict:
        """Applies the (unscaled, per-replica) gradients, or skips the step everywhere.

        Call in a replica context (inside ``train_step``). Variables without a gradient (e.g.
        BERT's pooler, unused by mean pooling) are left out.

        Returns:
            This replica's share (summing to the global value over replicas) of
            ``nonfinite`` (1: skipped, not explained by loss scaling), ``overflow`` (1: a
            float16 overflow skipped by loss scaling) and ``loss_scale`` (the scale after this
            step: halved after an overflow).
        """
        context = tf.distribute.get_replica_context()
        pairs = [(g, v) for g, v in zip(gradients, variables) if g is not None]
        # Summed over replicas, so every replica sees the same gradients and decides alike.
        pairs = optimizer.aggregate_gradients(pairs)
        gradients_finite = all_finite([g for g, _ in pairs])
        losses_nonfinite = context.all_reduce(
            tf.distribute.ReduceOp.SUM, tf.cast(~tf.math.is_finite(loss), tf.float32))
        loss_finite = losses_nonfinite == 0.0
        apply = tf.logical_and(gradients_finite, loss_finite)
        if self.dynamic_loss_scale:
            overflow = tf.logical_and(tf.logical_and(~gradients_finite, loss_finite),
                                      self.loss_scale > 1.0)
        else:
            overflow = tf.constant(False)
        nonfinite = tf.logical_and(~apply, ~overflow)
        self._apply_if(optimizer, pairs, apply)
        if self.dynamic_loss_scale:
            self._update_loss_scale(apply, overflow)
        self.steps.assign_add(1)
        replicas = tf.cast(context.num_replicas_in_sync, tf.float32)
        return {"nonfinite": tf.cast(nonfinite, tf.float32) / replicas,
                "overflow": tf.cast(overflow, tf.float32) / replicas,
                "loss_scale": tf.identity(self.loss_scale) / replicas}

    def _apply_if(self, optimizer, pairs, apply: tf.Tensor) -> None:
        """``optimizer.apply_gradients(pairs)`` if ``apply``, else nothing at all."""
        gradients = [g for g, _ in pairs]
        variables = [v for _, v in pairs]

        def apply_gradients(grads):
            optimizer.apply_gradients(list(zip(grads, variables)),
                                      skip_gradients_aggregation=True)

        if tf.__internal__.distribute.strategy_supports_no_merge_call():
            tf.__internal__.smart_cond.smart_cond(
                apply, lambda: apply_gradients(gradients), lambda: None)
            return

        # The optimizer's update holds merge calls, which a branch taken in a replica context
        # cannot; take it in the cross-replica context, as Keras' LossScaleOptimizer does.
        def cross_replica(distribution, grads, apply_per_replica):
            decision = distribution.experimental_local_results(apply_per_replica)[0]
            tf.__internal__.smart_cond.smart_cond(
                decision,
                lambda: distribution.extended.call_for_each_replica(apply_gradients,
                                                                    args=(grads,)),
                lambda: None)

        tf.distribute.get_replica_context().merge_call(cross_replica, args=(gradients, apply))

    def _update_loss_scale(self, applied: tf.Tensor, overflow: tf.Tensor) -> None:
        """The dynamic loss scale: halve on an overflow (not below 1), double after
        ``growth_steps`` applied steps in a row; a non-finite step that is not an overflow
        changes neither the scale nor the streak."""
        streak = tf.where(applied, self.finite_streak + 1,
                          tf.where(overflow, tf.zeros_like(self.finite_streak),
                                   self.finite_streak))
        grow = tf.logical_and(applied, streak >= self.growth_steps)
        scale = tf.where(overflow, tf.maximum(self.loss_scale / 2.0, 1.0),
                         tf.where(grow, self.loss_scale * 2.0, self.loss_scale))
        self.loss_scale.assign(tf.where(tf.math.is_finite(scale), scale, self.loss_scale))
        self.finite_streak.assign(tf.where(grow, tf.zeros_like(streak), streak))

    def get_config(self) -> dict:
        return {**super().get_config(), "dynamic_loss_scale": self.dynamic_loss_scale,
                "growth_steps": self.growth_steps}


def count_tokens(features: dict) -> tf.Tensor:
    """Real (non-padding) tokens in a batch, over every ``attention_mask_*`` column."""
    return tf.cast(tf.add_n([tf.reduce_sum(value) for key, value in sorted(features.items())
                             if key.startswith("attention_mask")]), tf.float32)
