"""Streaming UTF-8 line reading with errors that name the file and line; ``.gz``, ``.bz2``,
``.xz`` and ``.zst`` files are read decompressed (:mod:`ct.data.readers.compression`)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Optional

from ct.data.readers.compression import open_binary
from ct.errors import DataError
from ct.resources import resolve_path


def iter_decoded_lines(path: str | Path, what: str = "file",
                       on_bad_line: Optional[Callable[[str], None]] = None
                       ) -> Iterator[tuple[int, str]]:
    """Yields ``(line_number, text)`` one line at a time, line breaks removed.

    Args:
        path: a file path or ``bundled:NAME``.
        what: how to call the file in error messages (``"corpus file"``, ``"STS file"``).
        on_bad_line: if given, undecodable lines are passed to it (as the error message) and
            skipped instead of raising.

    Raises:
        DataError: missing, unreadable or directory path; undecodable bytes (file and line);
            a truncated or corrupt compressed file.
    """
    resolved = Path(resolve_path(str(path)))
    try:
        handle = open_binary(resolved)
    except FileNotFoundError:
        raise DataError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{what} {path} is a directory") from None
    except OSError as exc:
        raise DataError(f"cannot read {what} {path}: {exc.strerror}") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                message = (f"{resolved}:{number}: undecodable bytes (not UTF-8) at byte "
                           f"{exc.start} of the line")
                if on_bad_line is None:
                    raise DataError(message) from None
                on_bad_line(message)
                continue
            yield number, text.rstrip("\r\n")
