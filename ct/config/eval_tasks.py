"""Naming the user's dev sets and their figures: task names (``eval_tasks``) and
``TASK:METRIC`` references (``selection_metric``, ``tune.objective``), checked before anything
is evaluated. The evaluators themselves are :mod:`ct.evaluation.tasks`' registry.

Example:
    >>> tasks = named_tasks([EvalTaskConfig("retrieval", "data/scifact")])
    >>> split_metric("retrieval:ndcg@10", tasks)
    ('retrieval', 'ndcg@10')
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Optional, Sequence

from ct.config.schema import EvalTaskConfig, EvalTaskKind, choices
from ct.errors import ConfigError

TASK_KINDS = choices(EvalTaskKind)

# The figures each kind reports (at the default cutoffs); all are maximised, thresholds aside.
TASK_METRICS = {
    "sts": ("spearman", "pearson"),
    "retrieval": (*(f"accuracy@{k}" for k in (1, 3, 5, 10)),
                  *(f"{m}@{k}" for k in (1, 3, 5, 10, 100) for m in ("precision", "recall")),
                  "mrr@10", "ndcg@10", "map@100"),
    "reranking": ("map", "mrr@10", "ndcg@10"),
    "pairs": ("ap", "accuracy", "accuracy_threshold", "f1", "precision", "recall",
              "f1_threshold", "mcc"),
}


def check_kind(kind: Optional[str], where: str) -> str:
    """``kind`` if it names an evaluator kind; else a ConfigError with a suggestion."""
    if kind not in TASK_KINDS:
        close = difflib.get_close_matches(str(kind), TASK_KINDS, n=1)
        raise ConfigError(f"{where}: unknown evaluation task kind {kind!r}; choose one of "
                          f"{', '.join(TASK_KINDS)}"
                          + (f" (did you mean {close[0]!r}?)" if close else ""))
    return kind


def named_tasks(tasks: Sequence[EvalTaskConfig]) -> list[EvalTaskConfig]:
    """The tasks with distinct names: unnamed ones take their kind, a repeated kind name gets
    ``_2``, ``_3``, ...; two tasks given the same name are an error."""
    seen: dict[str, int] = {}
    named = []
    for task in tasks:
        name = task.name or task.kind
        if name in seen:
            if task.name and task.name != task.kind:
                raise ConfigError(f"two evaluation tasks are named {name!r}; give each a "
                                  "different name")
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        seen.setdefault(name, 1)
        named.append(dataclasses.replace(task, name=name))
    return named


def split_metric(metric: str, tasks: Sequence[EvalTaskConfig],
                 option: str = "selection_metric",
                 extra_tasks: Optional[dict] = None) -> tuple[str, str]:
    """``(task name, metric)`` of ``TASK:METRIC``, checked against the tasks' kinds.

    Args:
        metric: e.g. ``retrieval:ndcg@10``.
        tasks: the named tasks (:func:`named_tasks`).
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
    known = TASK_METRICS[kinds[name]]
    if figure not in known:
        close = difflib.get_close_matches(figure, known, n=1)
        raise ConfigError(f"{option} {metric!r}: a {kinds[name]} task reports "
                          f"{', '.join(known)}" + (f" (did you mean {name}:{close[0]}?)"
                                                   if close else ""))
    return name, figure
