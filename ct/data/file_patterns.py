"""Data files named by paths, folders and globs, expanded in a reproducible order.

Every stage that reads files (the CT corpus, align, NLI) takes a list of:

- **files** (``bundled:NAME`` included);
- **folders**: every file under them, recursively, sorted by path (hidden files and folders,
  whose names start with a dot, left out), as wikiextractor and dataset dumps lay them out;
- **globs**, ``**`` matching any depth: their matching files, sorted.

An entry that cannot be read (a broken link, no permission, a folder that cannot be listed)
is a :class:`ct.errors.DataError` naming it.

Example:
    >>> expand_patterns(["wiki/", "extra/**/*.txt.gz"], "corpus")
"""

from __future__ import annotations

import glob
import os
import stat
from pathlib import Path
from typing import Callable, Optional, Sequence

from ct.errors import DataError
from ct.resources import resolve_path


def expand_patterns(patterns: Sequence[str], what: str,
                    folder_files: Optional[Callable[[Path], Optional[list[Path]]]] = None
                    ) -> list[Path]:
    """The files ``patterns`` name, pattern after pattern.

    Args:
        patterns: paths, ``bundled:`` names, folders or globs.
        what: how to call them in messages (``"corpus"``, ``"NLI"``).
        folder_files: a folder's files when it is a dataset of a known layout (or None: read
            the folder as a folder).

    Raises:
        DataError: a missing file, a glob matching no file, an empty folder, an unreadable
            entry.
    """
    files: list[Path] = []
    for pattern in patterns:
        resolved = resolve_path(str(pattern))
        if glob.has_magic(resolved):
            matches = [Path(m) for m in sorted(glob.glob(resolved, recursive=True))
                       if not Path(m).is_dir()]
            if not matches:
                raise DataError(f"{what} glob {pattern} matches no file")
            for match in matches:
                check_readable(match, f"{what} glob {pattern}")
        else:
            path = Path(resolved)
            if path.is_dir():
                matches = (folder_files(path) if folder_files else None) or \
                    _folder_files(path, f"{what} folder {pattern}")
            elif not path.exists():
                raise DataError(f"{what} file not found: {pattern}")
            else:
                check_readable(path, what)
                matches = [path]
        files.extend(matches)
    return files


def check_readable(path: str | Path, where: str) -> None:
    """Refuses an entry that cannot be read (a broken link, no read permission)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        raise DataError(f"{where}: {path} cannot be read (a broken link?)") from None
    if not stat.S_ISREG(mode):
        raise DataError(f"{where}: {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise DataError(f"{where}: cannot read {path}: permission denied")


def _folder_files(folder: Path, where: str) -> list[Path]:
    """Every file under ``folder`` (hidden ones left out), sorted by path."""
    def unreadable(exc: OSError):
        raise DataError(f"{where}: cannot read {exc.filename}: {exc.strerror or exc}")

    found: list[str] = []  # strings until sorted and checked: Paths cost 0.1 ms each
    for root, folders, names in os.walk(folder, onerror=unreadable):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [os.path.join(root, name) for name in names if not name.startswith(".")]
    found.sort()
    if not found:
        raise DataError(f"{where} holds no file")
    for path in found:
        check_readable(path, where)
    return [Path(path) for path in found]
