"""Optimizer and learning-rate schedule.

CT paper / original code: RMSprop with a step-wise decaying learning rate, 1e-5 for the first
500 steps, then 8e-6, 6e-6, 4e-6 and from step 2000 on 2e-6 (``PiecewiseConstantDecay``).
"""

from __future__ import annotations

from ct._keras import keras
from ct.config import OptimizerConfig


def build_learning_rate_schedule(config: OptimizerConfig):
    """The piecewise-constant schedule: ``learning_rate`` until the first boundary, then
    ``lr_values[i]`` after ``lr_boundaries[i]``; a constant rate if there are no boundaries."""
    if not config.lr_boundaries:
        return config.learning_rate
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        boundaries=list(config.lr_boundaries),
        values=[config.learning_rate, *config.lr_values])


def build_optimizer(config: OptimizerConfig) -> keras.optimizers.Optimizer:
    """Builds the tf-keras optimizer named by ``config.name`` with the schedule above.

    Example:
        >>> optimizer = build_optimizer(OptimizerConfig())  # the paper's RMSprop
    """
    schedule = build_learning_rate_schedule(config)
    extra = {"clipnorm": config.clipnorm} if config.clipnorm else {}
    if config.name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=schedule, **extra)
    if config.name == "adam":
        return keras.optimizers.Adam(learning_rate=schedule, **extra)
    if config.name == "adamw":
        return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay,
                                      **extra)
    return keras.optimizers.SGD(learning_rate=schedule, **extra)


def current_learning_rate(optimizer) -> float:
    """The learning rate of the optimizer's last update (tf-keras tracks it for schedules)."""
    return float(keras.backend.get_value(optimizer.learning_rate))
