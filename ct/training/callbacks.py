"""Keras callbacks that connect ``model.fit`` to the CT trainer.

:class:`CTFitCallback` makes a ``fit`` run behave like the custom loop: the same metrics lines,
evaluations, best-model keeping and progress, and it stops at the configured step. It adds the
STS-B dev scores to the epoch logs (an epoch is ``eval_every`` steps), so standard callbacks
can monitor them: ``EarlyStopping(monitor="stsb_dev", mode="max")`` or
``ReduceLROnPlateau(monitor="stsb_dev", mode="max")`` (the latter needs a constant learning
rate: ``optimizer.lr_boundaries: []``). With another ``selection_metric`` its best value over
the models is logged under its name too (``monitor="retrieval:ndcg@10"``).
"""

from __future__ import annotations

from ct._keras import keras


class CTFitCallback(keras.callbacks.Callback):
    """Bridges Keras ``fit`` events to a :class:`ct.CTTrainer`'s step and evaluation hooks.

    Args:
        trainer: the trainer whose ``step_started``, ``step_finished`` and ``evaluate`` run.
    """

    def __init__(self, trainer):
        super().__init__()
        self.trainer = trainer

    def _step(self) -> int:
        return self.model.steps_taken

    def on_train_begin(self, logs=None):
        # BackupAndRestore (placed before this callback) has restored the step by now: the
        # data stream continues from there.
        self.trainer.start_stream_at(self._step())

    def on_train_batch_begin(self, batch, logs=None):
        self.trainer.step_started()

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        self.trainer.step_finished(step, logs or {})
        if not self.trainer.halt and not self.trainer.is_eval_step(step):
            self.trainer.checkpoint_if_due(step)  # eval steps checkpoint after evaluating
        if self.trainer.stop_requested():
            self.model.stop_training = True
        if step >= self.trainer.steps:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        step = self._step()
        if self.trainer.halt or not self.trainer.is_eval_step(step):
            return
        self.trainer.step_boundary(step)
        if self.trainer.stop_requested():  # a signal that arrived during the evaluation
            self.model.stop_training = True
        selection = self.trainer.selection
        record = selection.last_record
        if record and record["step"] == step and logs is not None:
            scores = {k: v for k, v in record.items() if k.startswith("stsb_dev_model_")}
            if scores:
                logs.update(scores)
                logs["stsb_dev"] = max(scores.values())
            if selection.key != "stsb_dev":  # monitor="retrieval:ndcg@10", say
                logs[selection.key] = max(selection.selection_scores().values())
