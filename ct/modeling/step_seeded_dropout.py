"""Dropout whose random numbers are a function of the training step: resumes are exact.

Keras' ``Dropout`` layers (every dropout of a transformers TF backbone) draw their masks from
TensorFlow's legacy stateful random ops, whose counters live in the process: a run resumed from
a checkpoint in a new process draws other masks than the uninterrupted run would have, so its
weights drift apart (by about 1e-4 after a few steps on a tiny BERT). A checkpoint cannot save
those counters.

Here every dropout of a training model draws a *stateless* mask whose seed is
``(seed, step, replica, call)``: the model's step counter (saved in every checkpoint), the
replica (each replica drops out different units of different examples) and the position of
the dropout call within the step (two layers, or one layer used for two text columns or two
length buckets, never share a mask). The same step of a run therefore drops the same units in
an uninterrupted run, a resumed one, and under ``jit_compile`` (stateless random ops compile
with XLA).

Example:
    >>> seeds = StepSeeds(model.update_guard.steps, seed=42)
    >>> seed_dropout_layers(encoder, seeds)
    >>> seeds.start_step()  # at the start of every train_step
"""

from __future__ import annotations

from ct._keras import keras, tf

# Mixed into the first seed word so that runs with nearby seeds do not share masks.
_SEED_STRIDE = 1_000_003
_REPLICA_STRIDE = 1 << 20


class StepSeeds:
    """The seeds of one training model's dropout calls.

    Args:
        steps: the model's step counter (an int64 variable saved in checkpoints).
        seed: the run's seed.
    """

    def __init__(self, steps: tf.Variable, seed: int = 0):
        self.steps = steps
        self.seed = int(seed)
        self._calls = 0

    def start_step(self) -> None:
        """Restarts the call numbering: called at the start of every ``train_step`` (in a
        ``tf.function`` the numbers are fixed when the step is traced)."""
        self._calls = 0

    def next_seed(self) -> tf.Tensor:
        """The ``[2]`` int64 seed of the next dropout call of this step."""
        call = self._calls
        self._calls += 1
        context = tf.distribute.get_replica_context()
        replica = (tf.cast(context.replica_id_in_sync_group, tf.int64)
                   if context is not None else tf.constant(0, tf.int64))
        step = tf.cast(self.steps.read_value(), tf.int64)
        return tf.stack([self.seed * _SEED_STRIDE + step,
                         replica * _REPLICA_STRIDE + call])


def _step_seeded_dropout(seeds: StepSeeds):
    """A ``dropout(inputs, rate, noise_shape)`` drawing its mask from ``seeds``."""

    def dropout(inputs, rate, noise_shape=None):
        return tf.nn.experimental.stateless_dropout(inputs, rate=rate, noise_shape=noise_shape,
                                                    seed=seeds.next_seed())

    return dropout


def seed_dropout_layers(layer, seeds: StepSeeds) -> int:
    """Makes every Keras ``Dropout`` inside ``layer`` draw its masks from ``seeds``; returns
    how many layers were changed."""
    count = 0
    for module in [layer, *layer.submodules]:
        if isinstance(module, keras.layers.Dropout):
            # The layer keeps its generator object (Keras builds and saves it); only the
            # method ``Dropout.call`` draws its mask with is replaced.
            object.__setattr__(module._random_generator, "dropout", _step_seeded_dropout(seeds))
            count += 1
    return count
