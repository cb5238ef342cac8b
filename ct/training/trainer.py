"""CTTrainer: one training stage end to end, inside a ``tf.distribute`` strategy, with two
drivers. The stage (CT, NLI or STS-B, see ``ct.training.stages``) supplies data and model; the
trainer is the same for all. Pipelines of several stages: ``ct.training.pipeline``.

``driver: loop`` is a custom loop (``strategy.run`` of the model's ``train_step`` in a
``tf.function``); ``driver: fit`` is Keras ``model.fit`` with standard callbacks. Both call the
same ``train_step`` on the same data stream and share the hooks below, so they produce the same
losses and the same files.

What a run writes to its output directory:

- ``config.yaml``: the resolved config;
- ``metrics.jsonl``: one JSON line per logged step (mean loss, positive and negative loss over
  the steps since the last line, learning rate, pairs/s) and per evaluation (STS-B dev of both
  models); the same scalars as TensorBoard summaries in ``tensorboard/``;
- ``curves.png``: loss, positive/negative loss and STS-B dev of both models against steps;
- ``best/``: the best model so far by STS-B dev (written on improvement, atomically);
- ``final/``: the kept model, loadable by ``TFAutoModel``/``AutoTokenizer.from_pretrained``;
- ``summary.json``: config, seed, steps, wall time, throughput, STS-B dev before and after for
  both models, and which model was kept. Its presence marks the run as finished.

In multi-worker training only the chief writes these; other workers write to a temporary folder.

Example:
    >>> summary = CTTrainer(load_config("configs/ct_paper.yaml"), "runs/ct").train()
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

import yaml

from ct._keras import keras, tf
from ct.config import TrainConfig, config_to_dict
from ct.distribute import get_strategy, is_chief
from ct.errors import ConfigError, NonFiniteLossError, RunInterrupted
from ct.evaluation.sts import STSEvaluator
from ct.export.save import add_model_card
from ct.modeling.loading import load_tokenizer, resolve_model_dir
from ct.training.callbacks import CTFitCallback
from ct.training.checkpointing import RunCheckpointer
from ct.training.curves import plot_training_curves
from ct.training.metrics_log import METRICS_FILE, MetricsLogger
from ct.training.optimization import build_optimizer, current_learning_rate
from ct.training.run_dir import (CONFIG_FILE, SUMMARY_FILE, check_free_space,
                                 inspect_output_dir, save_encoder_atomically, truncate_metrics)
from ct.training.stages import Stage, make_stage

logger = logging.getLogger(__name__)

def make_distributed_train_step(strategy: tf.distribute.Strategy, model, element_spec=None):
    """Wraps ``model.train_step`` for the custom loop: ``strategy.run`` + cross-replica sum.

    Args:
        strategy: the strategy the model was built in.
        model: the CT model.
        element_spec: the distributed dataset's ``element_spec``; with it the step is traced
            once for all batch shapes.

    Returns a ``tf.function`` taking one distributed batch and returning the global ``loss``,
    ``positive_loss``, ``negative_loss`` and ``tokens``.
    """
    signature = [element_spec] if element_spec is not None else None

    @tf.function(input_signature=signature, reduce_retracing=True)
    def step(batch):
        per_replica = strategy.run(model.train_step, args=(batch,))
        return {key: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for key, value in per_replica.items()}

    return step


def _better_model(record: dict) -> int:
    """The (1-based) model with the highest STS-B dev score; the later model on a tie (CT's
    model 2, which the paper finds usually better)."""
    scores = [(record[key], int(key.rsplit("_", 1)[1])) for key in record
              if key.startswith("stsb_dev_model_")]
    return max(scores)[1]


def _model_scores(record: dict) -> dict:
    """``{"model_1": score, ...}`` of an evaluation record."""
    return {key[len("stsb_dev_"):]: value for key, value in record.items()
            if key.startswith("stsb_dev_model_")}


class CTTrainer:
    """Trains the one stage of ``config.stages`` (CT by default) as configured.

    Args:
        config: the validated training config; ``config.stages`` names one stage and
            ``config.model`` is where it starts.
        output_dir: where the run's files go.
        resume: ``None`` resumes an unfinished run of the same config found in
            ``output_dir`` (from its latest checkpoint) and starts a new run otherwise;
            ``True`` insists on resuming; ``False`` refuses a folder that holds any run.

    Everything a user can get wrong (output folder, free space, training data, STS file,
    model path, tokenizer, strategy, batch split across replicas) is checked in ``__init__``,
    before any model weights are loaded. ``stage`` may be given already built (a pipeline
    checks every stage's data before the first one trains).
    """

    def __init__(self, config: TrainConfig, output_dir: str | os.PathLike,
                 resume: Optional[bool] = None, stage: Optional[Stage] = None):
        self.config = config
        self.is_chief = is_chief(config.strategy)
        # The run folder is shared by all workers: everyone resumes from its checkpoints, but
        # only the chief writes there; other workers write to a scratch folder.
        self.run_dir = Path(output_dir)
        self.output_dir = (self.run_dir if self.is_chief
                           else Path(tempfile.mkdtemp(prefix="ct-worker-")))
        self.resuming = inspect_output_dir(self.run_dir, config_to_dict(config), resume)
        self.stage = stage or make_stage(config)
        self.steps = self.stage.steps
        self.evaluator: Optional[STSEvaluator] = None
        if config.sts_dev:
            self.evaluator = STSEvaluator.from_file(config.sts_dev, name="stsb_dev",
                                                    batch_size=config.eval_batch_size)
        self.model_dir = resolve_model_dir(config.model)
        check_free_space(self.output_dir, self.model_dir, config.keep_last,
                         checkpoints=config.checkpoint_every > 0)
        self.tokenizer = load_tokenizer(str(self.model_dir))
        self.strategy = get_strategy(config.strategy, config.virtual_devices,
                                     config.require_accelerator)
        self.num_replicas = self.strategy.num_replicas_in_sync
        group, batch_size = self.stage.group_size, self.stage.batch_size
        if batch_size % (self.num_replicas * group):
            what = (f"in whole groups of 1 positive + {config.num_negatives} negatives"
                    if group > 1 else "evenly")
            key = "batch_size" if self.stage.name == "ct" else f"{self.stage.name}.batch_size"
            raise ConfigError(
                f"{key} {batch_size} cannot be split over {self.num_replicas} replicas {what}; "
                f"use a multiple of {self.num_replicas * group}")
        self.model = None
        self.data_position = tf.Variable(0, dtype=tf.int64, trainable=False,
                                         name="data_position")
        self.checkpointer: Optional[RunCheckpointer] = None
        self.evaluations: list[dict] = []
        self.best: Optional[dict] = None
        self.metrics: Optional[MetricsLogger] = None
        self.steps_done = 0
        self.timed_steps = 0
        self.train_seconds = 0.0
        self.tokens = 0.0
        self.nonfinite_steps: list[int] = []
        self.metric_names = self.stage.metric_names
        self._window = {key: 0.0 for key in self.metric_names}
        self._window_steps = 0
        self._window_seconds = 0.0
        self._step_start = 0.0
        self._seen_first_step = False
        self._progress = None
        self.halt: Optional[str] = None  # why training must stop: "signal" or "nonfinite"
        self._signal_number = 0
        # Reported only now that every check has passed: bad input prints one line.
        self.stage.log_data()

    # ------------------------------------------------------------------ setup
    def build_model(self):
        """Loads the stage's model (two encoders for CT) and compiles it with the stage's
        optimizer."""
        config = self.config
        keras.utils.set_random_seed(config.seed)
        # A seeded global generator: checkpointed with the run (RNG state), and required by
        # op determinism before anything asks for it.
        tf.random.set_global_generator(tf.random.Generator.from_seed(config.seed))
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        previous_policy = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy(config.precision)
        try:
            with self.strategy.scope():
                model = self.stage.build_model(str(self.model_dir), self.tokenizer)
                optimizer = build_optimizer(self.stage.optimizer, total_steps=self.steps)
                if config.precision == "mixed_float16":
                    optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
                model.compile(optimizer=optimizer)
                # Create the optimizer's slots now, so a checkpoint restores them directly.
                getattr(optimizer, "inner_optimizer", optimizer).build(
                    model.trainable_variables)
        finally:
            keras.mixed_precision.set_global_policy(previous_policy)
        self.model = model
        return model

    def dataset_fn(self, input_context: tf.distribute.InputContext) -> tf.data.Dataset:
        """The stage's training stream for one input pipeline, in per-replica batches."""
        return self.stage.dataset_fn(self.tokenizer, self.data_position)(input_context)

    # ------------------------------------------------------------------ hooks (both drivers)
    def step_started(self) -> None:
        self._step_start = time.time()

    def step_finished(self, step: int, values: dict) -> None:
        """Accounts one finished step: non-finite check, throughput, logging, progress bar."""
        seconds = time.time() - self._step_start
        values = {key: float(values[key])
                  for key in (*self.metric_names, "tokens", "nonfinite")}
        self.steps_done = step
        if self._progress is not None:
            self._progress.update(1)
        if values["nonfinite"] > 0:
            # The model dropped this step's gradients: the weights are those before it.
            self.nonfinite_steps.append(step)
            if self.config.on_nonfinite == "stop":
                self.halt = "nonfinite"
                return
            logger.warning("step %d: non-finite loss or gradient; batch skipped (%d so far)",
                           step, len(self.nonfinite_steps))
        else:
            if self._seen_first_step:  # the first step of a process includes tracing
                self.timed_steps += 1
                self.train_seconds += seconds
                self.tokens += values["tokens"]
            self._seen_first_step = True
            self._window_seconds += seconds
            for key in self.metric_names:
                self._window[key] += values[key]
            self._window_steps += 1
        if (step % self.config.log_every == 0 or step == self.steps) \
                and self._window_steps:
            self._log_window(step)

    def _log_window(self, step: int) -> None:
        record = {"step": step,
                  **{k: v / self._window_steps for k, v in self._window.items()},
                  "learning_rate": current_learning_rate(self.model.optimizer),
                  "pairs_per_s": self._window_steps * self.stage.batch_size
                  / max(self._window_seconds, 1e-9)}
        self.metrics.log(record)
        if self._progress is not None:
            self._progress.set_postfix(loss=f"{record['loss']:.4f}",
                                       pairs_s=f"{record['pairs_per_s']:.1f}")
        self._window = {key: 0.0 for key in self.metric_names}
        self._window_steps, self._window_seconds = 0, 0.0

    def is_eval_step(self, step: int) -> bool:
        return step % self.stage.eval_every == 0 or step == self.steps

    def step_boundary(self, step: int) -> None:
        """After a step: evaluate and checkpoint when due (both drivers call this)."""
        if self.halt == "nonfinite":
            return
        if self.is_eval_step(step):
            self.evaluate(step)
        self.checkpoint_if_due(step)

    def checkpoint_if_due(self, step: int, force: bool = False) -> None:
        every = self.config.checkpoint_every
        if self.checkpointer is None or self.halt == "nonfinite":
            return
        if force or (every and step % every == 0) or step == self.steps:
            # The stream's position is the step: every batch before it is consumed, so the
            # pipeline (which reads this variable as a lower bound) loses nothing.
            self.data_position.assign(step)
            self.checkpointer.save(step, self._state())

    def _state(self) -> dict:
        """The trainer's own state, saved beside each checkpoint."""
        return {"evaluations": self.evaluations, "best": self.best,
                "window": self._window, "window_steps": self._window_steps,
                "window_seconds": self._window_seconds, "train_seconds": self.train_seconds,
                "timed_steps": self.timed_steps, "tokens": self.tokens,
                "nonfinite_steps": self.nonfinite_steps}

    def _load_state(self, state: dict) -> None:
        self.evaluations, self.best = state["evaluations"], state["best"]
        self._window, self._window_steps = state["window"], state["window_steps"]
        self._window_seconds, self.train_seconds = state["window_seconds"], state["train_seconds"]
        self.timed_steps, self.tokens = state["timed_steps"], state["tokens"]
        self.nonfinite_steps = state["nonfinite_steps"]

    def evaluate(self, step: int) -> Optional[dict]:
        """Scores the model(s) on STS-B dev, logs it, and saves a new best model."""
        if self.evaluator is None:
            return None
        if self.evaluations and self.evaluations[-1]["step"] == step:
            return self.evaluations[-1]
        record = {"event": "eval", "step": step}
        for index, encoder in enumerate(self.model.encoders, start=1):
            record[f"stsb_dev_model_{index}"] = self.evaluator(encoder)["spearman"]
        self.evaluations.append(record)
        self.metrics.log(record)
        logger.info("%s step %d: STS-B dev Spearman %s", self.stage.title, step, ", ".join(
            f"{name.replace('_', ' ')} = {score:.2f}"
            for name, score in _model_scores(record).items()))
        better = _better_model(record)
        score = record[f"stsb_dev_model_{better}"]
        if self.best is None or score > self.best["stsb_dev_spearman"]:
            self.best = {"model": better, "step": step, "stsb_dev_spearman": score}
            if self.config.keep == "best" and self.is_chief:
                save_encoder_atomically(self.model.encoders[better - 1], self.output_dir / "best")
        return record

    # ------------------------------------------------------------------ drivers
    def train(self, callbacks: Optional[Sequence[keras.callbacks.Callback]] = None) -> dict:
        """Runs (or resumes) the whole job; returns the summary (also in ``summary.json``).

        Args:
            callbacks: Keras callbacks for ``driver: fit`` (ModelCheckpoint, TensorBoard,
                CSVLogger, BackupAndRestore, EarlyStopping, ReduceLROnPlateau, ...).

        Raises:
            RunInterrupted: SIGINT/SIGTERM; a checkpoint was saved and the run can resume.
            NonFiniteLossError: a NaN/inf loss or gradient with ``on_nonfinite: stop``.
        """
        config = self.config
        if callbacks and config.driver != "fit":
            raise ConfigError("Keras callbacks need driver: fit (--set driver=fit)")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if not self.resuming or not self.is_chief:
            (self.output_dir / CONFIG_FILE).write_text(
                yaml.safe_dump(config_to_dict(config), sort_keys=False))
        start_time = time.time()
        self.metrics = MetricsLogger(self.output_dir, tensorboard=config.tensorboard)
        if self.model is None:
            self.stage.prepare(self.output_dir)
            self.build_model()
        if config.checkpoint_every:
            self.checkpointer = RunCheckpointer(self.output_dir / "checkpoints", self.model,
                                                self.data_position, config.keep_last)
        if self.resuming:
            self._resume()
        first_step = int(self.model.optimizer.iterations.numpy())
        if not self.evaluations:  # a resumed run has its evaluations back from the checkpoint
            self.evaluate(step=first_step)
        from tqdm.auto import tqdm

        self._progress = tqdm(total=self.steps, initial=first_step, desc=self.stage.title,
                              unit="step",
                              disable=None)
        with self._stop_on_signals():
            if config.driver == "fit":
                self._train_fit(callbacks or [])
            else:
                self._train_loop()
        self._progress.close()
        self.metrics.close()
        if self.halt == "signal":
            self.checkpoint_if_due(self.steps_done, force=True)
            saved = ("checkpoint saved" if self.checkpointer
                     else "no checkpoint (checkpoint_every=0)")
            raise RunInterrupted(
                f"interrupted by {signal.Signals(self._signal_number).name} at step "
                f"{self.steps_done}; {saved}; run the same command again to resume",
                self._signal_number)
        if self.halt == "nonfinite":
            step = self.nonfinite_steps[-1]
            reason = (f"non-finite loss or gradient at step {step}; the weights were not "
                      f"updated and the last good checkpoint is kept")
            summary = self._summary(time.time() - start_time, None, status="stopped",
                                    reason=reason)
            (self.output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
            raise NonFiniteLossError(reason + " (on_nonfinite: skip skips such batches)")
        plot_training_curves(self.output_dir / METRICS_FILE, self.output_dir / "curves.png",
                             title=self.stage.title)
        final_dir = self._save_final()
        summary = self._summary(time.time() - start_time, final_dir)
        if self.is_chief:  # the kept model is a complete export: add how it was trained
            add_model_card(final_dir, [summary])
        (self.output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        return summary

    def _resume(self) -> None:
        restored = (self.checkpointer.restore_latest(self.run_dir / "checkpoints")
                    if self.checkpointer else None)
        if restored is None:
            logger.info("%s holds no checkpoint yet: starting the run over", self.run_dir)
            if self.is_chief:
                truncate_metrics(self.output_dir, -1)
            return
        step, state = restored
        self._load_state(state)
        self.steps_done = step
        if self.is_chief:
            truncate_metrics(self.output_dir, step)
        logger.info("resuming from the checkpoint at step %d", step)

    @contextlib.contextmanager
    def _stop_on_signals(self):
        """SIGINT/SIGTERM finish the current step, then stop (a second SIGINT aborts)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {number: signal.getsignal(number) for number in signals}

        def request_stop(number, frame):
            if self.halt == "signal" and number == signal.SIGINT:
                raise KeyboardInterrupt
            self.halt, self._signal_number = "signal", number
            logger.warning("%s received: stopping after this step and saving a checkpoint",
                           signal.Signals(number).name)

        for number in signals:
            signal.signal(number, request_stop)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _train_loop(self) -> None:
        model = self.model
        dataset = self.strategy.distribute_datasets_from_function(self.dataset_fn)
        step_function = make_distributed_train_step(self.strategy, model, dataset.element_spec)
        first = int(model.optimizer.iterations.numpy())
        self.data_position.assign(first)
        iterator = iter(dataset)
        for step in range(first + 1, self.steps + 1):
            self.step_started()
            self.step_finished(step, step_function(next(iterator)))
            if self.halt == "nonfinite":
                break
            self.step_boundary(step)
            if self.halt:
                break

    def _train_fit(self, callbacks: Sequence[keras.callbacks.Callback]) -> None:
        """``model.fit`` with an epoch of ``eval_every`` steps. A run resumed in the middle of
        an epoch first finishes that epoch in a short ``fit`` of its own."""
        steps, eval_every = self.steps, self.stage.eval_every
        restoring = [c for c in callbacks if isinstance(c, keras.callbacks.BackupAndRestore)]
        others = [c for c in callbacks if c not in restoring]
        creator = keras.utils.experimental.DatasetCreator(self.dataset_fn)
        first = int(self.model.optimizer.iterations.numpy())
        if first % eval_every and first < steps:
            partial = min(eval_every - first % eval_every, steps - first)
            self.model.fit(creator, epochs=1, steps_per_epoch=partial,
                           callbacks=[CTFitCallback(self)], verbose=0)
        current = int(self.model.optimizer.iterations.numpy())
        if self.halt or current >= steps:
            return
        self.model.fit(
            creator, initial_epoch=current // eval_every,
            epochs=math.ceil(steps / eval_every), steps_per_epoch=eval_every,
            callbacks=[*restoring, CTFitCallback(self), *others], verbose=0)

    # ------------------------------------------------------------------ outputs
    def _save_final(self) -> Path:
        """Writes ``final/``: the best model (``keep: best``) or the better model at the end."""
        final_dir = self.output_dir / "final"
        best_dir = self.output_dir / "best"
        if self.config.keep == "best" and best_dir.exists():
            shutil.copytree(best_dir, final_dir)
            return final_dir
        # keep: last, or no STS-B dev set: the better model at the end; without scores,
        # model 2, which the paper finds usually better.
        last = self.evaluations[-1] if self.evaluations else {}
        index = _better_model(last) if last else len(self.model.encoders)
        self.best = {"model": index, "step": self.steps_done,
                     "stsb_dev_spearman": last.get(f"stsb_dev_model_{index}")}
        save_encoder_atomically(self.model.encoders[index - 1], final_dir)
        return final_dir

    def _summary(self, wall_seconds: float, final_dir: Optional[Path], status: str = "finished",
                 reason: Optional[str] = None) -> dict:
        config = self.config
        stsb = None
        if self.evaluations:
            first, last = self.evaluations[0], self.evaluations[-1]
            stsb = {"before": _model_scores(first), "after": _model_scores(last),
                    "evaluations": self.evaluations}
        return {
            "status": status,
            "reason": reason,
            "stage": self.stage.name,
            "config": config_to_dict(config),
            "seed": config.seed,
            "steps": self.steps_done,
            "driver": config.driver,
            "strategy": self.config.strategy,
            "replicas": self.num_replicas,
            "model_dir": str(self.model_dir),
            **self.stage.data_summary(),
            "wall_time_s": round(wall_seconds, 2),
            "train_time_s": round(self.train_seconds, 2),
            # after the first step of the process, which includes tracing
            "pairs_per_s": round(self.timed_steps * self.stage.batch_size
                                 / max(self.train_seconds, 1e-9), 2),
            "tokens_per_s": round(self.tokens / max(self.train_seconds, 1e-9), 1),
            "final_loss": self._last_logged("loss"),
            "nonfinite_steps": self.nonfinite_steps,
            "stsb_dev": stsb,
            "kept": self.best,
            "final_model": str(final_dir) if final_dir else None,
        }

    def _last_logged(self, key: str) -> Optional[float]:
        lines = (self.output_dir / METRICS_FILE).read_text().splitlines()
        for line in reversed(lines):
            record = json.loads(line)
            if key in record:
                return record[key]
        return None
