"""Corpus readers: one module per file format, behind one interface, found by name.

A reader turns one corpus file into the index of :mod:`ct.data.corpus_index` (the offsets
and lengths of its sentences, and, unless the offsets point into the file itself, the
sentences extracted once into ``texts.bin``). :class:`ct.data.corpus.Corpus` never asks which
format a file is in: it asks :func:`get_reader`.

==========  ==============================  =====================================
format      files                           sentences
==========  ==============================  =====================================
``text``    anything else                   one per non-blank line
``jsonl``   ``.jsonl``, ``.json``           the ``text_field`` of each record
``csv``     ``.csv``, ``.tsv``              the ``text_field`` column of each row
``parquet`` ``.parquet``                    the ``text_field`` column, line by line
``arrow``   ``.arrow`` (``datasets``)       the ``text_field`` column, line by line
==========  ==============================  =====================================

Text, JSONL and CSV files may also be compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst``; see
:mod:`ct.data.readers.compression`): the format is named by the suffix before the codec's.

Example:
    >>> reader = get_reader(format_of(Path("shard-0001.parquet")))
    >>> meta = reader.build_index(path, staging_folder, "text", BadLines())
"""

from __future__ import annotations

import os
from pathlib import Path

from ct.data.corpus_index import BadLines
from ct.data.readers.compression import CODECS, without_compression
from ct.errors import DataError


class CorpusReader:
    """One corpus file format.

    Attributes:
        name: the ``corpus_format`` value.
        suffixes: file suffixes that ``corpus_format: auto`` reads with it (lower case).
        uses_text_field: whether ``text_field`` selects what is read (then it is part of the
            index's identity).
        compressible: whether a compressed file of this format is read.
    """

    name: str = ""
    suffixes: tuple[str, ...] = ()
    uses_text_field: bool = False
    compressible: bool = True

    def build_index(self, path: Path, folder: Path, text_field: str, bad: BadLines) -> dict:
        """Indexes ``path`` into ``folder`` (``starts.npy``, ``lengths.npy``, maybe
        ``texts.bin``); returns the rest of ``meta.json`` (see
        :func:`ct.data.corpus_index.build_text_index`).

        Raises:
            DataError: the file cannot be read as this format (named, with what to do).
        """
        raise NotImplementedError


READERS: dict[str, CorpusReader] = {}


def register(reader: type[CorpusReader]) -> type[CorpusReader]:
    """Class decorator: makes a reader available under its ``name``."""
    READERS[reader.name] = reader()
    return reader


def get_reader(name: str) -> CorpusReader:
    """The reader of format ``name``.

    Raises:
        DataError: no such format.
    """
    try:
        return READERS[name]
    except KeyError:
        raise DataError(f"unknown corpus format {name!r}; formats: "
                        f"{', '.join(sorted(READERS))}") from None


def format_of(path: Path) -> str:
    """The format ``corpus_format: auto`` reads ``path`` in: from its suffix (the one before a
    compression suffix), ``text`` when no reader claims it.

    Raises:
        DataError: a compressed file of a format that is not read compressed.
    """
    name = os.path.basename(str(path)).lower()
    stem, suffix = os.path.splitext(name)
    compressed = suffix in CODECS
    if compressed:
        suffix = os.path.splitext(stem)[1]
    for reader in READERS.values():
        if suffix in reader.suffixes:
            if compressed and not reader.compressible:
                raise DataError(f"{path}: {reader.name} files are compressed inside; give the "
                                f"uncompressed {without_compression(Path(path)).name}")
            return reader.name
    return "text"


# the formats, registered on import (each module registers its reader)
from ct.data.readers import (arrow_reader, csv_reader, jsonl_reader,  # noqa: E402,F401
                             parquet_reader, text_reader)
