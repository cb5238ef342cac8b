"""Parquet (how datasets on the Hugging Face hub are stored): the ``text_field`` column.

The file is read **row group by row group**, the needed column(s) alone: one row group's
column is decoded, its values are handed on ``ROWS_PER_BATCH`` rows at a time, and it is
released before the next row group is read, so memory holds one row group's column whatever
the file's size. The sentences are extracted once into the index's ``texts.bin`` (in the index
cache); training then reads sentences by number from there (a row group decoded for every
sentence drawn at random would cost a row group's decoding per sentence).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable, Iterator

from ct.data.corpus_index import BadLines, build_extracted_index
from ct.data.readers import CorpusReader, register
from ct.data.readers.columns import (ROWS_PER_BATCH, ColumnLines, check_text_column,
                                     import_pyarrow, one_line)
from ct.errors import DataError


def open_parquet(path: Path):
    """``pyarrow.parquet.ParquetFile`` of ``path``.

    Raises:
        DataError: not a Parquet file, or a truncated one (its footer is missing).
    """
    pa = import_pyarrow()
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(str(path))
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file, truncated or corrupt "
                        f"({one_line(exc)})") from None


def _row_groups(parquet, columns: list[str]) -> Iterator:
    """The record batches of ``columns``, one row group decoded at a time."""
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group, columns=columns)
        yield from table.to_batches(max_chunksize=ROWS_PER_BATCH)
        del table  # released before the next row group is decoded


@contextlib.contextmanager
def parquet_batches(path: Path, choose: Callable[[object], list[str]]):
    """The record batches of the columns ``choose(schema)`` names, row group by row group
    (a context manager: the file is closed at its end).

    Raises:
        DataError: an unreadable file, or what ``choose`` raises (a missing column).
    """
    parquet = open_parquet(path)
    try:
        yield _row_groups(parquet, choose(parquet.schema_arrow))
    finally:
        parquet.close()


@register
class ParquetReader(CorpusReader):
    """One sentence per line of the values of a string column (``text_field``)."""

    name = "parquet"
    suffixes = (".parquet", ".pq")
    uses_text_field = True
    compressible = False  # Parquet compresses its pages itself

    def build_index(self, path: Path, folder: Path, text_field: str, bad: BadLines) -> dict:
        with parquet_batches(path, lambda schema: check_text_column(schema, path,
                                                                    text_field)) as batches:
            lines = ColumnLines(batches, path, "Parquet")
            return build_extracted_index(iter(lines), folder, bad, lambda: lines.rows)
