"""The STS table of the CT and SimCSE papers, from SentEval's file layout or single files.

SentEval layout (``DATA_DIR``)::

    STS/STS12-en-test/STS.input.<subset>.txt + STS.gs.<subset>.txt   (also STS13..STS16)
    STS/STSBenchmark/sts-dev.csv, sts-test.csv
    SICK/SICK_test_annotated.txt

Aggregations, all correlations x100 of cosine similarity vs gold:

- per STS12-16 subset: the subset's own correlation;
- ``mean``: the mean of a task's subset correlations (SentEval's "mean");
- ``all``: one correlation over a task's subsets concatenated (SimCSE's "all" setting);
- ``avg``: the summary row of the CT paper's table, the mean over STS12, STS13, STS14, STS15,
  STS16 (their ``all`` figure, or ``mean`` with ``avg_from="mean"``), STS-B test and SICK-R.
  If a task is missing, ``avg`` is over the tasks present and says so.

Example:
    >>> results = evaluate_senteval(encoder, "data/SentEval")
    >>> print(format_results_table(results))
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ct.data.sts import STSPairs, read_senteval_subset, read_sick, read_sts_benchmark, read_sts_file
from ct.errors import DataError
from ct.evaluation.sts import correlations, pair_similarities

STS_YEAR_TASKS = ("STS12", "STS13", "STS14", "STS15", "STS16")
AVG_TASKS = (*STS_YEAR_TASKS, "STSBenchmark-test", "SICK-R")


def discover_senteval(data_dir: str | Path) -> tuple[dict[str, dict[str, STSPairs]], list[str]]:
    """Finds and reads whatever SentEval STS tasks are present under ``data_dir``.

    Returns:
        ``(tasks, missing)``: ``tasks`` maps a task name to ``{subset: pairs}`` (single-file
        tasks have one subset named after the task); ``missing`` lists absent tasks.

    Raises:
        DataError: ``data_dir`` is not a directory, or a present file is malformed.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise DataError(f"SentEval data directory not found: {data_dir}")
    tasks: dict[str, dict[str, STSPairs]] = {}
    missing: list[str] = []
    for task in STS_YEAR_TASKS:
        folder = root / "STS" / f"{task}-en-test"
        subsets = {}
        for input_file in sorted(folder.glob("STS.input.*.txt")):
            name = input_file.name[len("STS.input."):-len(".txt")]
            gold_file = folder / f"STS.gs.{name}.txt"
            if not gold_file.exists():
                raise DataError(f"{input_file} has no gold file {gold_file.name} beside it")
            subsets[name] = read_senteval_subset(input_file, gold_file)
        if subsets:
            tasks[task] = subsets
        else:
            missing.append(task)
    singles = {"STSBenchmark-dev": (root / "STS" / "STSBenchmark" / "sts-dev.csv",
                                    read_sts_benchmark),
               "STSBenchmark-test": (root / "STS" / "STSBenchmark" / "sts-test.csv",
                                     read_sts_benchmark),
               "SICK-R": (root / "SICK" / "SICK_test_annotated.txt", read_sick)}
    for task, (path, reader) in singles.items():
        if path.exists():
            tasks[task] = {task: reader(str(path))}
        else:
            missing.append(task)
    return tasks, missing


