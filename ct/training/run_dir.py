"""A run's output folder: never overwriting earlier results, resuming unfinished runs, free
space, and the files that say what the folder holds.

One set of rules serves a single-stage run, each stage of a pipeline and the pipeline itself:

- ``summary.json`` marks a finished (or stopped) run: the folder is never reused;
- ``config.yaml`` marks a started run: it resumes when the config is the same (options that do
  not change what a run computes, such as ``output_dir``, are ignored), and is refused with the
  differences named otherwise;
- anything else is a new run.

Example:
    >>> run_dir = RunDirectory("runs/ct")
    >>> resuming = run_dir.inspect(config_to_dict(config), resume=None)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Optional

import yaml

from ct.config import NOT_PART_OF_A_RUN, with_defaults
from ct.errors import OutputDirError
from ct.files import write_json_atomically
from ct.training.metrics_log import METRICS_FILE

SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.yaml"


class RunDirectory:
    """The output folder of a run (``kind="run"``) or of a pipeline of stages.

    Args:
        path: the folder.
        kind: ``"run"`` or ``"pipeline"``, for messages.
    """

    def __init__(self, path: str | os.PathLike, kind: str = "run"):
        self.path = Path(path)
        self.kind = kind

    # ------------------------------------------------------------------ state
    @property
    def summary_path(self) -> Path:
        return self.path / SUMMARY_FILE

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    def summary(self) -> Optional[dict]:
        """The run's ``summary.json``, or None while it is unfinished."""
        return json.loads(self.summary_path.read_text()) if self.summary_path.exists() else None

    def finished(self) -> bool:
        """True if the folder holds a run that finished (not one that stopped)."""
        summary = self.summary()
        return summary is not None and summary.get("status", "finished") == "finished"

    def started(self) -> bool:
        """True if a run started here (its config is saved) and did not end."""
        return self.config_path.exists() and not self.summary_path.exists()

    def saved_config(self) -> dict:
        """The saved config, with options added since it was saved set to their defaults."""
        return with_defaults(yaml.safe_load(self.config_path.read_text()) or {})

    # ------------------------------------------------------------------ policy
    def inspect(self, config: dict, resume: Optional[bool]) -> bool:
        """Decides between a new run and resuming; returns True to resume.

        Args:
            config: the current config as a dict.
            resume: True (must resume), False (must be new) or None (resume an unfinished
                run of the same config if there is one).

        Raises:
            OutputDirError: a finished run, an unfinished run of another config (differences
                named), nothing to resume with ``resume=True``, or an unusable path.
        """
        path = self.path
        if path.exists() and not path.is_dir():
            raise OutputDirError(f"output path {path} exists and is not a directory")
        summary = self.summary()
        if summary is not None:
            status = summary.get("status", "finished")
            raise OutputDirError(f"output directory {path} already holds a {status} "
                                 f"{self.kind} ({SUMMARY_FILE}); choose another --output-dir")
        if not self.started():
            if resume:
                raise OutputDirError(f"--resume: {path} holds no unfinished run")
            _check_writable(path)
            return False
        if resume is False:
            raise OutputDirError(f"output directory {path} already holds a started {self.kind} "
                                 f"({CONFIG_FILE}); choose another --output-dir")
        differences = config_differences(self.saved_config(), config)
        if differences:
            raise OutputDirError(
                f"output directory {path} holds an unfinished {self.kind} with a different "
                f"config ({'; '.join(differences[:5])}); resume with the same config or choose "
                "another --output-dir")
        _check_writable(path)
        return True

    # ------------------------------------------------------------------ writing
    def write_config(self, config: dict) -> None:
        """Saves the resolved config (``config.yaml``): from now on the run has started."""
        self.path.mkdir(parents=True, exist_ok=True)
        temporary = self.path / f".{CONFIG_FILE}.tmp"
        temporary.write_text(yaml.safe_dump(config, sort_keys=False))
        os.replace(temporary, self.config_path)

    def write_summary(self, summary: dict) -> None:
        """Writes ``summary.json`` atomically: from now on the run is finished (or stopped)."""
        write_json_atomically(self.summary_path, summary)

    def truncate_metrics(self, step: int) -> None:
        """Drops ``metrics.jsonl`` lines after ``step`` (written after the checkpoint that
        the run resumes from)."""
        path = self.path / METRICS_FILE
        if not path.exists():
            return
        kept = [line for line in path.read_text().splitlines()
                if line.strip() and json.loads(line)["step"] <= step]
        path.write_text("".join(line + "\n" for line in kept))


def run_finished(run_dir: str | os.PathLike) -> bool:
    """True if ``run_dir`` holds a finished run or stage (its ``summary.json`` says so)."""
    return RunDirectory(run_dir).finished()


def config_differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    """``["steps: 100 -> 200", ...]`` for keys whose values differ (options that do not change
    what a run computes are ignored)."""
    differences = []
    for key in sorted(set(saved) | set(current)):
        if key in NOT_PART_OF_A_RUN and not prefix:
            continue
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += config_differences(old, new, f"{prefix}{key}.")
        elif old != new:
            differences.append(f"{prefix}{key}: {old!r} -> {new!r}")
    return differences


def _check_writable(output_dir: Path) -> None:
    parent = output_dir if output_dir.exists() else existing_parent(output_dir)
    if not os.access(parent, os.W_OK):
        raise OutputDirError(f"cannot write to {parent}: permission denied")


def existing_parent(path: Path) -> Path:
    """The nearest existing folder at or above ``path``."""
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def weights_size(model_dir: Path) -> int:
    """Bytes of the checkpoint's weights (``tf_model.h5`` or ``*.safetensors``)."""
    files = list(model_dir.glob("tf_model.h5")) or list(model_dir.glob("*.safetensors"))
    return sum(f.stat().st_size for f in files)


# Optimizer slots per variable: RMSprop's accumulator, Adam's two moments.
OPTIMIZER_SLOTS = {"rmsprop": 1, "adam": 2, "adamw": 2, "sgd": 0}


def estimate_disk_use(model_dir: Path, num_models: int, optimizer: str, keep_last: int,
                      checkpoints: bool) -> dict:
    """Bytes a run writes, by part, from the size of the starting weights.

    A checkpoint holds the trained models and the optimizer's slots (``(1 + slots) x
    num_models`` times the weights); ``keep_last`` of them are kept, plus one being written.
    ``best/`` and ``final/`` each hold the weights twice (TF and PyTorch layouts), and one of
    them can have a staging copy while it is replaced.

    Returns:
        ``{"checkpoints": ..., "models": ..., "total": ...}`` in bytes.
    """
    size = weights_size(model_dir)
    per_checkpoint = (1 + OPTIMIZER_SLOTS.get(optimizer, 2)) * num_models * size
    checkpoint_bytes = per_checkpoint * (keep_last + 1) if checkpoints else 0
    model_bytes = 2 * size * 3
    return {"checkpoints": checkpoint_bytes, "models": model_bytes,
            "total": checkpoint_bytes + model_bytes}


def check_free_space(output_dir: Path, needed: int, keep_last: int) -> None:
    """Refuses to start when the disk cannot hold ``needed`` bytes.

    Raises:
        OutputDirError: less free space than that.
    """
    free = shutil.disk_usage(existing_parent(output_dir)).free
    if free < needed:
        raise OutputDirError(
            f"not enough free space in {existing_parent(output_dir)}: the run needs about "
            f"{needed / 1e9:.2f} GB (checkpoints with keep_last={keep_last} and exports), "
            f"{free / 1e9:.2f} GB free; free space, lower keep_last or set checkpoint_every=0")
