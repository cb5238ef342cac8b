"""Compressed files read as their decompressed bytes: ``.gz``, ``.bz2`` and ``.xz``.

Dumps are shipped compressed; any file ct reads line by line (a corpus, align, NLI or STS
file) may be compressed with one of these, recognised by its last suffix. A truncated or
corrupt file is a :class:`ct.errors.DataError` naming the file, never a traceback.

Example:
    >>> with open_binary(Path("wiki.txt.gz")) as handle:
    ...     first = handle.readline()
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional

from ct.errors import DataError

# suffix -> (name, opener); the standard library's codecs, nothing to install
CODECS: dict[str, tuple[str, Callable[[str], BinaryIO]]] = {
    ".gz": ("gzip", lambda path: gzip.open(path, "rb")),
    ".bz2": ("bzip2", lambda path: bz2.open(path, "rb")),
    ".xz": ("xz", lambda path: lzma.open(path, "rb")),
}
# what the codecs raise on bad data: truncated streams (EOFError), bad headers or checksums
# (gzip.BadGzipFile and bz2's OSError), zlib and lzma errors
_CORRUPT = (EOFError, OSError, zlib.error, lzma.LZMAError)


def compression_of(path: Path) -> Optional[str]:
    """The codec suffix of ``path`` (``".gz"``, ...), or None for an uncompressed file."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in CODECS else None


def without_compression(path: Path) -> Path:
    """``wiki.jsonl.gz`` -> ``wiki.jsonl``: the name that says the format inside."""
    path = Path(path)
    return path.with_suffix("") if compression_of(path) else path


class DecompressedFile:
    """A compressed file read as its decompressed bytes (``read``, ``readline``, lines),
    with decoding errors turned into one :class:`DataError` naming the file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.codec, opener = CODECS[compression_of(self.path)]
        self._handle = opener(str(self.path))

    def _failed(self, exc: BaseException) -> DataError:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return DataError(f"{self.path}: truncated or corrupt {self.codec} file ({reason}); "
                         "decompress it by hand to check, or replace it")

    def read(self, size: int = -1) -> bytes:
        try:
            return self._handle.read(size)
        except _CORRUPT as exc:
            raise self._failed(exc) from None

    def readline(self) -> bytes:
        try:
            return self._handle.readline()
        except _CORRUPT as exc:
            raise self._failed(exc) from None

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "DecompressedFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_binary(path: Path):
    """``path``'s bytes, decompressed if its suffix names a codec (a context manager).

    Raises:
        OSError: the file cannot be opened (callers name it in their own terms).
    """
    return DecompressedFile(path) if compression_of(path) else open(path, "rb")
