"""The run directory: never overwriting earlier results, resuming unfinished runs, free space,
and atomic model saves."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Optional

import yaml

from ct.config import with_defaults
from ct.errors import OutputDirError
from ct.training.metrics_log import METRICS_FILE

SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.yaml"
_IGNORED_FOR_RESUME = {"output_dir"}


def inspect_output_dir(output_dir: Path, config: dict, resume: Optional[bool]) -> bool:
    """Decides between a new run and resuming; returns True to resume.

    Args:
        output_dir: the run directory.
        config: the current config as a dict.
        resume: True (must resume), False (must be new) or None (resume an unfinished run of
            the same config if there is one).

    Raises:
        OutputDirError: a finished run, an unfinished run of another config (differences
            named), nothing to resume with ``resume=True``, or an unusable path.
    """
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputDirError(f"output path {output_dir} exists and is not a directory")
    if (output_dir / SUMMARY_FILE).exists():
        status = json.loads((output_dir / SUMMARY_FILE).read_text()).get("status", "finished")
        raise OutputDirError(f"output directory {output_dir} already holds a {status} run "
                             f"({SUMMARY_FILE}); choose another --output-dir")
    started = (output_dir / METRICS_FILE).exists() and (output_dir / CONFIG_FILE).exists()
    if not started:
        if resume:
            raise OutputDirError(f"--resume: {output_dir} holds no unfinished run")
        _check_writable(output_dir)
        return False
    if resume is False:
        raise OutputDirError(f"output directory {output_dir} already holds a started run "
                             f"({METRICS_FILE}); choose another --output-dir")
    saved = with_defaults(yaml.safe_load((output_dir / CONFIG_FILE).read_text()) or {})
    differences = config_differences(saved, config)
    if differences:
        raise OutputDirError(
            f"output directory {output_dir} holds an unfinished run with a different config "
            f"({'; '.join(differences[:5])}); resume with the same config or choose another "
            "--output-dir")
    _check_writable(output_dir)
    return True


def run_finished(run_dir: Path) -> bool:
    """True if ``run_dir`` holds a finished run or stage (its ``summary.json`` says so)."""
    done = Path(run_dir) / SUMMARY_FILE
    return done.exists() and json.loads(done.read_text()).get("status") == "finished"


def config_differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    """``["steps: 100 -> 200", ...]`` for keys whose values differ (output_dir ignored)."""
    differences = []
    for key in sorted(set(saved) | set(current)):
        if key in _IGNORED_FOR_RESUME and not prefix:
            continue
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += config_differences(old, new, f"{prefix}{key}.")
        elif old != new:
            differences.append(f"{prefix}{key}: {old!r} -> {new!r}")
    return differences


def _check_writable(output_dir: Path) -> None:
    parent = output_dir if output_dir.exists() else _existing_parent(output_dir)
    if not os.access(parent, os.W_OK):
        raise OutputDirError(f"cannot write to {parent}: permission denied")


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def weights_size(model_dir: Path) -> int:
    """Bytes of the checkpoint's weights (``tf_model.h5`` or ``*.safetensors``)."""
    files = list(model_dir.glob("tf_model.h5")) or list(model_dir.glob("*.safetensors"))
    return sum(f.stat().st_size for f in files)


def check_free_space(output_dir: Path, model_dir: Path, keep_last: int,
                     checkpoints: bool) -> int:
    """Refuses to start when the disk cannot hold the run's checkpoints and exports.

    A checkpoint holds both encoders and one optimizer slot per variable (about 4x the
    weights); ``keep_last`` of them plus one being written, and ``best/``, ``final/`` and a
    staging copy of one encoder, each saved twice (TF and PyTorch-layout weights).

    Returns:
        The estimated bytes needed.

    Raises:
        OutputDirError: less free space than that.
    """
    size = weights_size(model_dir)
    needed = size * ((4 * (keep_last + 1) if checkpoints else 0) + 6)
    free = shutil.disk_usage(_existing_parent(output_dir)).free
    if free < needed:
        raise OutputDirError(
            f"not enough free space in {_existing_parent(output_dir)}: the run needs about "
            f"{needed / 1e9:.2f} GB (checkpoints with keep_last={keep_last} and exports), "
            f"{free / 1e9:.2f} GB free; free space, lower keep_last or set checkpoint_every=0")
    return needed


def truncate_metrics(output_dir: Path, step: int) -> None:
    """Drops ``metrics.jsonl`` lines after ``step`` (written after the checkpoint resumed)."""
    path = output_dir / METRICS_FILE
    kept = [line for line in path.read_text().splitlines()
            if line.strip() and json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in kept))


def save_encoder_atomically(encoder, target: Path) -> None:
    """Saves ``encoder`` to ``target`` via a staging folder and renames, so a crash mid-save
    never leaves a half-written ``target``."""
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    encoder.save(staging)
    old = target.with_name(target.name + ".old")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
