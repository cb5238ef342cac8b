"""The ``tune:`` section of a ``ct tune`` config, declared with the other config sections.

Loading a tune config and running the search are :mod:`ct.tuning`'s job; the section's options
live here so that the options reference (:mod:`ct.config.reference`) documents them from the
same declarations as the training options.

Example:
    >>> TuneConfig(tuner="bayesian", max_trials=20).validate()
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from ct.config.schema import option
from ct.errors import ConfigError


@dataclasses.dataclass
class TuneConfig:
    """Settings of a hyperparameter search (the ``tune:`` section of a ``ct tune`` config).

    ``search`` maps training options (dotted keys, e.g. ``optimizer.learning_rate``) to
    distributions; see :mod:`ct.tuning.space`. Hyperband trains each trial for
    ``tuner/epochs`` x ``epoch_steps`` CT steps (``epoch_steps: 0``: the config's
    ``eval_every``), from scratch.
    """

    tuner: Literal["random", "bayesian", "hyperband"] = option(
        "random", help="keras-tuner's RandomSearch, BayesianOptimization or Hyperband")
    max_trials: int = option(10, help="random/bayesian: the number of trials; hyperband: a cap "
                                      "(0: as many as its brackets need)")
    executions_per_trial: int = option(1, help="ct train runs per trial (seeds seed, seed + 1, "
                                               "...); their scores are averaged")
    objective: str = option(
        "stsb_dev", help="stsb_dev (the kept model's STS-B dev Spearman, max), final_loss (min), "
                         "pairs_per_s or tokens_per_s (max)")
    seed: int = option(1, help="the tuner's seed (keras-tuner treats 0 as random: >= 1)")
    num_initial_points: int = option(0, help="bayesian: random trials first (0: 3 x the "
                                             "searched options)")
    max_epochs: int = option(9, help="hyperband: the longest trial, in epochs of epoch_steps")
    factor: int = option(3, help="hyperband: reduction factor between rounds")
    hyperband_iterations: int = option(1, help="hyperband: how many times the whole "
                                               "algorithm runs")
    epoch_steps: int = option(0, help="hyperband: CT steps per epoch (0: eval_every)")
    search: dict = option(help="training option (dotted key) -> distribution: {choice: [...]}, "
                               "{uniform: [lo, hi]}, {log_uniform: [lo, hi]}, {int: [lo, hi]} "
                               "(uniform and int take a step)", factory=dict)

    def validate(self, where: str = "tune") -> None:
        """Checks ranges; raises ConfigError naming ``tune.key``."""
        minimum = {"max_trials": 0 if self.tuner == "hyperband" else 1,
                   "executions_per_trial": 1, "seed": 1, "num_initial_points": 0,
                   "max_epochs": 1, "factor": 2, "hyperband_iterations": 1, "epoch_steps": 0}
        for key, low in minimum.items():
            if getattr(self, key) < low:
                raise ConfigError(f"{where}: tune.{key} must be >= {low}, got "
                                  f"{getattr(self, key)}")
