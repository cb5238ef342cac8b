"""CTTrainer: one training stage end to end, a small coordinator of named parts.

The stage (CT, NLI, STS-B or align; see :mod:`ct.training.stages`) supplies data and model;
the trainer runs any of them the same way, with these parts:

- :class:`~ct.training.run_dir.RunDirectory`: reuse policy (new, resume, refuse), config and
  summary files, free space;
- the strategy and precision (:mod:`ct.distribute`, :mod:`ct.training.execution`);
- a driver (:mod:`ct.training.drivers`): the custom loop or Keras ``fit``, both calling the
  model's one ``train_step``;
- :class:`~ct.training.metrics_window.MetricsWindow`: log lines and throughput;
- :class:`~ct.training.model_selection.ModelSelection`: STS-B dev (and ``eval_tasks``)
  evaluations and the model kept by ``selection_metric`` (``best/``);
- :class:`~ct.training.checkpointing.RunCheckpointer`: checkpoints every
  ``checkpoint_every`` steps, resume;
- :class:`~ct.training.signal_guard.SignalGuard`: Ctrl-C / SIGTERM stop after the step;
- :class:`~ct.progress.Progress`: the live bar or plain progress lines;
- :mod:`~ct.training.summary` and :mod:`ct.export.save`: ``summary.json`` and the published
  ``final/`` (complete or absent, see :mod:`ct.files`).

What a run writes: ``config.yaml``, ``metrics.jsonl`` (+ ``tensorboard/``), ``curves.png``,
``checkpoints/``, ``best/``, ``final/`` and, last, ``summary.json`` (its presence marks the run
as ended). A run killed at any point finishes when the same command runs again. In
multi-worker training only the chief writes these; other workers write to a temporary folder.

Example:
    >>> summary = CTTrainer(load_config("configs/ct_paper.yaml"), "runs/ct").train()
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

from ct._keras import keras, tf
from ct.config import TrainConfig, config_to_dict
from ct.devices import accelerated, check_gpus, configure_gpus, describe_devices
from ct.distribute import get_strategy, is_chief
from ct.errors import ConfigError, NonFiniteLossError, RunInterrupted
from ct.export.save import publish_encoder
from ct.modeling.float32_copy import scoring_encoder
from ct.modeling.loading import load_tokenizer, resolve_model_dir
from ct.modeling.model_folder import check_serve_max_length
from ct.progress import Progress
from ct.training.checkpointing import RunCheckpointer
from ct.training.curves import plot_training_curves
from ct.training.dev_evaluation import DevEvaluation, format_score
from ct.training.drivers import run_custom_loop, run_fit
from ct.training.execution import (check_replica_split, configure_cpu_parallelism,
                                   describe_plan, op_determinism, precision_policy,
                                   seed_everything)
from ct.training.metrics_log import METRICS_FILE, MetricsLogger
from ct.training.metrics_window import MetricsWindow
from ct.training.model_selection import ModelSelection
from ct.training.optimization import build_optimizer, current_learning_rate
from ct.training.preemption import StopAgreement, lost_worker_errors
from ct.training.run_dir import RunDirectory, check_free_space, estimate_disk_use
from ct.training.signal_guard import SignalGuard
from ct.training.stages import Stage, make_stage
from ct.training.summary import build_summary, kept_description, publish_final

logger = logging.getLogger(__name__)


class CTTrainer:
    """Trains the one stage of ``config.stages`` (CT by default) as configured.

    Args:
        config: the validated training config; ``config.stages`` names one stage and
            ``config.model`` is where it starts.
        output_dir: where the run's files go.
        resume: ``None`` resumes an unfinished run of the same config found in
            ``output_dir`` (from its latest checkpoint) and starts a new run otherwise;
            ``True`` insists on resuming; ``False`` refuses a folder that holds any run.
        stage: the stage, already built (a pipeline checks every stage's data before the
            first one trains); default: built from ``config``.
        progress: ``auto`` (a bar on a terminal, else plain lines), ``bar``, ``lines`` or
            ``off``; see :mod:`ct.progress`.

    :meth:`check` verifies everything a user can get wrong (output folder, free space,
    training data, STS file, model path, tokenizer, strategy, batch split across replicas)
    before any model weights load; :meth:`train` calls it first.
    """

    def __init__(self, config: TrainConfig, output_dir: str | os.PathLike,
                 resume: Optional[bool] = None, stage: Optional[Stage] = None,
                 progress: str = "auto"):
        self.config = config
        self.is_chief = is_chief(config.strategy)
        # The run folder is shared by all workers: everyone resumes from its checkpoints, but
        # only the chief writes there; other workers write to a scratch folder.
        self.run_dir = Path(output_dir)
        self.output_dir = (self.run_dir if self.is_chief
                           else Path(tempfile.mkdtemp(prefix="ct-worker-")))
        self.progress_mode = progress
        self.stage = stage
        self._resume_request = resume
        self.resuming: Optional[bool] = None
        self.model = None
        self.selection = ModelSelection(config.keep, config.selection_metric)
        self.window: Optional[MetricsWindow] = None
        self.checkpointer: Optional[RunCheckpointer] = None
        self.metrics: Optional[MetricsLogger] = None
        self.progress: Optional[Progress] = None
        self.signals: Optional[SignalGuard] = None
        self.steps_done = 0
        self._nonfinite_stop = False
        self._signal_stop = False
        self.stop_agreement: Optional[StopAgreement] = None
        # Steps whose metrics are still on the device: read every log_every steps, so that
        # the host never waits for a step to finish (see step_finished).
        self._pending: list[tuple[int, dict]] = []
        self._pending_start = 0.0
        self._first_step = 0
        self._checked = False
        self._float32_copies: dict = {}

    @property
    def halt(self) -> Optional[str]:
        """Why training must stop after this step: ``"nonfinite"`` (``on_nonfinite: stop``),
        ``"signal"`` (SIGINT/SIGTERM received), or None."""
        if self._nonfinite_stop:
            return "nonfinite"
        if self._signal_stop:
            return "signal"
        return None

    # ------------------------------------------------------------------ checks
    def check(self) -> "CTTrainer":
        """Checks every input before anything heavy loads (idempotent); returns self.

        Raises:
            CTError: a bad output folder, data, model, tokenizer, strategy or batch split.
        """
        if self._checked:
            return self
        config = self.config
        self.resuming = RunDirectory(self.run_dir).inspect(config_to_dict(config),
                                                           self._resume_request)
        self.stage = self.stage or make_stage(config)
        self.steps = self.stage.steps
        self.evaluator = DevEvaluation.from_config(config)
        self.model_dir = resolve_model_dir(config.model)
        check_serve_max_length(config.serve_max_length, self.model_dir)
        self.disk = estimate_disk_use(self.model_dir, self.stage.num_models,
                                      self.stage.optimizer.name, config.keep_last,
                                      checkpoints=config.checkpoint_every > 0)
        check_free_space(self.output_dir, self.disk["total"], config.keep_last)
        self.tokenizer = load_tokenizer(str(self.model_dir))
        self.threads = configure_cpu_parallelism(config.cpu_parallelism,
                                                 self.stage.parallel_passes)
        configure_gpus()
        check_gpus(config.require_accelerator)
        self.strategy = get_strategy(config.strategy, config.virtual_devices,
                                     config.require_accelerator)
        self.accelerated = accelerated(self.strategy)
        self.num_replicas = self.strategy.num_replicas_in_sync
        check_replica_split(self.stage.batch_size, self.stage.group_size, self.num_replicas,
                            self.stage.batch_key, config.num_negatives)
        self.window = MetricsWindow(self.stage.metric_names)
        with tf.device("/cpu:0"):  # read by the input pipeline, which runs on the host
            self.data_position = tf.Variable(0, dtype=tf.int64, trainable=False,
                                             name="data_position")
        self._checked = True
        # Reported only now that every check has passed: bad input prints one line.
        self.stage.log_data()
        logger.info(describe_plan(self.stage, config, self.num_replicas, self.disk,
                                  self.threads, devices=describe_devices(self.strategy)))
        return self

    # ------------------------------------------------------------------ setup
    def build_model(self):
        """Loads the stage's model (two encoders for CT) in the strategy scope, under the
        configured precision, and compiles it with the stage's optimizer (slots created)."""
        self.check()
        seed_everything(self.config.seed)
        with precision_policy(self.config.precision), self.strategy.scope():
            model = self.stage.build_model(str(self.model_dir), self.tokenizer)
            for encoder in model.encoders:  # trained at max_length, saved to serve as the base
                encoder.serving_max_length = (self.config.serve_max_length
                                              or encoder.folder_max_length)
            model.use_length_buckets(self.stage.length_buckets(self.accelerated))
            model.compile(optimizer=build_optimizer(self.stage.optimizer,
                                                    total_steps=self.steps))
            model.build_optimizer_slots()
        self.model = model
        return model

    def start_stream_at(self, step: int) -> None:
        """Positions the training stream at ``step`` (read when iteration starts)."""
        self.data_position.assign(step)

    def dataset_fn(self, input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        """The stage's training stream for one input pipeline, in per-replica batches."""
        return self.stage.dataset_fn(self.tokenizer, self.data_position)(input_context)

    # ------------------------------------------------------------------ hooks (both drivers)
    def step_started(self) -> None:
        if not self._pending:
            self._pending_start = time.time()

    def is_sync_step(self, step: int) -> bool:
        """Whether the metrics of the steps so far are read after ``step`` (the same steps on
        every worker): every ``log_every`` steps, at evaluations, checkpoints and the end, and
        the first step of a process (timed alone: it includes tracing)."""
        every = self.config.checkpoint_every
        return (step % self.config.log_every == 0 or step >= self.steps
                or step == self._first_step + 1 or self.is_eval_step(step)
                or bool(every and step % every == 0))

    def step_finished(self, step: int, values: dict) -> None:
        """Accounts one finished step. Its metrics stay on the device until a sync step
        (:meth:`is_sync_step`), then every pending step is accounted in order and the
        workers agree on whether a stop signal arrived (:mod:`ct.training.preemption`)."""
        self._pending.append((step, values))
        if not (self._stops_alone() or self.is_sync_step(step)):
            self.progress.update(step)
            return
        self._settle_pending()

    def _stops_alone(self) -> bool:
        """Whether a stop signal reached this process and it may stop on its own: one process
        stops right after the step a signal arrived in; workers at a sync step."""
        return bool(self.signals is not None and self.signals.received
                    and not (self.stop_agreement and self.stop_agreement.multi_worker))

    def _settle_pending(self) -> None:
        """Accounts the steps whose metrics are still on the device, then agrees on a stop."""
        pending, self._pending = self._pending, []
        seconds = (time.time() - self._pending_start) / max(len(pending), 1)
        for pending_step, pending_values in pending:
            self._account_step(pending_step, pending_values, seconds)
            if self._nonfinite_stop:
                break
        if self.stop_agreement is not None and self.stop_agreement.agreed(
                self.signals.received if self.signals is not None else None):
            self._signal_stop = True

    def _account_step(self, step: int, values: dict, seconds: float) -> None:
        """One finished step: skipped or applied, logging, progress."""
        values = {key: float(value) for key, value in values.items()}
        self.steps_done = step
        if self.model.uses_loss_scaling:
            self.window.loss_scale = values["loss_scale"]
        if values["nonfinite"] > 0:
            # The update was skipped on every replica: weights and optimizer are as before.
            self.window.skipped(step, nonfinite=True)
            if self.config.on_nonfinite == "stop":
                self._nonfinite_stop = True
                return
            logger.warning("step %d: non-finite loss or gradient; batch skipped (%d so far)",
                           step, len(self.window.nonfinite_steps))
        elif values["overflow"] > 0:
            self.window.skipped(step, nonfinite=False)
            logger.debug("step %d: float16 overflow; step skipped, loss scale now %g", step,
                         values["loss_scale"])
        else:
            self.window.add(step, values, seconds)
        if (step % self.config.log_every == 0 or step == self.steps) and self.window.pending:
            record = self.window.flush(step, self.stage.batch_size)
            record["learning_rate"] = current_learning_rate(self.model.optimizer)
            self.metrics.log(record)
            self.progress.update(step, {"loss": record["loss"],
                                        "pairs/s": record["pairs_per_s"]})
        else:
            self.progress.update(step)

    def is_eval_step(self, step: int) -> bool:
        return step % self.stage.eval_every == 0 or step == self.steps

    def step_boundary(self, step: int) -> None:
        """After a step: evaluate and checkpoint when due (both drivers call this)."""
        if self.halt == "nonfinite":
            return
        if self.is_eval_step(step):
            self.evaluate(step)
        self.checkpoint_if_due(step)

    def stop_requested(self) -> Optional[str]:
        """:attr:`halt`, after taking in a stop signal that arrived since the last step
        finished (during an evaluation or a checkpoint, say): drivers ask this between steps,
        so one process stops at once instead of after one more step."""
        if not self.halt and self._stops_alone():
            self._settle_pending()
        return self.halt

    def checkpoint_if_due(self, step: int, force: bool = False) -> None:
        every = self.config.checkpoint_every
        if self.checkpointer is None or self.halt == "nonfinite":
            return
        if force or (every and step % every == 0) or step == self.steps:
            self.checkpointer.save(step, {**self.selection.state(), **self.window.state()})

    def evaluate(self, step: int) -> Optional[dict]:
        """Scores the model(s) on STS-B dev and ``eval_tasks``, logs it, and publishes a new
        best model (by ``selection_metric``)."""
        if self.evaluator is None:
            return None
        if self.selection.evaluated(step):
            return self.selection.last_record
        if self.progress is not None:
            self.progress.phase(self.evaluator.phase)
        scores = {index: self.evaluator(encoder)
                  for index, encoder in enumerate(self.scoring_encoders(), start=1)}
        if self.progress is not None:
            self.progress.phase(None)
        improved = self.selection.record(step, scores)
        record = self.selection.last_record
        self.metrics.log(record)
        metric = self.selection.metric
        message = f"{self.stage.title} step {step}: {self.evaluator.label} " + ", ".join(
            f"model {index} = {format_score(metric, score)}"
            for index, score in self.selection.selection_scores().items())
        if self.progress is not None:
            self.progress.write(f"[ct] {message}" if self.progress.mode == "bar" else message)
        else:
            logger.info(message)
        if improved and self.config.keep == "best" and self.is_chief:
            publish_encoder(self.model.encoders[improved - 1], self.output_dir / "best",
                            model_id=str(self.run_dir / "best"))
        return record

    def scoring_encoders(self) -> list:
        """The encoders as model selection scores them: in float32, as ``best/`` and
        ``final/`` compute (a float32 copy under a mixed-precision policy; see
        :mod:`ct.modeling.float32_copy`), so the kept score is the exported model's score."""
        return [scoring_encoder(encoder, self._float32_copies)
                for encoder in self.model.encoders]

    # ------------------------------------------------------------------ the run
    def train(self, callbacks: Optional[Sequence[keras.callbacks.Callback]] = None) -> dict:
        """Runs (or resumes) the whole stage; returns the summary (also in ``summary.json``).

        Args:
            callbacks: Keras callbacks for ``driver: fit`` (ModelCheckpoint, TensorBoard,
                CSVLogger, BackupAndRestore, EarlyStopping, ReduceLROnPlateau, ...).

        Raises:
            RunInterrupted: SIGINT/SIGTERM; a checkpoint was saved and the run can resume.
            NonFiniteLossError: a NaN/inf loss or gradient with ``on_nonfinite: stop``.
        """
        self.check()
        config = self.config
        if callbacks and config.driver != "fit":
            raise ConfigError("Keras callbacks need driver: fit (--set driver=fit)")
        directory = RunDirectory(self.output_dir)
        if not self.resuming or not self.is_chief:
            directory.write_config(config_to_dict(config))
        start_time = time.time()
        self.stage.on_run_start(self.output_dir, bool(self.resuming))
        self.metrics = MetricsLogger(self.output_dir, tensorboard=config.tensorboard)
        with op_determinism(config.deterministic):
            if self.model is None:
                self.stage.prepare(self.output_dir, self.progress_mode)
                self.build_model()
            if config.checkpoint_every:
                self.checkpointer = RunCheckpointer(self.output_dir / "checkpoints", self.model,
                                                    config.keep_last)
            if self.resuming:
                self._resume(directory)
            first_step = self.model.steps_taken
            self.steps_done = self._first_step = first_step
            self.progress = Progress(self.stage.title, total=self.steps, initial=first_step,
                                     mode=self.progress_mode, every=config.log_every)
            if not self.selection.evaluations:  # a resumed run has its evaluations back
                self.evaluate(step=first_step)
            multi_worker = config.strategy == "multi_worker"
            self.stop_agreement = StopAgreement(self.strategy, multi_worker)
            with SignalGuard(agreed=multi_worker) as self.signals, \
                    lost_worker_errors(config.strategy, lambda: self.steps_done):
                if config.driver == "fit":
                    run_fit(self, callbacks or [])
                else:
                    run_custom_loop(self)
            self.progress.close()
            self.metrics.close()
            self.stage.close()
            if self.halt == "signal":
                return self._stop_on_signal()
            if self.halt == "nonfinite":
                return self._stop_on_nonfinite(directory, start_time)
            return self._finish(directory, start_time)

    def _resume(self, directory: RunDirectory) -> None:
        restored = (self.checkpointer.restore_latest(self.run_dir / "checkpoints")
                    if self.checkpointer else None)
        if restored is None:
            logger.info("%s holds no checkpoint yet: starting the run over", self.run_dir)
            if self.is_chief:
                directory.truncate_metrics(-1)
            return
        step, state = restored
        self.selection.load_state(state)
        self.window.load_state(state)
        if self.is_chief:
            directory.truncate_metrics(step)
        logger.info("resuming from the checkpoint at step %d", step)

    def _stop_on_signal(self):
        self.checkpoint_if_due(self.steps_done, force=True)
        saved = "checkpoint saved" if self.checkpointer else "no checkpoint (checkpoint_every=0)"
        number = self.signals.received or signal.SIGTERM
        if self.config.strategy == "multi_worker":
            who = ", ".join(self.stop_agreement.requested_by)
            raise RunInterrupted(f"{who} received a stop signal: every worker stopped at step "
                                 f"{self.steps_done}; {saved}; run the same command on every "
                                 "worker to resume", number)
        raise RunInterrupted(f"interrupted by {signal.Signals(number).name} at step "
                             f"{self.steps_done}; {saved}; run the same command again to "
                             "resume", number)

    def _stop_on_nonfinite(self, directory: RunDirectory, start_time: float):
        step = self.window.nonfinite_steps[-1]
        reason = (f"non-finite loss or gradient at step {step}; the weights were not updated "
                  f"and the last good checkpoint is kept")
        summary = build_summary(self, time.time() - start_time, None, status="stopped",
                                reason=reason)
        directory.write_summary(summary)
        raise NonFiniteLossError(reason + " (on_nonfinite: skip skips such batches)")

    def _finish(self, directory: RunDirectory, start_time: float) -> dict:
        """Publishes ``final/`` (complete, with its model card), then ``summary.json``."""
        from_best = self.config.keep == "best" and (self.output_dir / "best").exists()
        if not from_best:
            self.selection.keep_at_end(self.steps_done, len(self.model.encoders))
        summary = build_summary(self, time.time() - start_time, self.output_dir / "final")
        plot_training_curves(self.output_dir / METRICS_FILE, self.output_dir / "curves.png",
                             title=self.stage.title, kept=self.selection.best)
        if self.is_chief:
            kept = None if from_best else self.model.encoders[self.selection.best["model"] - 1]
            publish_final(self.output_dir, summary, kept_encoder=kept)
            directory.write_summary(summary)
        logger.info("%s finished: kept %s", self.stage.title,
                    kept_description(self.selection.best))
        return summary
