"""Reading the records of dev-set files: JSON Lines objects and header-named table rows, each
with its line number, so a reader can name the file and line of a bad record.

Example:
    >>> for number, record in jsonl_objects("dev.jsonl", "reranking file", ("query",)):
    ...     print(number, record["query"])
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterator, Sequence

from ct.data.text_files import iter_decoded_lines
from ct.errors import DataError
from ct.resources import resolve_path

_BOM = "\ufeff"


def _non_blank_lines(path: str | Path, what: str, current: list) -> Iterator[str]:
    """The file's non-blank lines; ``current[0]`` is the number of the line last read."""
    for number, line in iter_decoded_lines(path, what):
        if number == 1:
            line = line.lstrip(_BOM)
        if line.strip():
            current[0] = number
            yield line


def jsonl_objects(path: str | Path, what: str,
                  required: Sequence[str] = ()) -> Iterator[tuple[int, dict]]:
    """Yields ``(line_number, object)`` for each non-blank line of a JSON Lines file.

    Args:
        path: the file (or ``bundled:NAME``).
        what: how to call the file in messages (``"queries file"``).
        required: keys every object must have.

    Raises:
        DataError: a missing file, a line that is not a JSON object, or a missing key (naming
            the file and line).
    """
    source = resolve_path(str(path))
    current = [0]
    for line in _non_blank_lines(path, what, current):
        number = current[0]
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{source}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{source}:{number}: expected a JSON object with "
                            f"{', '.join(required)}, got {type(record).__name__}")
        for key in required:
            if key not in record:
                raise DataError(f"{source}:{number}: no key {key!r} (each line of a {what} "
                                f"holds {', '.join(required)})")
        yield number, record


def table_rows(path: str | Path, what: str, columns: Sequence[str],
               delimiter: str = "\t") -> Iterator[tuple[int, list[str]]]:
    """Yields ``(line_number, [value of each of columns])`` of a table whose first non-blank
    row is a header naming ``columns`` (in any order, among others).

    Tab-separated tables take every line as one row, quote characters included (sentences
    hold quotes); comma-separated ones follow CSV quoting.

    Raises:
        DataError: a missing file, a header without one of ``columns``, or a short row
            (naming the file and line).
    """
    source = resolve_path(str(path))
    current = [0]
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    rows = csv.reader(_non_blank_lines(path, what, current), delimiter=delimiter,
                      quoting=quoting)
    index = None
    for fields in rows:
        number = current[0]
        if index is None:
            header = [field.strip() for field in fields]
            missing = [name for name in columns if name not in header]
            if missing:
                shown = ", ".join(header[:10]) + (" ..." if len(header) > 10 else "")
                separator = "tab" if delimiter == "\t" else repr(delimiter)
                raise DataError(f"{source}:{number}: the header row ({separator}-separated) "
                                f"must name {', '.join(columns)}; no column "
                                f"{', '.join(missing)} in: {shown}")
            index = [header.index(name) for name in columns]
            continue
        if len(fields) <= max(index):
            raise DataError(f"{source}:{number}: expected at least {max(index) + 1} columns "
                            f"({', '.join(columns)}), got {len(fields)}")
        yield number, [fields[i] for i in index]
    if index is None:
        raise DataError(f"{what} {source} is empty (expected a header row naming "
                        f"{', '.join(columns)})")
