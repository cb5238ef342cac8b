"""Parquet (how datasets on the Hugging Face hub are stored): the ``text_field`` column.

The column alone is read, ``ROWS_PER_BATCH`` rows at a time, row group after row group, and
its sentences are extracted once into the index's ``texts.bin``: the file is never in memory
as a whole, and training reads sentences by number from there (a row group decoded for every
sentence drawn at random would cost a row group's decoding per sentence).
"""

from __future__ import annotations

from pathlib import Path

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


@register
class ParquetReader(CorpusReader):
    """One sentence per line of the values of a string column (``text_field``)."""

    name = "parquet"
    suffixes = (".parquet", ".pq")
    uses_text_field = True
    compressible = False  # Parquet compresses its pages itself

    def build_index(self, path: Path, folder: Path, text_field: str, bad: BadLines) -> dict:
        parquet = open_parquet(path)
        try:
            check_text_column(parquet.schema_arrow, path, text_field)
            lines = ColumnLines(parquet.iter_batches(batch_size=ROWS_PER_BATCH,
                                                     columns=[text_field]), path, "Parquet")
            return build_extracted_index(iter(lines), folder, bad, lambda: lines.rows)
        finally:
            parquet.close()
