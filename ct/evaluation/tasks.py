"""The evaluator registry: a task kind names the evaluator that scores it, and a set of tasks
is scored in one call.

=============  ======================================  =====================================
kind           evaluator                               dev set
=============  ======================================  =====================================
``sts``        :class:`~ct.evaluation.sts.STSEvaluator`          an STS file (STS-B, SICK, plain)
``retrieval``  :class:`~ct.evaluation.retrieval.RetrievalEvaluator`  a BEIR folder
``reranking``  :class:`~ct.evaluation.reranking.RerankingEvaluator`  JSONL query/positive/negative
``pairs``      :class:`~ct.evaluation.pair_classification.PairClassificationEvaluator`
                                                       TSV/CSV/JSONL sentence1, sentence2, label
=============  ======================================  =====================================

Every evaluator is built with ``from_path(path, name=..., batch_size=...)`` and called with an
encoder; it returns its metrics (fractions, as sentence-transformers reports them) and
``primary_metric``. Task names and ``TASK:METRIC`` references are
:mod:`ct.config.eval_tasks`' job.

Example:
    >>> tasks = named_tasks([parse_task("retrieval:data/scifact"), parse_task("pairs:dev.tsv")])
    >>> suite = EvaluationSuite(tasks)
    >>> suite(encoder)["retrieval"]["ndcg@10"]
"""

from __future__ import annotations

from typing import Sequence

from ct.config.eval_tasks import TASK_KINDS, check_kind
from ct.config.schema import EvalTaskConfig
from ct.errors import ConfigError

# kind -> (module, class); imported when used, so reading a config stays light.
EVALUATORS = {
    "sts": ("ct.evaluation.sts", "STSEvaluator"),
    "retrieval": ("ct.evaluation.retrieval", "RetrievalEvaluator"),
    "reranking": ("ct.evaluation.reranking", "RerankingEvaluator"),
    "pairs": ("ct.evaluation.pair_classification", "PairClassificationEvaluator"),
}


def parse_task(spec: str) -> EvalTaskConfig:
    """``KIND:PATH`` (as ``ct eval --task`` takes it) -> a task named KIND."""
    kind, separator, path = spec.partition(":")
    if not separator or not path:
        raise ConfigError(f"--task {spec!r}: expected KIND:PATH with KIND one of "
                          f"{', '.join(TASK_KINDS)} (e.g. retrieval:data/scifact)")
    return EvalTaskConfig(check_kind(kind.strip(), f"--task {spec}"), path)


def build_evaluator(task: EvalTaskConfig, batch_size: int = 64, show_progress=False):
    """The evaluator of ``task``, its dev set read and checked.

    Raises:
        DataError: a missing or malformed dev set (naming the file and line).
    """
    import importlib

    module, name = EVALUATORS[task.kind]
    cls = getattr(importlib.import_module(module), name)
    return cls.from_path(task.path, name=task.name, batch_size=batch_size,
                         show_progress=show_progress)


class EvaluationSuite:
    """Scores an encoder on several tasks; each dev set is read (and checked) on creation.

    Args:
        tasks: the tasks, with distinct names (:func:`ct.config.eval_tasks.named_tasks`).
        batch_size: sentences per forward pass.
        show_progress: show encoding progress (True or a :mod:`ct.progress` mode).

    Calling it returns ``{task name: {"kind": kind, metric: value, ..., "primary_metric"}}``.
    """

    def __init__(self, tasks: Sequence[EvalTaskConfig], batch_size: int = 64, show_progress=False):
        self.tasks = list(tasks)
        self.evaluators = {task.name: build_evaluator(task, batch_size, show_progress)
                           for task in self.tasks}

    def __call__(self, encoder) -> dict:
        return {name: {"kind": evaluator.kind, **evaluator(encoder)}
                for name, evaluator in self.evaluators.items()}


def flat_scores(results: dict) -> dict:
    """``{"TASK:METRIC": value}`` of a suite's results (numbers only)."""
    return {f"{name}:{key}": value for name, metrics in results.items()
            for key, value in metrics.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            and key != "num_pairs"}


def format_task_results(results: dict) -> str:
    """The results of an :class:`EvaluationSuite` as a plain table, primary metric first."""
    lines = []
    for name, metrics in results.items():
        primary = metrics.get("primary_metric")
        lines.append(f"{name} ({metrics['kind']})")
        keys = [primary] + [k for k in metrics if k not in (primary, "kind", "primary_metric")]
        for key in keys:
            value = metrics[key]
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            lines.append(f"  {key:<20} {shown}" + ("   (primary)" if key == primary else ""))
    return "\n".join(lines)
