"""CTTrainer: runs CT training end to end with a custom loop inside a ``tf.distribute`` scope.

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

Example:
    >>> summary = CTTrainer(load_config("configs/ct_paper.yaml"), "runs/ct").train()
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Optional

import yaml

from ct._keras import keras, tf
from ct.config import TrainConfig, config_to_dict
from ct.data.corpus import Corpus
from ct.data.ct_dataset import build_ct_dataset
from ct.data.ct_sampling import sentences_per_batch
from ct.distribute import get_strategy
from ct.errors import OutputDirError
from ct.evaluation.sts import STSEvaluator
from ct.modeling.ct_model import ContrastiveTensionModel
from ct.modeling.loading import load_tokenizer, resolve_model_dir
from ct.training.curves import plot_training_curves
from ct.training.metrics_log import METRICS_FILE, MetricsLogger
from ct.training.optimization import build_optimizer, current_learning_rate

logger = logging.getLogger(__name__)

SUMMARY_FILE = "summary.json"
LOSS_KEYS = ("loss", "positive_loss", "negative_loss")


def make_distributed_train_step(strategy: tf.distribute.Strategy, model):
    """Wraps ``model.train_step`` for the custom loop: ``strategy.run`` + cross-replica sum.

    Returns a ``tf.function`` taking one (distributed) batch and returning global ``loss``,
    ``positive_loss``, ``negative_loss`` and ``tokens`` (real tokens both models processed).
    """

    def replica_step(batch):
        outputs = model.train_step(batch)
        features = batch[0]
        outputs["tokens"] = tf.cast(tf.reduce_sum(features["attention_mask_1"])
                                    + tf.reduce_sum(features["attention_mask_2"]), tf.float32)
        return outputs

    @tf.function(reduce_retracing=True)
    def step(batch):
        per_replica = strategy.run(replica_step, args=(batch,))
        return {key: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                for key, value in per_replica.items()}

    return step


def check_output_dir(output_dir: Path) -> None:
    """Refuses a directory that already holds a run, so earlier results are never overwritten.

    Raises:
        OutputDirError: the directory holds a finished or started run, or is not writable.
    """
    if (output_dir / SUMMARY_FILE).exists():
        raise OutputDirError(f"output directory {output_dir} already holds a finished run "
                             f"({SUMMARY_FILE}); choose another --output-dir")
    if (output_dir / METRICS_FILE).exists():
        raise OutputDirError(f"output directory {output_dir} already holds a started run "
                             f"({METRICS_FILE}); choose another --output-dir")
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputDirError(f"output path {output_dir} exists and is not a directory")
    parent = output_dir if output_dir.exists() else _existing_parent(output_dir)
    if not os.access(parent, os.W_OK):
        raise OutputDirError(f"cannot write to {parent}: permission denied")


def _better_model(record: dict) -> int:
    """1 or 2: the model with the higher STS-B dev score; model 2 on a tie."""
    return 1 if record["stsb_dev_model_1"] > record["stsb_dev_model_2"] else 2


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


class CTTrainer:
    """Trains a CT model as configured.

    Args:
        config: the validated training config.
        output_dir: where the run's files go (must not hold an earlier run).

    Everything a user can get wrong (output folder, corpus, STS file, model path, tokenizer)
    is checked in ``__init__``, before any model weights are loaded.
    """

    def __init__(self, config: TrainConfig, output_dir: str | os.PathLike):
        self.config = config
        self.output_dir = Path(output_dir)
        check_output_dir(self.output_dir)
        self.corpus = Corpus.from_patterns(config.corpus, config.corpus_format, config.text_field)
        self.corpus_stats = self.corpus.validate(
            min_distinct=sentences_per_batch(config.batch_size, config.num_negatives))
        self.evaluator: Optional[STSEvaluator] = None
        if config.sts_dev:
            self.evaluator = STSEvaluator.from_file(config.sts_dev, name="stsb_dev",
                                                    batch_size=config.eval_batch_size)
        self.model_dir = resolve_model_dir(config.model)
        self.tokenizer = load_tokenizer(str(self.model_dir))
        self.strategy = get_strategy(config.strategy)
        self.model: Optional[ContrastiveTensionModel] = None
        self.evaluations: list[dict] = []
        self.best: Optional[dict] = None
        self.metrics: Optional[MetricsLogger] = None

    # ------------------------------------------------------------------ setup
    def build_model(self) -> ContrastiveTensionModel:
        """Loads the two encoders and compiles the model with the paper's optimizer."""
        config = self.config
        keras.utils.set_random_seed(config.seed)
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        with self.strategy.scope():
            model = ContrastiveTensionModel.from_pretrained(
                str(self.model_dir), pooling=config.pooling, max_length=config.max_length,
                dropout=config.dropout, tokenizer=self.tokenizer)
            model.compile(optimizer=build_optimizer(config.optimizer))
        self.model = model
        return model

    def build_dataset(self) -> tf.data.Dataset:
        """The seeded CT batch stream for this config."""
        config = self.config
        return build_ct_dataset(
            self.corpus, self.tokenizer, batch_size=config.batch_size,
            num_negatives=config.num_negatives, max_length=config.max_length, seed=config.seed,
            shuffle_buffer=config.shuffle_buffer, padding=config.padding)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, step: int) -> Optional[dict]:
        """Scores both models on STS-B dev, logs it, and saves a new best model."""
        if self.evaluator is None:
            return None
        record = {"event": "eval", "step": step}
        for index, encoder in enumerate(self.model.encoders, start=1):
            record[f"stsb_dev_model_{index}"] = self.evaluator(encoder)["spearman"]
        self.evaluations.append(record)
        self.metrics.log(record)
        logger.info("step %d: STS-B dev Spearman model 1 = %.2f, model 2 = %.2f", step,
                    record["stsb_dev_model_1"], record["stsb_dev_model_2"])
        better = _better_model(record)
        score = record[f"stsb_dev_model_{better}"]
        if self.best is None or score > self.best["stsb_dev_spearman"]:
            self.best = {"model": better, "step": step, "stsb_dev_spearman": score}
            if self.config.keep == "best":
                self._save_atomically(self.model.encoders[better - 1], self.output_dir / "best")
        return record

    # ------------------------------------------------------------------ main loop
    def train(self) -> dict:
        """Runs the whole job and returns the summary (also written to ``summary.json``)."""
        config = self.config
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / "config.yaml").write_text(
            yaml.safe_dump(config_to_dict(config), sort_keys=False))
        start_time = time.time()
        self.metrics = MetricsLogger(self.output_dir, tensorboard=config.tensorboard)
        if self.model is None:
            self.build_model()
        dataset = self.strategy.experimental_distribute_dataset(self.build_dataset())
        step_function = make_distributed_train_step(self.strategy, self.model)

        self.evaluate(step=0)
        train_seconds, tokens = 0.0, 0.0
        window = {key: 0.0 for key in LOSS_KEYS}
        window_steps, window_start = 0, time.time()
        from tqdm.auto import tqdm

        progress = tqdm(total=config.steps, desc="CT", unit="step", disable=None)
        iterator = iter(dataset)
        for step in range(1, config.steps + 1):
            step_start = time.time()
            outputs = step_function(next(iterator))
            values = {key: float(value) for key, value in outputs.items()}
            if step > 1 or config.steps == 1:  # step 1 includes tracing: not throughput
                train_seconds += time.time() - step_start
                tokens += values["tokens"]
            for key in LOSS_KEYS:
                window[key] += values[key]
            window_steps += 1
            progress.update(1)
            if step % config.log_every == 0 or step == config.steps:
                elapsed = time.time() - window_start
                record = {"step": step, **{k: v / window_steps for k, v in window.items()},
                          "learning_rate": current_learning_rate(self.model.optimizer),
                          "pairs_per_s": window_steps * config.batch_size / max(elapsed, 1e-9)}
                self.metrics.log(record)
                progress.set_postfix(loss=f"{record['loss']:.4f}",
                                     pairs_s=f"{record['pairs_per_s']:.1f}")
                window = {key: 0.0 for key in LOSS_KEYS}
                window_steps, window_start = 0, time.time()
            if step % config.eval_every == 0 or step == config.steps:
                eval_start = time.time()
                self.evaluate(step)
                window_start += time.time() - eval_start  # evaluation is not training time
        progress.close()
        self.metrics.close()
        plot_training_curves(self.output_dir / METRICS_FILE, self.output_dir / "curves.png")

        final_dir = self._save_final()
        summary = self._summary(time.time() - start_time, train_seconds, tokens, final_dir)
        (self.output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        return summary

    # ------------------------------------------------------------------ outputs
    @staticmethod
    def _save_atomically(encoder, target: Path) -> None:
        staging = target.with_name(target.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        encoder.save(staging)
        old = target.with_name(target.name + ".old")
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)

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
        index = _better_model(last) if last else 2
        self.best = {"model": index, "step": self.config.steps,
                     "stsb_dev_spearman": last.get(f"stsb_dev_model_{index}")}
        self._save_atomically(self.model.encoders[index - 1], final_dir)
        return final_dir

    def _summary(self, wall_seconds: float, train_seconds: float, tokens: float,
                 final_dir: Path) -> dict:
        config = self.config
        timed_steps = config.steps - 1 if config.steps > 1 else 1
        pairs = timed_steps * config.batch_size
        stsb = None
        if self.evaluations:
            first, last = self.evaluations[0], self.evaluations[-1]
            stsb = {"before": {"model_1": first["stsb_dev_model_1"],
                               "model_2": first["stsb_dev_model_2"]},
                    "after": {"model_1": last["stsb_dev_model_1"],
                              "model_2": last["stsb_dev_model_2"]},
                    "evaluations": self.evaluations}
        return {
            "config": config_to_dict(config),
            "seed": config.seed,
            "steps": config.steps,
            "model_dir": str(self.model_dir),
            "corpus": {"files": [str(f) for f in self.corpus.files],
                       "sentences": self.corpus_stats.num_sentences},
            "wall_time_s": round(wall_seconds, 2),
            "train_time_s": round(train_seconds, 2),
            "pairs_per_s": round(pairs / max(train_seconds, 1e-9), 2),  # after step 1
            "tokens_per_s": round(tokens / max(train_seconds, 1e-9), 1),
            "stsb_dev": stsb,
            "kept": self.best,
            "final_model": str(final_dir),
        }
