"""Plain text: one sentence per non-blank line, the file itself indexed in place.

A compressed file (``.txt.gz``, ``.bz2``, ``.xz``, ``.zst``) is decompressed once, as it is indexed,
into ``texts.bin`` beside its index (in the index cache, under the same key), so it gives the
same sentences as the uncompressed file and later starts read it like one.
"""

from __future__ import annotations

from pathlib import Path

from ct.data.corpus_index import BadLines, build_text_index
from ct.data.readers import CorpusReader, register
from ct.data.readers.compression import DecompressedFile, compression_of


@register
class TextReader(CorpusReader):
    """One sentence per line (UTF-8; blank lines skipped)."""

    name = "text"
    suffixes = (".txt",)

    def build_index(self, path: Path, folder: Path, text_field: str, bad: BadLines) -> dict:
        if compression_of(path) is None:
            return build_text_index(path, folder, bad)
        with DecompressedFile(path) as stream:
            return build_text_index(path, folder, bad, stream=stream)
