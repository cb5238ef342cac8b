"""What a training run scores its model(s) on at every evaluation: STS-B dev (``sts_dev``) and
the user's own dev sets (``eval_tasks``), and which figure decides the kept model
(``selection_metric``).

Each evaluation gives, per model, a flat dict of figures keyed as they are logged: ``stsb_dev``
(STS-B dev Spearman x100, as ct always logged it) and ``TASK:METRIC`` for every metric of
every task (fractions, e.g. ``retrieval:ndcg@10``). In ``metrics.jsonl`` each figure appears
once per model, ``<key>_model_<i>``. The selection metric ``stsb_dev:spearman`` (the default)
is the figure ``stsb_dev``; any other ``TASK:METRIC`` is its own key.

Example:
    >>> evaluation = DevEvaluation.from_config(config)
    >>> evaluation(encoder)[evaluation.selection_key]
"""

from __future__ import annotations

from typing import Optional

from ct.config.eval_tasks import named_tasks
from ct.config.schema import EvalTaskConfig
from ct.evaluation.sts import STSEvaluator
from ct.evaluation.tasks import EvaluationSuite, flat_scores

DEFAULT_SELECTION_METRIC = "stsb_dev:spearman"
STSB_KEY = "stsb_dev"


def selection_key(metric: str) -> str:
    """The logged key of a selection metric: ``stsb_dev`` for STS-B dev, else the metric."""
    return STSB_KEY if metric == DEFAULT_SELECTION_METRIC else metric


def selection_label(metric: str) -> str:
    """How messages name a selection metric."""
    return "STS-B dev Spearman" if metric == DEFAULT_SELECTION_METRIC else metric


def format_score(metric: str, score: Optional[float]) -> str:
    """STS-B dev x100 with two decimals; fractions with four."""
    if score is None:
        return "-"
    return f"{score:.2f}" if metric == DEFAULT_SELECTION_METRIC else f"{score:.4f}"


def config_tasks(config) -> list[EvalTaskConfig]:
    """A config's ``eval_tasks``, each named (names made unique)."""
    return named_tasks(config.eval_tasks)


class DevEvaluation:
    """Scores one encoder on STS-B dev and the configured tasks; every dev set is read (and
    checked) on creation.

    Args:
        sts_dev: the STS file for ``stsb_dev`` (None: not evaluated).
        tasks: the user's dev sets.
        metric: the selection metric (``TASK:METRIC``).
        batch_size: sentences per forward pass.
    """

    def __init__(self, sts_dev: Optional[str], tasks: list[EvalTaskConfig],
                 metric: str = DEFAULT_SELECTION_METRIC, batch_size: int = 64):
        self.sts = (STSEvaluator.from_file(sts_dev, name=STSB_KEY, batch_size=batch_size)
                    if sts_dev else None)
        self.suite = EvaluationSuite(tasks, batch_size=batch_size) if tasks else None
        self.tasks = tasks
        self.metric = metric
        self.selection_key = selection_key(metric)
        self.label = selection_label(metric)

    @classmethod
    def from_config(cls, config) -> Optional["DevEvaluation"]:
        """The evaluation of a training config, or None when it evaluates nothing."""
        tasks = config_tasks(config)
        if not config.sts_dev and not tasks:
            return None
        return cls(config.sts_dev, tasks, config.selection_metric, config.eval_batch_size)

    @property
    def phase(self) -> str:
        """What the progress display shows while evaluating."""
        names = (["STS-B dev"] if self.sts else []) + [task.name for task in self.tasks]
        return "evaluating " + ", ".join(names)

    def __call__(self, encoder) -> dict[str, float]:
        """``{"stsb_dev": ..., "TASK:METRIC": ...}`` of ``encoder``."""
        scores = {}
        if self.sts is not None:
            scores[STSB_KEY] = self.sts(encoder)["spearman"]
        if self.suite is not None:
            scores.update(flat_scores(self.suite(encoder)))
        return scores


def kept_task_scores(evaluations: list[dict], kept: Optional[dict],
                     tasks: list[EvalTaskConfig]) -> Optional[dict]:
    """``{task name: {"kind", "path", metric: value}}``: every metric of the kept model at the
    kept step's evaluation, or None without tasks or an evaluation at that step.

    Args:
        evaluations: the run's evaluation records.
        kept: the kept model (``{"model", "step", ...}``).
        tasks: the config's named ``eval_tasks`` (:func:`config_tasks`).
    """
    if not tasks or not kept:
        return None
    record = next((r for r in evaluations if r["step"] == kept["step"]), None)
    if record is None:
        return None
    suffix = f"_model_{kept['model']}"
    result = {}
    for task in tasks:
        prefix = f"{task.name}:"
        metrics = {key[len(prefix):-len(suffix)]: value for key, value in record.items()
                   if key.startswith(prefix) and key.endswith(suffix)}
        result[task.name] = {"kind": task.kind, "path": task.path, **metrics}
    return result
