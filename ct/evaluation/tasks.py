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
``primary_metric``. A task is named (default: its kind); ``TASK:METRIC`` (e.g.
``retrieval:ndcg@10``) names one figure, as ``selection_metric`` does.

Example:
    >>> tasks = [parse_task("retrieval:data/scifact"), parse_task("pairs:dev.tsv")]
    >>> suite = EvaluationSuite(tasks)
    >>> suite(encoder)["retrieval"]["ndcg@10"]
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Optional, Sequence

from ct.errors import ConfigError

# kind -> (module, class); imported when used, so reading a config stays light.
EVALUATORS = {
    "sts": ("ct.evaluation.sts", "STSEvaluator"),
    "retrieval": ("ct.evaluation.retrieval", "RetrievalEvaluator"),
    "reranking": ("ct.evaluation.reranking", "RerankingEvaluator"),
    "pairs": ("ct.evaluation.pair_classification", "PairClassificationEvaluator"),
}
TASK_KINDS = tuple(EVALUATORS)

# The figures each kind reports (the default cutoffs), for checking ``TASK:METRIC`` names
# before anything is evaluated.
METRICS = {
    "sts": ("spearman", "pearson"),
    "retrieval": (*(f"accuracy@{k}" for k in (1, 3, 5, 10)),
                  *(f"{m}@{k}" for k in (1, 3, 5, 10, 100) for m in ("precision", "recall")),
                  "mrr@10", "ndcg@10", "map@100"),
    "reranking": ("map", "mrr@10", "ndcg@10"),
    "pairs": ("ap", "accuracy", "accuracy_threshold", "f1", "precision", "recall",
              "f1_threshold", "mcc"),
}
PRIMARY_METRICS = {"sts": "spearman", "retrieval": "ndcg@10", "reranking": "ndcg@10",
                   "pairs": "ap"}


@dataclasses.dataclass
class EvalTask:
    """One dev set: its kind, path and name."""

    kind: str
    path: str
    name: str = ""

    def __post_init__(self):
        if self.kind not in EVALUATORS:
            close = difflib.get_close_matches(str(self.kind), TASK_KINDS, n=1)
            raise ConfigError(f"unknown evaluation task kind {self.kind!r}; choose one of "
                              f"{', '.join(TASK_KINDS)}"
                              + (f" (did you mean {close[0]!r}?)" if close else ""))
        self.name = self.name or self.kind


def parse_task(spec: str) -> EvalTask:
    """``KIND:PATH`` (as ``ct eval --task`` takes it) -> :class:`EvalTask` named KIND."""
    kind, separator, path = spec.partition(":")
    if not separator or not path:
        raise ConfigError(f"--task {spec!r}: expected KIND:PATH with KIND one of "
                          f"{', '.join(TASK_KINDS)} (e.g. retrieval:data/scifact)")
    return EvalTask(kind.strip(), path)


def unique_names(tasks: Sequence[EvalTask]) -> list[EvalTask]:
    """The tasks with distinct names: a repeated default name gets ``_2``, ``_3``, ...;
    repeated explicit names are an error."""
    seen: dict[str, int] = {}
    named = []
    for task in tasks:
        name = task.name
        if name in seen:
            if name != task.kind:
                raise ConfigError(f"two evaluation tasks are named {name!r}; give each a "
                                  "different name")
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        named.append(dataclasses.replace(task, name=name))
    return named


def split_metric(metric: str, tasks: Sequence[EvalTask], option: str = "selection_metric",
                 extra_tasks: Optional[dict] = None) -> tuple[str, str]:
    """``(task name, metric)`` of ``TASK:METRIC``, checked against the tasks' kinds.

    Args:
        metric: e.g. ``retrieval:ndcg@10``.
        tasks: the configured tasks.
        option: the option named in errors.
        extra_tasks: other task names and their kinds (``{"stsb_dev": "sts"}``).

    Raises:
        ConfigError: not TASK:METRIC, an unknown task, or a metric its kind does not report.
    """
    kinds = {**(extra_tasks or {}), **{task.name: task.kind for task in tasks}}
    name, separator, figure = metric.partition(":")
    if not separator or not figure:
        raise ConfigError(f"{option} {metric!r}: expected TASK:METRIC, e.g. retrieval:ndcg@10 "
                          f"(tasks: {', '.join(kinds) or 'none; add eval_tasks'})")
    if name not in kinds:
        raise ConfigError(f"{option} {metric!r} names task {name!r}, which is not evaluated; "
                          f"the tasks are {', '.join(kinds) or 'none (add eval_tasks)'}")
    known = METRICS[kinds[name]]
    if figure not in known:
        close = difflib.get_close_matches(figure, known, n=1)
        raise ConfigError(f"{option} {metric!r}: a {kinds[name]} task reports "
                          f"{', '.join(known)}" + (f" (did you mean {name}:{close[0]}?)"
                                                   if close else ""))
    return name, figure


def build_evaluator(task: EvalTask, batch_size: int = 64, show_progress=False):
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
        tasks: the tasks, with distinct names (:func:`unique_names`).
        batch_size: sentences per forward pass.
        show_progress: show encoding progress (True or a :mod:`ct.progress` mode).

    Calling it returns ``{task name: {"kind": kind, metric: value, ..., "primary_metric"}}``.
    """

    def __init__(self, tasks: Sequence[EvalTask], batch_size: int = 64, show_progress=False):
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
