"""Run checkpoints that survive crashes: the model(s), optimizer, step, loss scale, RNG.

Layout under ``RUN_DIR/checkpoints/``::

    step-00000500/ckpt.index, ckpt.data-*   the tf.train.Checkpoint
    step-00000500/state.json                the trainer's own state (evaluations, best, ...)
    latest.json                             {"step": 500, "path": "step-00000500"}

A save writes into a hidden staging folder, renames it into place, then replaces
``latest.json`` atomically (``os.replace``). A crash at any point leaves ``latest.json``
pointing at the previous complete checkpoint; leftovers are cleaned on the next save.
Saving a step that already has a checkpoint (a SIGTERM on a checkpoint step) first moves the
old folder aside (``.step-N.old``) and deletes it only once the new one is in place. Should
``latest.json`` ever name a folder that is not complete, the newest complete checkpoint is
used instead (a moved-aside one included), never none. The
model holds the steps taken (the data stream's position) and the float16 loss scale; the
optimizer its slots and its iteration count (the learning-rate schedule's position, which
skipped steps do not advance).

Example:
    >>> checkpointer = RunCheckpointer(run_dir / "checkpoints", model, keep_last=3)
    >>> checkpointer.save(step=500, state={"evaluations": [...]})
    >>> step, state = checkpointer.restore_latest()
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Optional

from ct._keras import tf
from ct.files import apply_ordinary_permissions, write_json_atomically

logger = logging.getLogger(__name__)

LATEST_FILE = "latest.json"
STATE_FILE = "state.json"
_STEP_FOLDER = re.compile(r"^\.?step-(\d+)(\.old)?$")


def is_complete(folder: Path) -> bool:
    """True if ``folder`` holds a whole checkpoint (the state file is written last)."""
    return (folder / STATE_FILE).is_file() and (folder / "ckpt.index").is_file()


def complete_checkpoints(directory: Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` of every complete checkpoint in ``directory``, newest last (a
    moved-aside ``.step-N.old`` copy counts when ``step-N`` itself is missing)."""
    found: dict[int, Path] = {}
    for folder in directory.glob("*step-*"):
        match = _STEP_FOLDER.match(folder.name)
        if match and folder.is_dir() and is_complete(folder):
            step = int(match.group(1))
            if step not in found or not match.group(2):  # prefer step-N over .step-N.old
                found[step] = folder
    return sorted(found.items())


class RunCheckpointer:
    """Saves and restores a CT run.

    Args:
        directory: ``RUN_DIR/checkpoints``.
        model: the training model (its variables include the encoders and the step counter).
        keep_last: complete checkpoints to keep.
    """

    def __init__(self, directory: str | os.PathLike, model, keep_last: int = 3):
        self.directory = Path(directory)
        self.keep_last = keep_last
        self.checkpoint = tf.train.Checkpoint(
            model=model, optimizer=model.optimizer, rng=tf.random.get_global_generator())

    def latest(self, directory: Optional[Path] = None) -> Optional[dict]:
        """``{"step", "path"}`` of the newest complete checkpoint in ``directory`` (default:
        this checkpointer's), or None: the one ``latest.json`` names, else (a kill while
        a checkpoint was being replaced) the newest complete folder."""
        directory = Path(directory or self.directory)
        pointer = directory / LATEST_FILE
        if pointer.exists():
            latest = json.loads(pointer.read_text())
            if is_complete(directory / latest["path"]):
                return latest
        complete = complete_checkpoints(directory) if directory.is_dir() else []
        if not complete:
            return None
        step, folder = complete[-1]
        logger.warning("%s does not name a complete checkpoint; using %s (step %d)",
                       pointer, folder.name, step)
        return {"step": step, "path": folder.name}

    def save(self, step: int, state: dict) -> Path:
        """Writes a complete checkpoint for ``step``; returns its folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"step-{step:08d}"
        staging = self.directory / f".{name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        self.checkpoint.write(str(staging / "ckpt"))
        write_json_atomically(staging / STATE_FILE, {"step": step, **state})
        apply_ordinary_permissions(staging)
        target = self.directory / name
        aside = self.directory / f".{name}.old"
        if target.exists():  # the same step again: keep the old copy until the new is in
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(target, aside)
        os.replace(staging, target)
        write_json_atomically(self.directory / LATEST_FILE, {"step": step, "path": name})
        shutil.rmtree(aside, ignore_errors=True)
        self._prune(keep=name)
        logger.debug("checkpoint saved at step %d", step)
        return target

    def restore_latest(self, directory: Optional[Path] = None) -> Optional[tuple[int, dict]]:
        """Restores the newest complete checkpoint; returns ``(step, state)`` or None.

        Args:
            directory: where to read from (default: where this checkpointer writes); in
                multi-worker runs every worker reads the chief's checkpoints.
        """
        directory = Path(directory or self.directory)
        latest = self.latest(directory)
        if latest is None:
            return None
        folder = directory / latest["path"]
        self.checkpoint.read(str(folder / "ckpt")).assert_existing_objects_matched()
        state = json.loads((folder / STATE_FILE).read_text())
        return latest["step"], state

    def _prune(self, keep: str) -> None:
        complete = sorted(p for p in self.directory.glob("step-*") if p.is_dir())
        for old in complete[:-self.keep_last]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
        for pattern in (".step-*.tmp", ".step-*.old"):
            for leftover in self.directory.glob(pattern):
                shutil.rmtree(leftover, ignore_errors=True)
