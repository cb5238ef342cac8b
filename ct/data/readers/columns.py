"""What the columnar readers (Parquet, Arrow) share: pyarrow, the text column, its lines."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from ct.errors import DataError

ROWS_PER_BATCH = 65_536  # rows decoded at a time: memory stays bounded whatever the file


def import_pyarrow():
    """Imports pyarrow, or raises a DataError with the install line."""
    try:
        import pyarrow
    except ImportError:
        raise DataError("reading Parquet and Arrow corpora needs pyarrow: "
                        "pip install pyarrow") from None
    return pyarrow


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_text_column(schema, path: Path, text_field: str) -> list[str]:
    """Refuses a file without a string column ``text_field``, naming the columns it has;
    returns ``[text_field]`` (the columns to read).

    Raises:
        DataError: no such column, or not a string column.
    """
    pa = import_pyarrow()
    if text_field not in schema.names:
        raise DataError(f"{path}: no column {text_field!r}; its columns: "
                        f"{', '.join(schema.names) or 'none'}; set text_field to the one "
                        "holding the sentences")
    kind = schema.field(text_field).type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or getattr(pa.types, "is_string_view", lambda _: False)(kind)):
        raise DataError(f"{path}: column {text_field!r} holds {kind}, not text; set "
                        "text_field to a string column")
    return [text_field]


def checked_batches(batches: Iterable, message) -> Iterator:
    """The record batches of ``batches``; an Arrow or I/O error while reading one (a
    truncated or corrupt file) becomes one :class:`DataError` line, ``message(reason)``."""
    pa = import_pyarrow()
    batches = iter(batches)
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:
            raise DataError(message(one_line(exc))) from None
        if batch is None:
            return
        yield batch


class ColumnLines:
    """The lines of a text column, batch after batch: each value is split at line breaks
    (a value with ``n`` lines gives ``n`` sentences, as the text file holding the values one
    after the other would); nulls are skipped. ``rows`` counts the rows read."""

    def __init__(self, batches: Iterable, path: Path, what: str):
        self.batches, self.path, self.what, self.rows = batches, path, what, 0

    def __iter__(self) -> Iterator[str]:
        for batch in checked_batches(self.batches, lambda reason: (
                f"{self.path}: truncated or corrupt {self.what} file ({reason})")):
            values = batch.column(0).to_pylist()
            self.rows += len(values)
            for value in values:
                if value is None:
                    continue
                if "\n" in value:
                    yield from value.split("\n")
                else:
                    yield value
