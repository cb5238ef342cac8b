"""The two ways a stage's steps are driven: ct's custom loop and Keras ``model.fit``.

Both call the model's one ``train_step`` on the same data stream and report every step to the
trainer's hooks (``step_started``, ``step_finished``, ``step_boundary``), so they produce the
same losses, checkpoints and files.

- ``driver: loop``: ``strategy.run`` of ``train_step`` in a ``tf.function``, one call per step;
- ``driver: fit``: ``model.fit`` with an epoch of ``eval_every`` steps; standard Keras
  callbacks (ModelCheckpoint, TensorBoard, CSVLogger, BackupAndRestore, EarlyStopping, ...)
  work, and :class:`ct.training.callbacks.CTFitCallback` bridges its events to the trainer.
"""

from __future__ import annotations

import math
from typing import Sequence

from ct._keras import keras, tf
from ct.training.callbacks import CTFitCallback


def make_distributed_train_step(strategy: tf.distribute.Strategy, model, element_spec=None):
    """Wraps ``model.train_step`` for the custom loop: ``strategy.run`` + cross-replica sum.

    Args:
        strategy: the strategy the model was built in.
        model: the training model.
        element_spec: the distributed dataset's ``element_spec``; with it the step is traced
            once for all batch shapes.

    Returns a ``tf.function`` taking one distributed batch and returning the global value of
    each metric ``train_step`` reports.
    """
    signature = [element_spec] if element_spec is not None else None

    @tf.function(input_signature=signature, reduce_retracing=True)
    def step(batch):
        per_replica = strategy.run(model.train_step, args=(batch,))
        return {key: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for key, value in per_replica.items()}

    return step


def run_custom_loop(trainer) -> None:
    """Trains from the model's current step to ``trainer.steps`` with ct's loop."""
    model = trainer.model
    first = model.steps_taken
    trainer.start_stream_at(first)
    dataset = trainer.strategy.distribute_datasets_from_function(trainer.dataset_fn)
    step_function = make_distributed_train_step(trainer.strategy, model, dataset.element_spec)
    iterator = iter(dataset)
    for step in range(first + 1, trainer.steps + 1):
        trainer.step_started()
        trainer.step_finished(step, step_function(next(iterator)))
        if trainer.halt == "nonfinite":
            break
        trainer.step_boundary(step)
        if trainer.stop_requested():
            break


def run_fit(trainer, callbacks: Sequence[keras.callbacks.Callback]) -> None:
    """Trains with ``model.fit``, an epoch being ``eval_every`` steps. A run resumed in the
    middle of an epoch first finishes that epoch in a short ``fit`` of its own."""
    model = trainer.model
    steps, eval_every = trainer.steps, trainer.stage.eval_every
    restoring = [c for c in callbacks if isinstance(c, keras.callbacks.BackupAndRestore)]
    others = [c for c in callbacks if c not in restoring]
    creator = keras.utils.experimental.DatasetCreator(trainer.dataset_fn)
    first = model.steps_taken
    if first % eval_every and first < steps:
        partial = min(eval_every - first % eval_every, steps - first)
        model.fit(creator, epochs=1, steps_per_epoch=partial,
                  callbacks=[CTFitCallback(trainer)], verbose=0)
    current = model.steps_taken
    if trainer.halt or current >= steps:
        return
    model.fit(creator, initial_epoch=current // eval_every,
              epochs=math.ceil(steps / eval_every), steps_per_epoch=eval_every,
              callbacks=[*restoring, CTFitCallback(trainer), *others], verbose=0)
