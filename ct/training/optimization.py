"""Optimizer and learning-rate schedule.

CT paper / original code: RMSprop with a step-wise decaying learning rate, 1e-5 for the first
500 steps, then 8e-6, 6e-6, 4e-6 and from step 2000 on 2e-6 (``PiecewiseConstantDecay``).
The supervised stages use Sentence-BERT's recipe: AdamW with a linear warm-up then a linear
decay to zero (sentence-transformers' ``WarmupLinear``).
"""

from __future__ import annotations

from ct._keras import keras, tf
from ct.config import OptimizerConfig

# Sentence-BERT / BERT exclude biases and LayerNorm weights from weight decay.
_NO_DECAY = ["bias", "LayerNorm", "layer_norm"]


class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to ``peak`` over ``warmup_steps``, then linear decay to 0 at
    ``total_steps`` (sentence-transformers' ``WarmupLinear``).

    Args:
        peak: the learning rate reached at the end of warm-up.
        warmup_steps: steps of warm-up (0: none).
        total_steps: the stage's length in steps.
    """

    def __init__(self, peak: float, warmup_steps: int, total_steps: int):
        super().__init__()
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.cast(max(self.warmup_steps, 1), tf.float32)
        remaining = tf.cast(max(self.total_steps - self.warmup_steps, 1), tf.float32)
        rising = self.peak * step / warmup
        falling = self.peak * tf.maximum(
            0.0, (self.total_steps - step) / remaining)
        return tf.where(step < self.warmup_steps, rising, falling)

    def get_config(self) -> dict:
        return {"peak": self.peak, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps}


@keras.utils.register_keras_serializable(package="ct")
class RMSprop(keras.optimizers.RMSprop):
    """tf-keras' RMSprop with a cheaper update of sparse gradients (the word embeddings), the
    same arithmetic.

    For an ``IndexedSlices`` gradient tf-keras decays the whole accumulator (RMSprop's
    semantics: every row decays every step), then adds ``velocity + epsilon`` over the *whole*
    ``[vocab, dim]`` matrix only to gather the rows the batch used. Here the rows are gathered
    first and epsilon added to them: the same numbers, without building a dense
    ``[vocab, dim]`` temporary per encoder each step. Dense gradients, ``centered`` and
    ``momentum`` take tf-keras' own path.
    """

    def update_step(self, gradient, variable):
        if not isinstance(gradient, tf.IndexedSlices) or self.centered or self.momentum > 0:
            return super().update_step(gradient, variable)
        velocity = self._velocities[self._index_dict[self._var_key(variable)]]
        velocity.assign(self.rho * velocity)
        velocity.scatter_add(tf.IndexedSlices(tf.square(gradient.values) * (1 - self.rho),
                                              gradient.indices))
        rows = tf.gather(velocity, gradient.indices) + self.epsilon
        learning_rate = tf.cast(self.learning_rate, variable.dtype)
        variable.scatter_add(tf.IndexedSlices(
            -(learning_rate * gradient.values * tf.math.rsqrt(rows)), gradient.indices))


def build_learning_rate_schedule(config: OptimizerConfig, total_steps: int = 0):
    """The configured schedule.

    ``piecewise``: ``learning_rate`` until the first boundary, then ``lr_values[i]`` after
    ``lr_boundaries[i]`` (a constant rate if there are no boundaries). ``warmup_linear``:
    :class:`WarmupLinearDecay` over ``total_steps`` with ``warmup_ratio`` of them warming up.
    """
    if config.schedule == "warmup_linear":
        return WarmupLinearDecay(config.learning_rate,
                                 int(round(config.warmup_ratio * total_steps)), total_steps)
    if not config.lr_boundaries:
        return config.learning_rate
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        boundaries=list(config.lr_boundaries),
        values=[config.learning_rate, *config.lr_values])


def build_optimizer(config: OptimizerConfig,
                    total_steps: int = 0) -> keras.optimizers.Optimizer:
    """Builds the tf-keras optimizer named by ``config.name`` with the schedule above.

    Args:
        config: the optimizer section of a config.
        total_steps: the stage's length (for ``schedule: warmup_linear``).

    Example:
        >>> optimizer = build_optimizer(OptimizerConfig())  # the paper's RMSprop
    """
    schedule = build_learning_rate_schedule(config, total_steps)
    # jit_compile always explicit: tf-keras' default (True) only takes effect on a GPU.
    extra = {"jit_compile": config.jit_compile}
    if config.clipnorm:
        extra["clipnorm"] = config.clipnorm
    if config.name == "rmsprop":
        return RMSprop(learning_rate=schedule, **extra)
    if config.name == "adam":
        return keras.optimizers.Adam(learning_rate=schedule, **extra)
    if config.name == "adamw":
        optimizer = keras.optimizers.AdamW(learning_rate=schedule,
                                           weight_decay=config.weight_decay, **extra)
        optimizer.exclude_from_weight_decay(var_names=_NO_DECAY)
        return optimizer
    return keras.optimizers.SGD(learning_rate=schedule, **extra)


def current_learning_rate(optimizer) -> float:
    """The learning rate of the optimizer's last update (tf-keras tracks it for schedules)."""
    return float(keras.backend.get_value(optimizer.learning_rate))
