"""The run directory: refusing to overwrite earlier runs, and atomic model saves."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ct.errors import OutputDirError
from ct.training.metrics_log import METRICS_FILE

SUMMARY_FILE = "summary.json"


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


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


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
