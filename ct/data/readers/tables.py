"""Rows of Parquet and Arrow tables, for the stages that read records rather than a corpus:
NLI pairs, STS-B pairs, align sentences.

A table is read like a Parquet or Arrow corpus file (:mod:`ct.data.readers.parquet_reader`,
:mod:`ct.data.readers.arrow_reader`): only the needed columns, a row group (or record batch)
at a time. Each needed column may go by several names (``sentence1`` or ``premise``); the
first one the file has is read, and a file with none of them is a :class:`DataError` naming
the columns it has.

Example:
    >>> for row, (premise, hypothesis, label) in table_rows(
    ...         Path("snli-train.parquet"), "NLI file",
    ...         [("sentence1", "premise"), ("sentence2", "hypothesis"), ("gold_label", "label")]):
    ...     ...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Sequence

from ct.data.readers.arrow_reader import arrow_batches
from ct.data.readers.columns import checked_batches, import_pyarrow
from ct.data.readers.parquet_reader import parquet_batches
from ct.errors import DataError

_OPENERS = {".parquet": parquet_batches, ".pq": parquet_batches,
            ".arrow": arrow_batches, ".feather": arrow_batches}


def is_table(path: str | Path) -> bool:
    """Whether ``path`` is a Parquet or Arrow file (by its suffix)."""
    return os.path.splitext(str(path))[1].lower() in _OPENERS


def table_rows(path: Path, what: str, columns: Sequence[Sequence[str]]
               ) -> Iterator[tuple[int, tuple]]:
    """Yields ``(row number from 1, values)`` of a Parquet or Arrow file, the values of
    ``columns`` (each given by its accepted names, the first present one read) as Python
    objects (``None`` for a null).

    Raises:
        DataError: an unreadable, truncated or corrupt file, or a needed column missing
            (naming the columns the file has).
    """
    import_pyarrow()  # a missing pyarrow is one error line before the file is opened
    path = Path(path)

    def choose(schema) -> list[str]:
        chosen = []
        for names in columns:
            name = next((n for n in names if n in schema.names), None)
            if name is None:
                raise DataError(f"{what} {path}: no column {' or '.join(map(repr, names))}; "
                                f"its columns: {', '.join(schema.names) or 'none'}")
            chosen.append(name)
        return chosen

    number = 0
    with _OPENERS[os.path.splitext(str(path))[1].lower()](path, choose) as batches:
        for batch in checked_batches(batches, lambda reason: (
                f"{what} {path}: truncated or corrupt file ({reason})")):
            for values in zip(*(column.to_pylist() for column in batch.columns)):
                number += 1
                yield number, values


def table_column_names(path: Path) -> list[str]:
    """The column names of a Parquet or Arrow file (its schema alone is read).

    Raises:
        DataError: an unreadable file.
    """
    names: list[str] = []
    with _OPENERS[os.path.splitext(str(path))[1].lower()](
            Path(path), lambda schema: names.extend(schema.names) or []):
        return names
