"""Compressed files read as their decompressed bytes: ``.gz``, ``.bz2``, ``.xz`` and ``.zst``.

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
import io
import lzma
import zlib
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional

from ct.errors import DataError

_ZSTD_INPUT = 1 << 20  # compressed bytes read at a time


class ZstdCorrupt(OSError):
    """A ``.zst`` file that is corrupt, or ends inside a frame (truncated)."""


class _ZstdStream(io.RawIOBase):
    """The decompressed bytes of a Zstandard file of one or more frames (as ``zstd`` and
    ``pzstd`` write them). Unlike ``zstandard``'s own stream reader, a file that ends inside a
    frame is an error (:class:`ZstdCorrupt`), as in the standard library's codecs, not a
    silently shorter text."""

    def __init__(self, path: str):
        try:
            import zstandard
        except ImportError:
            raise DataError(f"{path}: reading .zst files needs zstandard: "
                            "pip install zstandard") from None
        self._error = zstandard.ZstdError
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame = None  # the decompressor of the frame being read
        self._input = b""  # compressed bytes read but not decompressed yet
        self._output, self._position = b"", 0
        self._file = open(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._position == len(self._output):
            data = self._input or self._file.read(_ZSTD_INPUT)
            self._input = b""
            if not data:
                if self._frame is not None and not self._frame.eof:
                    raise ZstdCorrupt("the file ends inside a frame (truncated)")
                return 0
            if self._frame is None or self._frame.eof:
                self._frame = self._decompressor.decompressobj()
            try:
                self._output, self._position = self._frame.decompress(data), 0
            except self._error as exc:
                raise ZstdCorrupt(str(exc)) from None
            if self._frame.eof:
                self._input = self._frame.unused_data  # the next frame's start
        size = min(len(buffer), len(self._output) - self._position)
        buffer[:size] = self._output[self._position:self._position + size]
        self._position += size
        return size

    def close(self) -> None:
        self._file.close()
        super().close()


# suffix -> (name, opener): the standard library's codecs, and zstandard's (a dependency)
CODECS: dict[str, tuple[str, Callable[[str], BinaryIO]]] = {
    ".gz": ("gzip", lambda path: gzip.open(path, "rb")),
    ".bz2": ("bzip2", lambda path: bz2.open(path, "rb")),
    ".xz": ("xz", lambda path: lzma.open(path, "rb")),
    ".zst": ("zstd", lambda path: io.BufferedReader(_ZstdStream(path), _ZSTD_INPUT)),
}
# what the codecs raise on bad data: truncated streams (EOFError), bad headers or checksums
# (gzip.BadGzipFile and bz2's OSError), zlib and lzma errors, ZstdCorrupt (an OSError)
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