def evaluate_tasks(encoder, tasks: dict[str, dict[str, STSPairs]], missing: Sequence[str] = (),
                   batch_size: int = 64, avg_from: str = "all",
                   show_progress: bool = False) -> dict:
    """Scores ``encoder`` on ``tasks``; all sentences are embedded in one pass.

    Returns:
        ``{"tasks": {...}, "missing": [...], "avg": {...}}``. A multi-subset task has
        ``subsets``, ``mean`` and ``all``; a single-file task has ``spearman``, ``pearson``
        and ``num_pairs``.
    """
    flat = [(task, subset, pairs) for task, subsets in tasks.items()
            for subset, pairs in subsets.items()]
    similarities = pair_similarities(encoder, [pairs for _, _, pairs in flat], batch_size,
                                     show_progress=show_progress)
    results: dict = {"tasks": {}, "missing": list(missing)}
    by_task: dict[str, list] = {}
    for (task, subset, pairs), sims in zip(flat, similarities):
        by_task.setdefault(task, []).append((subset, pairs, sims))
    for task, entries in by_task.items():
        if task not in STS_YEAR_TASKS:
            _, pairs, sims = entries[0]
            results["tasks"][task] = correlations(sims, pairs.scores)
            continue
        subsets = {subset: correlations(sims, pairs.scores) for subset, pairs, sims in entries}
        concatenated = correlations(np.concatenate([sims for _, _, sims in entries]),
                                    [s for _, pairs, _ in entries for s in pairs.scores])
        results["tasks"][task] = {
            "subsets": subsets,
            "mean": {metric: float(np.mean([r[metric] for r in subsets.values()]))
                     for metric in ("spearman", "pearson")},
            "all": concatenated,
        }
    results["avg"] = _paper_average(results["tasks"], avg_from)
    return results


def _paper_average(task_results: dict, avg_from: str) -> dict:
    used, spearman, pearson = [], [], []
    for task in AVG_TASKS:
        if task not in task_results:
            continue
        figure = task_results[task]
        if task in STS_YEAR_TASKS:
            figure = figure[avg_from]
        used.append(task)
        spearman.append(figure["spearman"])
        pearson.append(figure["pearson"])
    return {"spearman": float(np.mean(spearman)) if used else None,
            "pearson": float(np.mean(pearson)) if used else None,
            "tasks": used, "complete": len(used) == len(AVG_TASKS),
            "sts12_16_figure": avg_from}


def evaluate_senteval(encoder, data_dir: str | Path, batch_size: int = 64,
                      avg_from: str = "all", show_progress: bool = False) -> dict:
    """Discovers the SentEval layout under ``data_dir`` and scores ``encoder`` on it."""
    tasks, missing = discover_senteval(data_dir)
    if not tasks:
        raise DataError(f"no SentEval STS task found under {data_dir} (expected STS/STS12-en-test"
                        "/STS.input.*.txt, STS/STSBenchmark/sts-test.csv or "
                        "SICK/SICK_test_annotated.txt)")
    return evaluate_tasks(encoder, tasks, missing, batch_size, avg_from, show_progress)


def sts_file_tasks(paths: Sequence[str], format: str = "auto") -> dict[str, dict[str, STSPairs]]:
    """One task per file, named after the file, for ``ct eval --sts FILE``."""
    tasks = {}
    for path in paths:
        name = Path(path).name
        while name in tasks:
            name += "'"
        tasks[name] = {name: read_sts_file(path, format)}
    return tasks


def format_results_table(results: dict) -> str:
    """A readable table: one row per subset and aggregate, then the CT paper's avg."""
    rows = [("task", "subset", "pairs", "spearman", "pearson")]
    for task, result in results["tasks"].items():
        if "subsets" in result:
            for subset, r in result["subsets"].items():
                rows.append((task, subset, str(r["num_pairs"]), f"{r['spearman']:.2f}",
                             f"{r['pearson']:.2f}"))
            mean = result["mean"]
            rows.append((task, "mean of subsets", "", f"{mean['spearman']:.2f}",
                         f"{mean['pearson']:.2f}"))
            everything = result["all"]
            rows.append((task, "all (concatenated)", str(everything["num_pairs"]),
                         f"{everything['spearman']:.2f}", f"{everything['pearson']:.2f}"))
        else:
            rows.append((task, "", str(result["num_pairs"]), f"{result['spearman']:.2f}",
                         f"{result['pearson']:.2f}"))
    for task in results.get("missing", []):
        rows.append((task, "missing", "", "-", "-"))
    avg = results.get("avg") or {}
    if avg.get("tasks"):
        label = "avg" if avg["complete"] else f"avg of {len(avg['tasks'])}/{len(AVG_TASKS)}"
        rows.append((label, f"STS12-16 '{avg['sts12_16_figure']}', STS-B test, SICK-R", "",
                     f"{avg['spearman']:.2f}", f"{avg['pearson']:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)).rstrip())
        if number == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)
