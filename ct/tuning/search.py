"""``ct tune``: a keras-tuner search whose trials are ``ct train`` runs.

Each trial draws values for the searched options (:mod:`ct.tuning.space`), builds its training
config as ``ct train`` does, and trains it with :class:`ct.training.pipeline.TrainingPipeline`
(the same code path) in its own folder; the objective (:mod:`ct.tuning.objectives`) is read
from the run's ``summary.json``. keras-tuner only chooses values and keeps the search's state:
no Keras 3 model is ever built or saved (ct's models are tf-keras ones).

What a search writes to its output directory::

    DIR/search.yaml        the search's settings; a re-run must match them (max_trials may grow)
    DIR/keras_tuner/       keras-tuner's state (oracle.json, trial_N/trial.json)
    DIR/trials/trial_NNN/  a complete ct run folder per trial (config.yaml, metrics.jsonl,
                           curves.png, checkpoints/, final/, summary.json); with
                           executions_per_trial > 1, one folder per execution inside
    DIR/trials.csv         trial, each searched option, objective, status, seconds, message
    DIR/best_config.yaml   the best trial's training config; ``ct train`` accepts it as is
    DIR/search.png         the objective per trial, and against the most influential option

Resuming: run the same command again. keras-tuner reloads its state from ``DIR``; finished
trials are not run again; a trial that was running when the search stopped runs again with
the same values in the same folder, where ``ct train`` resumes from its latest checkpoint.

Failures: a trial whose training stops on a user-facing error (an invalid combination drawn
inside a range, a non-finite loss, ...) is recorded as ``FAILED`` with the reason and the
search goes on; Ctrl-C/SIGTERM (after the trial's checkpoint) and bugs end the search.

Hyperband: keras-tuner's ``tuner/epochs`` is a number of epochs of ``epoch_steps`` CT steps
(default ``eval_every``), i.e. ``steps = tuner/epochs x epoch_steps``; every trial trains from
scratch (no warm start from the trial it continues).

Example:
    >>> search = HyperparameterSearch.from_file("configs/tune_ct.yaml", "runs/tune",
    ...                                         overrides=["tune.max_trials=3", "steps=30"])
    >>> result = search.run()
    >>> result.best.values
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import logging
import os
import time
from pathlib import Path
from typing import Optional

import yaml

from ct._keras import keras  # noqa: I001  (first: tf-keras for TensorFlow, before keras_tuner)
import keras_tuner

from ct.config import (TrainConfig, build_config, config_from_dict, config_to_dict,
                       with_defaults)
from ct.errors import ConfigError, CTError, OutputDirError, RunInterrupted, SearchError
from ct.progress import Progress
from ct.training.pipeline import TrainingPipeline
from ct.training.run_dir import config_differences, run_finished
from ct.tuning.config import TuneConfig, load_tune_config
from ct.tuning.objectives import get_objective
from ct.tuning.report import (BEST_CONFIG_FILE, PLOT_FILE, TRIALS_FILE, SearchResult,
                              TrialRecord, most_influential, plot_search, write_best_config,
                              write_trials_csv)
from ct.tuning.space import SearchSpace, trial_data

logger = logging.getLogger(__name__)

SEARCH_FILE = "search.yaml"
PROJECT = "keras_tuner"
TRIALS_DIR = "trials"


class _StopSearch(keras_tuner.errors.FatalError):
    """Carries an exception that must end the search (an interruption or a bug) through
    keras-tuner, which would record any other exception as a failed trial."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


