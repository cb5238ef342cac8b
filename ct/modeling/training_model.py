"""What every ct training model shares: one ``train_step`` for the custom loop and Keras ``fit``.

A training model (CT's two encoders, or one encoder with a supervised objective) says how to
compute this replica's share of the loss (:meth:`TrainingModel.replica_loss`) and what to
report (:meth:`TrainingModel.step_metrics`); this base class does the rest the same way for
all of them: the gradient tape, XLA for the encoder passes (``jit_compile``), loss scaling
under ``mixed_float16``, the guarded update (a step with a NaN/inf is skipped as a whole, see
:mod:`ct.modeling.guarded_update`), dropout masks seeded by the step (exact resumes, see
:mod:`ct.modeling.step_seeded_dropout`), the step counter, and the token count.

``jit_compile`` compiles each encoder pass (forward and backward), not the whole step: the
loss and its cross-replica all-gathers (in-batch negatives over the global batch) stay outside
XLA, where ``tf.distribute`` can run them; the encoder passes are where the time goes.

Losses are averaged over the *global* batch (``tf.nn.compute_average_loss``), so the values
``train_step`` returns, summed over replicas, are the global means, and gradients summed
across replicas equal the single-device gradient.
"""

from __future__ import annotations

from typing import Optional

from ct._keras import keras, tf
from ct.modeling.guarded_update import GuardedUpdate, count_tokens
from ct.modeling.step_seeded_dropout import StepSeeds, seed_dropout_layers


class TrainingModel(keras.Model):
    """Base class of the models the trainer trains.

    Args:
        jit_compile: XLA-compile the encoder passes, forward and backward (the loss, the
            cross-replica gathers and the optimizer update stay outside).
        loss_scale_initial, loss_scale_growth_steps: dynamic loss scaling, used when the model
            is built under the ``mixed_float16`` policy.
        seed: the run's seed, mixed into every dropout mask's seed.

    Subclasses set ``metric_names``, implement :meth:`replica_loss`, :meth:`step_metrics`
    and the ``encoders`` property, and call :meth:`attach_encoders` once their encoders exist.
    """

    metric_names: tuple[str, ...] = ("loss",)

    def __init__(self, jit_compile: bool = False, loss_scale_initial: float = 2.0 ** 15,
                 loss_scale_growth_steps: int = 2000, seed: int = 0, **kwargs):
        policy = keras.mixed_precision.global_policy()
        # The encoders compute in the global policy's dtype; this outer model computes nothing
        # itself. Declared float32, so that compile() does not wrap the optimizer in Keras'
        # LossScaleOptimizer: loss scaling is the update guard's (see guarded_update).
        super().__init__(dtype="float32", **kwargs)
        self.update_guard = GuardedUpdate(dynamic_loss_scale=policy.compute_dtype == "float16",
                                          initial_scale=loss_scale_initial,
                                          growth_steps=loss_scale_growth_steps)
        # train_step returns each replica's share of the global means: fit must sum them.
        self.distribute_reduction_method = "sum"
        self.jit_compile_encoders = bool(jit_compile)
        self.dropout_seeds = StepSeeds(self.update_guard.steps, seed)

    def attach_encoders(self) -> None:
        """Sets up the encoders for training: XLA for their passes (``jit_compile``) and
        step-seeded dropout."""
        for encoder in self.encoders:
            encoder.jit_compile = self.jit_compile_encoders
            seed_dropout_layers(encoder, self.dropout_seeds)

    @property
    def encoders(self) -> tuple:
        """The sentence encoders this model trains and evaluates, in order."""
        raise NotImplementedError

    @property
    def steps_taken(self) -> int:
        """Steps trained so far, skipped ones included (the data stream's position)."""
        return int(self.update_guard.steps.numpy())

    @property
    def uses_loss_scaling(self) -> bool:
        """True under ``mixed_float16`` (dynamic loss scaling)."""
        return self.update_guard.dynamic_loss_scale

    def use_length_buckets(self, buckets: int) -> None:
        """Encodes each padded batch in ``buckets`` sub-batches of similar length (see
        :mod:`ct.modeling.length_buckets`)."""
        for encoder in self.encoders:
            encoder.length_buckets = max(int(buckets), 1)

    def replica_loss(self, features: dict, labels: tf.Tensor):
        """Returns ``(outputs, loss)``: anything :meth:`step_metrics` needs, and this
        replica's share of the global mean loss."""
        raise NotImplementedError

    def step_metrics(self, outputs, loss: tf.Tensor, labels: tf.Tensor) -> dict:
        """This replica's share of each of ``metric_names`` (``loss`` included)."""
        return {"loss": loss}

    def _loss_and_gradients(self, features: dict, labels: tf.Tensor):
        """``(outputs, loss, gradients)``; the gradients are unscaled."""
        with tf.GradientTape() as tape:
            outputs, loss = self.replica_loss(features, labels)
            scaled_loss = self.update_guard.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, self.trainable_variables)
        return outputs, loss, self.update_guard.unscale(gradients)

    def train_step(self, data) -> dict:
        """One update on a (per-replica) batch; returns this replica's share of the metrics,
        ``tokens`` (real tokens processed), ``nonfinite``, ``overflow`` and ``loss_scale``."""
        features, labels = data
        self.dropout_seeds.start_step()
        outputs, loss, gradients = self._loss_and_gradients(features, labels)
        status = self.update_guard.apply(self.optimizer, gradients, self.trainable_variables,
                                         loss)
        return {**self.step_metrics(outputs, loss, labels), "tokens": count_tokens(features),
                **status}

    def build_optimizer_slots(self) -> None:
        """Creates the optimizer's slots now (inside the strategy scope), so a checkpoint
        restores them directly."""
        self.optimizer.build(self.trainable_variables)
