"""Files and folders that appear whole: atomic JSON writes, atomically published folders, and
ordinary permissions.

A run that is killed at any moment must leave every folder it publishes (``best/``,
``final/``, checkpoints, exports) either complete or absent, and running the same command again
must finish the job. Folders are therefore written into a hidden staging folder beside the
target and renamed into place; a previous version is moved aside first and removed after, so a
reader sees the old folder, no folder, or the new one, never a mix. Leftover staging folders of
a killed process are removed by the next publish of the same target.

Written files get the permissions an ordinary ``open()`` would give (``0666`` minus the umask)
and folders ``0777`` minus the umask: some writers (``tempfile``, ``safetensors``) create
``0600`` files, which other users of a shared folder could not read.

Example:
    >>> publish_folder(lambda staging: encoder_save(staging), Path("runs/ct/final"))
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

_STAGING_SUFFIX = ".staging"
_OLD_SUFFIX = ".old"


def current_umask() -> int:
    """The process umask (read without changing it for longer than the call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_ordinary_permissions(path: str | os.PathLike) -> None:
    """Gives ``path`` (a file, or a folder and everything in it) the permissions of a file or
    folder created with the default mode under the current umask."""
    mask = current_umask()
    root = Path(path)
    if root.is_file():
        os.chmod(root, 0o666 & ~mask)
        return
    os.chmod(root, 0o777 & ~mask)
    for folder, folders, files in os.walk(root):
        for name in folders:
            os.chmod(os.path.join(folder, name), 0o777 & ~mask)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o666 & ~mask)


def write_json_atomically(path: str | os.PathLike, data) -> None:
    """Writes ``data`` as JSON to ``path`` via a temporary file, ``fsync`` and ``os.replace``:
    the file holds the old or the new content, never a part."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def staging_path(target: str | os.PathLike) -> Path:
    """The hidden staging folder used to publish ``target``."""
    target = Path(target)
    return target.with_name(f".{target.name}{_STAGING_SUFFIX}")


def publish_folder(write: Callable[[Path], object], target: str | os.PathLike) -> Path:
    """Builds a folder with ``write(staging)`` and moves it to ``target`` in one rename.

    Args:
        write: fills the (new, empty) staging folder it is given.
        target: where the folder appears; an existing folder there is replaced.

    Returns:
        ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(target)
    old = target.with_name(f".{target.name}{_OLD_SUFFIX}")
    shutil.rmtree(staging, ignore_errors=True)  # a killed publish's leftovers
    staging.mkdir()
    write(staging)
    apply_ordinary_permissions(staging)
    _fsync_tree(staging)
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    _fsync_directory(target.parent)
    shutil.rmtree(old, ignore_errors=True)
    return target


def copy_folder_atomically(source: str | os.PathLike, target: str | os.PathLike,
                           then: Callable[[Path], object] | None = None) -> Path:
    """Publishes a copy of ``source`` at ``target`` (replacing it), after ``then(staging)``
    has added to the copy (e.g. a model card)."""

    def write(staging: Path) -> None:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        if then is not None:
            then(staging)

    return publish_folder(write, target)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                os.fsync(handle.fileno())


def _fsync_directory(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
