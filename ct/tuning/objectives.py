"""What a search optimises: a figure every ``ct train`` run writes to its ``summary.json``.

=================  =========  ==========================================================
objective          direction  value (of the last stage, for a pipeline)
=================  =========  ==========================================================
``stsb_dev``       max        STS-B dev Spearman x100 of the kept model (needs ``sts_dev``)
``final_loss``     min        mean training loss over the last logged steps
``pairs_per_s``    max        training throughput, pairs per second
``tokens_per_s``   max        training throughput, tokens per second
``TASK:METRIC``    max        a metric of the kept model on one of ``eval_tasks``, e.g.
                              ``retrieval:ndcg@10`` (a fraction; pair it with the same
                              ``selection_metric`` so each run keeps its model by it too)
=================  =========  ==========================================================

Example:
    >>> objective = get_objective("stsb_dev", load_config("configs/ct_paper.yaml"))
    >>> objective.direction
    'max'
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path
from typing import Optional

from ct.config import TrainConfig
from ct.errors import ConfigError
from ct.training.run_dir import SUMMARY_FILE


@dataclasses.dataclass(frozen=True)
class Objective:
    """A figure of a finished run and whether a search maximises or minimises it."""

    name: str
    direction: str
    description: str

    def read(self, run_dir: str | Path) -> Optional[float]:
        """The figure of the finished run in ``run_dir`` (None if the run did not log it)."""
        summary = last_stage_summary(run_dir)
        if self.name == "stsb_dev":
            return (summary.get("kept") or {}).get("stsb_dev_spearman")
        if ":" in self.name:  # TASK:METRIC of the kept model
            kept = summary.get("kept") or {}
            if kept.get("selection_metric") == self.name:
                return kept.get("score")
            task, metric = self.name.split(":", 1)
            return ((summary.get("eval_tasks") or {}).get(task) or {}).get(metric)
        return summary.get(self.name)


TUNE_OBJECTIVES = {
    "stsb_dev": Objective("stsb_dev", "max", "STS-B dev Spearman x100 of the kept model"),
    "final_loss": Objective("final_loss", "min", "mean training loss of the last logged steps"),
    "pairs_per_s": Objective("pairs_per_s", "max", "training pairs per second"),
    "tokens_per_s": Objective("tokens_per_s", "max", "training tokens per second"),
}


def get_objective(name: str, config: TrainConfig) -> Objective:
    """The objective called ``name``, checked against what runs of ``config`` log.

    Raises:
        ConfigError: an unknown objective (with a suggestion), ``stsb_dev`` without an
            STS-B dev set to evaluate on, or a ``TASK:METRIC`` that no task of ``eval_tasks``
            reports.
    """
    if ":" in name:
        from ct.config.eval_tasks import named_tasks, split_metric

        _, metric = split_metric(name, named_tasks(config.eval_tasks), option="tune.objective")
        if metric.endswith("_threshold"):
            raise ConfigError(f"tune.objective {name}: a threshold is not a score to maximise")
        return Objective(name, "max", f"{name} of the kept model")
    if name not in TUNE_OBJECTIVES:
        close = difflib.get_close_matches(name, list(TUNE_OBJECTIVES), n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ConfigError(f"tune.objective '{name}' is not a figure ct runs log; {hint}"
                          f"choose one of {', '.join(TUNE_OBJECTIVES)}, or TASK:METRIC of "
                          "eval_tasks (e.g. retrieval:ndcg@10)")
    if name == "stsb_dev" and not config.sts_dev:
        raise ConfigError("tune.objective stsb_dev needs STS-B dev evaluation, but sts_dev is "
                          "null; set sts_dev or choose tune.objective: final_loss")
    return TUNE_OBJECTIVES[name]


def last_stage_summary(run_dir: str | Path) -> dict:
    """The ``summary.json`` of a finished run, or of its last stage for a pipeline."""
    summary = json.loads((Path(run_dir) / SUMMARY_FILE).read_text())
    stages = summary.get("stages") or []
    if len(stages) > 1:
        # the stage folders sit in the run folder (the recorded path may be relative)
        stage_dir = Path(run_dir) / Path(stages[-1]["folder"]).name
        return json.loads((stage_dir / SUMMARY_FILE).read_text())
    return summary