class CTTuner(keras_tuner.Tuner):
    """keras-tuner's search loop with ``ct train`` runs as trials.

    ``run_trial`` trains through :meth:`HyperparameterSearch.run_trial` and returns the
    objective; the models stay in the trial folders, so saving and loading models here do
    nothing (no Keras 3 model exists).
    """

    def __init__(self, search: "HyperparameterSearch", oracle, directory: str,
                 project_name: str):
        self.ct_search = search
        super().__init__(oracle=oracle, directory=directory, project_name=project_name,
                         overwrite=False)

    def run_trial(self, trial, *args, **kwargs) -> dict:
        return self.ct_search.run_trial(trial)

    def save_model(self, trial_id, model, step=0) -> None:
        pass

    def load_model(self, trial) -> None:
        return None

    def reload(self) -> None:
        super().reload()
        # keras-tuner 1.4.8 retries the trials its saved state lists as running. One saved as
        # RUNNING just before that state was written (killed in between) is retried too.
        queue = self.oracle._retry_queue
        for trial_id, trial in self.oracle.trials.items():
            if trial.status == "RUNNING" and trial_id not in queue:
                queue.append(trial_id)


class HyperparameterSearch:
    """A search over training options, with keras-tuner's RandomSearch, BayesianOptimization
    or Hyperband oracle.

    Args:
        train_data: the training config as plain data (YAML + ``--set``, without ``tune:``).
        tune: the search's settings, with ``tune.search`` the space.
        output_dir: where the search and its trials are written.
        where: the config file's name, for messages.
        progress: ``auto`` (bars on a terminal: the trials, and the running trial's steps;
            plain lines otherwise), ``lines``, ``bar`` or ``off`` (see :mod:`ct.progress`).

    Everything a user can get wrong is checked here, before any trial: the search space (keys,
    distributions, value types, every combination of candidate values), the objective, the
    output folder (a different search there is refused, naming the differences), and what
    ``ct train`` checks before loading weights (corpus, STS-B dev file, model, tokenizer).
    """

    def __init__(self, train_data: dict, tune: TuneConfig, output_dir: str | os.PathLike,
                 where: str = "config", progress: str = "auto"):
        self.train_data = train_data
        self.progress_mode = progress
        self.progress: Optional[Progress] = None
        self.tune = tune
        self.where = where
        self.output_dir = Path(output_dir)
        self.trials_dir = self.output_dir / TRIALS_DIR
        self.space = SearchSpace.parse(tune.search)
        base = config_from_dict(TrainConfig, train_data, where=where)
        self.objective = get_objective(tune.objective, base)
        self.epoch_steps = 0
        fixed = {}
        if tune.tuner == "hyperband":
            if "ct" not in base.stages:
                raise ConfigError("tune.tuner hyperband sets the CT stage's steps, but stages "
                                  f"{base.stages} has no ct")
            if "steps" in self.space.by_key:
                raise ConfigError("tune.search: steps is set by hyperband (tuner/epochs x "
                                  "tune.epoch_steps); remove it from the search")
            self.epoch_steps = tune.epoch_steps or base.eval_every
            fixed = {"steps": sorted({self.epoch_steps, self.epoch_steps * tune.max_epochs})}
        first = self.space.check(train_data, where, fixed)
        self._check_output_dir()
        # What ct train checks before loading weights, once, on the first combination.
        TrainingPipeline(first, self.trials_dir / "preflight", progress="off")
        self.trials_run = 0

    @classmethod
    def from_file(cls, path: str | os.PathLike, output_dir: str | os.PathLike,
                  overrides: Optional[list[str]] = None,
                  progress: str = "auto") -> "HyperparameterSearch":
        """The search of a tune config file (see :mod:`ct.tuning.config`)."""
        train_data, tune, where = load_tune_config(path, overrides)
        return cls(train_data, tune, output_dir, where=where, progress=progress)

    # ------------------------------------------------------------------ setup
    def _record(self) -> dict:
        """The settings a re-run must share (``max_trials`` may change: a longer search)."""
        tune = dataclasses.asdict(self.tune)
        tune.pop("max_trials")
        tune["search"] = self.space.to_dict()
        train = config_to_dict(config_from_dict(TrainConfig, self.train_data, where=self.where))
        train["output_dir"] = None
        return {"tune": tune, "train": train}

    def _check_output_dir(self) -> None:
        out = self.output_dir
        if out.exists() and not out.is_dir():
            raise OutputDirError(f"output path {out} exists and is not a directory")
        record = out / SEARCH_FILE
        if record.exists():
            saved = yaml.safe_load(record.read_text()) or {}
            if isinstance(saved.get("train"), dict):  # options added since keep defaults
                saved["train"] = with_defaults(saved["train"])
            differences = config_differences(saved, self._record())
            if differences:
                raise OutputDirError(
                    f"{out} holds a search with other settings ({'; '.join(differences[:5])});"
                    " re-run it with the same config (only tune.max_trials may change) or "
                    "choose another --output-dir")
        elif out.exists() and any(out.iterdir()):
            raise OutputDirError(f"output directory {out} is not empty and holds no ct tune "
                                 f"search ({SEARCH_FILE}); choose another --output-dir")

    def _oracle(self):
        hp = keras_tuner.HyperParameters()
        for parameter in self.space.parameters:
            parameter.declare(hp)
        tune = self.tune
        common = dict(objective=keras_tuner.Objective(self.objective.name,
                                                      self.objective.direction),
                      hyperparameters=hp, allow_new_entries=False, seed=tune.seed,
                      max_retries_per_trial=0,
                      # failed trials are reported, not a reason to stop (a bug stops at once)
                      max_consecutive_failed_trials=2**31)
        oracles = keras_tuner.oracles
        if tune.tuner == "random":
            return oracles.RandomSearchOracle(max_trials=tune.max_trials, **common)
        if tune.tuner == "bayesian":
            return oracles.BayesianOptimizationOracle(
                max_trials=tune.max_trials, num_initial_points=tune.num_initial_points or None,
                **common)
        oracle = oracles.HyperbandOracle(max_epochs=tune.max_epochs, factor=tune.factor,
                                         hyperband_iterations=tune.hyperband_iterations,
                                         **common)
        oracle.max_trials = tune.max_trials or None
        return oracle

    # ------------------------------------------------------------------ search
    def run(self) -> SearchResult:
        """Runs (or resumes) the search and writes the report.

        Returns:
            The trials, the best one (None if no trial finished: then no
            ``best_config.yaml`` is written) and the files.

        Raises:
            RunInterrupted: SIGINT/SIGTERM during a trial; its checkpoint was saved and the
                same command resumes the search.
        """
        self.output_dir.mkdir(parents=True, exist_ok=True)
        record = self.output_dir / SEARCH_FILE
        if not record.exists():
            record.write_text(yaml.safe_dump(self._record(), sort_keys=False))
        with contextlib.redirect_stdout(io.StringIO()):  # keras-tuner prints "Reloading ..."
            tuner = CTTuner(self, self._oracle(), directory=str(self.output_dir),
                            project_name=PROJECT)
        tuner.oracle.verbose = 0  # no keras-tuner tables on stdout; ct logs each trial
        trials = tuner.oracle.trials.values()
        if trials:
            ended = sum(trial.status in ("COMPLETED", "FAILED") for trial in trials)
            logger.info("resuming the search in %s: %d trials ended, %d to finish",
                        self.output_dir, ended, len(trials) - ended)
        ended = sum(trial.status in ("COMPLETED", "FAILED") for trial in trials)
        self.progress = Progress("tune", total=self.tune.max_trials or max(len(trials), 1),
                                 initial=ended, unit="trial", mode=self.progress_mode, every=1)
        try:
            tuner.search()
        except _StopSearch as stop:
            raise stop.original from None
        finally:
            self.progress.close()
        result = self._result(tuner.oracle)
        self._write_report(result)
        return result

    def run_trial(self, trial) -> dict:
        """Trains one trial (each execution a ``ct train`` run) and returns its objective."""
        self.trials_run += 1
        values = self._values(trial.hyperparameters.values)
        number = int(trial.trial_id)
        folder = self.trials_dir / f"trial_{number:03d}"
        logger.info("trial_%03d: %s", number,
                    ", ".join(f"{key}={value!r}" for key, value in values.items()))
        start = time.time()
        scores = []
        executions = self.tune.executions_per_trial
        try:
            for execution in range(executions):
                run_dir = folder if executions == 1 else folder / f"execution-{execution + 1}"
                scores.append(self._train(self.trial_config(values, execution, run_dir),
                                          run_dir))
        except RunInterrupted as exc:
            raise _StopSearch(exc) from exc
        except CTError as exc:
            logger.warning("trial_%03d failed: %s", number, exc)
            raise keras_tuner.errors.FailedTrialError(str(exc)) from None
        except Exception as exc:  # a bug: end the search with its traceback
            raise _StopSearch(exc) from exc
        score = sum(scores) / len(scores)
        seconds = time.time() - start
        message = f"trial_{number:03d}: {self.objective.name} = {score:.4f} ({seconds:.0f} s)"
        if self.progress is not None and self.progress.mode == "bar":
            self.progress.write(f"[ct] {message}")
        else:
            logger.info(message)
        if self.progress is not None:
            if self.progress.done + 1 > self.progress.total:
                self.progress.set_total(self.progress.done + 1)
            self.progress.advance(1, {self.objective.name: score})
        return {self.objective.name: score, "seconds": round(seconds, 2)}

    def trial_config(self, values: dict, execution: int = 0,
                     run_dir: Optional[Path] = None) -> TrainConfig:
        """The training config of a trial: the file's, with ``values`` set; execution ``i``
        uses seed ``seed + i``."""
        config = build_config(trial_data(self.train_data, values), where=self.where)
        return dataclasses.replace(config, seed=config.seed + execution,
                                   output_dir=str(run_dir) if run_dir else None)

    def _values(self, drawn: dict) -> dict:
        values = self.space.values_of(drawn)
        if "tuner/epochs" in drawn:
            values["steps"] = int(drawn["tuner/epochs"]) * self.epoch_steps
        return values

    def _train(self, config: TrainConfig, run_dir: Path) -> float:
        if run_finished(run_dir):  # trained before the search recorded it
            logger.info("%s already holds the finished run; reading its summary", run_dir)
        else:
            inner = "off" if self.progress_mode == "off" else (
                "bar" if self.progress is not None and self.progress.mode == "bar" else "lines")
            TrainingPipeline(config, run_dir, progress=inner).run()
            keras.backend.clear_session()  # the next trial builds its models afresh
            gc.collect()
        value = self.objective.read(run_dir)
        if value is None:
            raise SearchError(f"the run in {run_dir} logged no {self.objective.name}")
        return float(value)

    # ------------------------------------------------------------------ report
    def _result(self, oracle) -> SearchResult:
        records = []
        for trial_id, trial in sorted(oracle.trials.items(), key=lambda item: int(item[0])):
            metrics = trial.metrics
            completed = trial.status == "COMPLETED"
            records.append(TrialRecord(
                number=int(trial_id), values=self._values(trial.hyperparameters.values),
                status=trial.status, objective=float(trial.score) if completed else None,
                seconds=float(metrics.get_last_value("seconds")) if metrics.exists("seconds")
                else None,
                message=_failure(trial.message) if trial.status == "FAILED" else ""))
        done = [r for r in records if r.objective is not None]
        pick = max if self.objective.direction == "max" else min
        best = pick(done, key=lambda r: r.objective) if done else None
        keys = self.space.keys + (["steps"] if self.tune.tuner == "hyperband" else [])
        return SearchResult(objective=self.objective, keys=keys, trials=records, best=best,
                            trials_run=self.trials_run, output_dir=self.output_dir)

    def _write_report(self, result: SearchResult) -> None:
        out = self.output_dir
        result.influence = most_influential(result)
        result.files.append(write_trials_csv(result, out / TRIALS_FILE))
        if result.best is not None:
            result.files.append(write_best_config(self.trial_config(result.best.values),
                                                  result.best, result, out / BEST_CONFIG_FILE))
        log_keys = {p.key for p in self.space.parameters if p.kind == "log_uniform"}
        result.files.append(plot_search(result, out / PLOT_FILE, log_keys))


def _failure(message: Optional[str]) -> str:
    """The reason of a failed trial: the last line of keras-tuner's traceback, without the
    exception's class."""
    lines = [line for line in (message or "").splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1].split(": ", 1)[-1].strip()
