"""The results of a search: the trials table (stdout and ``trials.csv``), ``best_config.yaml``
and ``search.png`` (the objective per trial, and against the most influential parameter)."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import warnings
from pathlib import Path
from typing import Any, Optional

import yaml

from ct.config import config_to_dict
from ct.tuning.objectives import Objective

TRIALS_FILE = "trials.csv"
BEST_CONFIG_FILE = "best_config.yaml"
PLOT_FILE = "search.png"


@dataclasses.dataclass
class TrialRecord:
    """One trial of a search.

    Args:
        number: keras-tuner's trial id as a number (the folder is ``trials/trial_NNN``).
        values: the searched options, ``{dotted key: value}`` (with ``steps`` for Hyperband).
        status: keras-tuner's status: ``COMPLETED``, ``FAILED``, or ``RUNNING`` (unfinished).
        objective: the trial's objective value (the mean over its executions).
        seconds: wall time of the trial's runs in the process that finished it.
        message: why a trial failed.
    """

    number: int
    values: dict
    status: str
    objective: Optional[float] = None
    seconds: Optional[float] = None
    message: str = ""

    @property
    def name(self) -> str:
        return f"trial_{self.number:03d}"


@dataclasses.dataclass
class SearchResult:
    """What ``ct tune`` reports: every trial, the best one and the files written."""

    objective: Objective
    keys: list[str]
    trials: list[TrialRecord]
    best: Optional[TrialRecord]
    trials_run: int  # trials that trained in this process (a resumed one included)
    output_dir: Path
    influence: Optional[tuple[str, float]] = None  # (key, Spearman) of the plot's x axis
    files: list[Path] = dataclasses.field(default_factory=list)


def format_value(value: Any, precise: bool = False) -> str:
    """A value for the table (4 significant digits) or, ``precise``, for ``trials.csv``."""
    if isinstance(value, float):
        return repr(value) if precise else f"{value:.4g}"
    if isinstance(value, (list, dict)) or value is None:
        return json.dumps(value)
    return str(value)


def _row(trial: TrialRecord, keys: list[str], precise: bool = False) -> list[str]:
    objective = "" if trial.objective is None else (
        repr(trial.objective) if precise else f"{trial.objective:.4f}")
    seconds = "" if trial.seconds is None else f"{trial.seconds:.1f}"
    return [trial.name, *(format_value(trial.values.get(k), precise) for k in keys), objective,
            trial.status, seconds]


def write_trials_csv(result: SearchResult, path: Path) -> Path:
    """``trials.csv``: trial, each searched option, the objective, status, seconds, message."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trial", *result.keys, result.objective.name, "status", "seconds",
                         "message"])
        for trial in result.trials:
            writer.writerow([*_row(trial, result.keys, precise=True), trial.message])
    return path


def format_trials_table(result: SearchResult) -> str:
    """The table ``ct tune`` prints: a row per trial, the best marked with ``*``."""
    header = ["trial", *result.keys, result.objective.name, "status", "seconds"]
    rows = [_row(t, result.keys) for t in result.trials]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    for trial, row in zip(result.trials, rows):
        mark = "* " if result.best is trial else "  "
        lines.append(mark + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if trial.message:
            lines.append(f"    {trial.message}")
    return "\n".join(lines)


def write_best_config(config, best: TrialRecord, result: SearchResult, path: Path) -> Path:
    """``best_config.yaml``: the best trial's training config, which ``ct train`` accepts."""
    data = config_to_dict(config)
    data["output_dir"] = None
    searched = ", ".join(f"{k} = {format_value(best.values[k])}" for k in result.keys)
    header = (f"# The best trial of `ct tune` in {result.output_dir}: {best.name}, "
              f"{result.objective.name} = {best.objective:.4f} ({result.objective.direction})\n"
              f"# searched: {searched}\n"
              f"# its model: {result.output_dir / 'trials' / best.name}; train it again with\n"
              f"#   ct train {path} --output-dir runs/best\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _numeric(values: list) -> tuple[list[float], Optional[list[str]]]:
    """Numbers to correlate and plot: the values themselves, or category positions (with
    their labels) for strings, booleans and lists."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], None
    labels = sorted({format_value(v) for v in values})
    return [float(labels.index(format_value(v))) for v in values], labels


def most_influential(result: SearchResult) -> Optional[tuple[str, float]]:
    """The searched option whose values have the largest absolute Spearman correlation with
    the objective over the completed trials: ``(key, rho)`` (rho 0 when it cannot be
    computed, e.g. with fewer than 3 trials or a single value)."""
    from scipy.stats import spearmanr

    done = [t for t in result.trials if t.objective is not None]
    if not result.keys:
        return None
    scores = {}
    for key in result.keys:
        x, _ = _numeric([t.values.get(key) for t in done])
        y = [t.objective for t in done]
        rho = 0.0
        if len(done) >= 3 and len(set(x)) > 1 and len(set(y)) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rho = float(spearmanr(x, y)[0])
        scores[key] = 0.0 if math.isnan(rho) else rho
    key = max(result.keys, key=lambda k: abs(scores[k]))  # the first on ties
    return key, scores[key]


def plot_search(result: SearchResult, path: Path, log_keys: set[str]) -> Path:
    """``search.png``: the objective per trial with the best so far, and the objective
    against the most influential option (log x axis for log-uniform options)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    name = result.objective.name
    done = [t for t in result.trials if t.objective is not None]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    axis = axes[0]
    axis.plot([t.number for t in done], [t.objective for t in done], "o", color="black",
              label="trial")
    best, best_so_far = None, []
    pick = max if result.objective.direction == "max" else min
    for trial in done:
        best = trial.objective if best is None else pick(best, trial.objective)
        best_so_far.append(best)
    axis.step([t.number for t in done], best_so_far, where="post", color="tab:blue",
              label="best so far")
    failed = [t.number for t in result.trials if t.status == "FAILED"]
    for number in failed:
        axis.axvline(number, color="tab:red", alpha=0.3)
    axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axis.set_xlabel("trial")
    axis.set_ylabel(name)
    axis.set_title(f"{name} per trial ({len(done)} completed"
                   + (f", {len(failed)} failed in red)" if failed else ")"))
    axis.legend()
    axis = axes[1]
    if result.influence and done:
        key, rho = result.influence
        x, labels = _numeric([t.values.get(key) for t in done])
        axis.plot(x, [t.objective for t in done], "o", color="black")
        for trial, x_value in zip(done, x):
            axis.annotate(str(trial.number), (x_value, trial.objective), fontsize=8,
                          xytext=(3, 3), textcoords="offset points")
        if labels:
            axis.set_xticks(range(len(labels)), labels)
        elif key in log_keys:
            axis.set_xscale("log")
        axis.set_xlabel(key)
        axis.set_ylabel(name)
        axis.set_title(f"{name} vs {key}\n(Spearman {rho:+.2f} over {len(done)} trials)")
    else:
        axis.text(0.5, 0.5, "no completed trial", ha="center", va="center")
    for axis in axes:
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
