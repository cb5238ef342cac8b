"""CSV and TSV: the ``text_field`` column of each row, extracted once into the index."""

from __future__ import annotations

import csv
from pathlib import Path

from ct.data.corpus_index import BadLines, build_extracted_index
from ct.data.readers import CorpusReader, register
from ct.data.readers.compression import without_compression
from ct.data.readers.lines import LineReader
from ct.errors import DataError


def csv_sentences(path: Path, text_field: str, bad: BadLines, reader: LineReader):
    """The ``text_field`` column of every CSV/TSV row (quoted fields may span lines).

    Raises:
        DataError: the header has no such column.
    """
    delimiter = "\t" if without_compression(path).suffix.lower() == ".tsv" else ","
    rows = csv.reader((line + "\n" for _, line in reader), delimiter=delimiter)
    try:
        header = next(rows)
    except StopIteration:
        return
    if text_field not in header:
        raise DataError(f"{path}:1: no column {text_field!r} in the header "
                        f"({', '.join(header[:10])}); set text_field")
    column = header.index(text_field)
    for row in rows:
        if not row:
            continue
        if column >= len(row):
            bad.add(f"{path}:{rows.line_num}: row has {len(row)} columns, column "
                    f"{text_field!r} is number {column + 1}")
            continue
        yield row[column]


@register
class CSVReader(CorpusReader):
    """A header row, then one row per record; the sentence is the ``text_field`` column."""

    name = "csv"
    suffixes = (".csv", ".tsv")
    uses_text_field = True

    def build_index(self, path: Path, folder: Path, text_field: str, bad: BadLines) -> dict:
        reader = LineReader(path, bad)
        return build_extracted_index(csv_sentences(path, text_field, bad, reader), folder,
                                     bad, lambda: reader.lines)
