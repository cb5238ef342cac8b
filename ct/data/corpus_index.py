"""A one-time index of where each sentence of a corpus file is, for random access at any size.

CT samples sentences uniformly from the whole corpus (the authors' code draws from all of it);
a corpus of tens of millions of lines cannot be held in memory, and reading it in file order
through a shuffle buffer biases the sample towards the start of the file. So each file is
indexed once: the byte offset and length of every usable sentence (blank lines and, with
``on_bad_line: skip``, bad lines left out), in two NumPy arrays read with ``pread``. Any
sentence is then three small reads away, and starting or resuming a run costs the same for a
thousand lines as for a billion.

- **Plain text** is indexed with NumPy over the raw bytes, 16 MB at a time (newlines, blank
  lines, UTF-8 validity); the offsets point into the file itself. **Compressed text** is
  indexed the same way as it is decompressed, once, into ``texts.bin`` beside the index.
- **JSONL, CSV, Parquet, Arrow and TFDS** sentences are extracted once (the field, the column,
  the text feature) into ``texts.bin`` beside the index, which the offsets point into.
- How each format is read is its reader's business (:mod:`ct.data.readers`); this module
  holds what they share.

Files are opened through :data:`DESCRIPTORS`, a small pool of recently used descriptors, so a
corpus of any number of files stays far below the open-file limit.

The index lives in a cache folder under a key made of the file's absolute path, size and
modification time (and format and field): a changed file gets a new index. An unwritable cache
folder falls back to a temporary one, with a warning. Indexes are written to a staging folder
and renamed into place, so a killed build leaves nothing half-written, and processes that
build the same index at once (workers on one machine) agree.

Example:
    >>> index = load_or_build(source, usable_cache_dir(), build, "wiki.txt")
    >>> index.num_sentences, index.read(np.array([0, 41]))
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Optional

import numpy as np

from ct.errors import DataError

logger = logging.getLogger(__name__)

INDEX_VERSION = 1
_CHUNK_BYTES = 16 << 20
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True  # what str.strip() removes among ASCII bytes
_MAX_BAD_EXAMPLES = 5


def default_cache_dir() -> Path:
    """``$CT_CACHE_DIR/corpus-index``, else ``$XDG_CACHE_HOME/ct/corpus-index``, else
    ``~/.cache/ct/corpus-index``."""
    if os.environ.get("CT_CACHE_DIR"):
        return Path(os.environ["CT_CACHE_DIR"]) / "corpus-index"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ct" / "corpus-index"


def usable_cache_dir(requested: Optional[str | os.PathLike] = None) -> Path:
    """The cache folder to use: ``requested`` (or the default) if it can be written, else a
    private temporary folder, with a warning that names both.

    The fallback ``<tmp>/ct-corpus-index-<uid>`` is used only if it is a real folder (not a
    symlink) owned by this user and closed to others (mode 0700, as it is created); anything
    else there (another user's folder or link in a shared ``/tmp``) is left alone and a new
    private folder (``mkdtemp``) is used, so no one else can plant or read indexes.
    """
    folder = Path(requested).expanduser() if requested else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-", delete=True)
        probe.close()
        return folder
    except OSError as exc:
        reason = exc.strerror or exc
    fallback = Path(tempfile.gettempdir()) / f"ct-corpus-index-{os.getuid()}"
    try:
        fallback.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(fallback)
    private = (not fallback.is_symlink() and fallback.is_dir() and info.st_uid == os.getuid()
               and info.st_mode & 0o077 == 0)
    if not private:
        fallback = Path(tempfile.mkdtemp(prefix="ct-corpus-index-"))  # 0700, new
    logger.warning("corpus index cache %s is not usable (%s); using %s instead (indexes "
                   "there may be rebuilt later)", folder, reason, fallback)
    return fallback


def file_fingerprint(path: Path) -> dict:
    """``{"path", "size", "mtime_ns"}`` of a file: what identifies its content for the index."""
    stat = os.stat(path)
    return {"path": os.path.abspath(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


@dataclasses.dataclass
class BadLines:
    """Lines left out of the index because they were undecodable or malformed."""

    count: int = 0
    examples: list = dataclasses.field(default_factory=list)

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.examples) < _MAX_BAD_EXAMPLES:
            self.examples.append(message)


MAX_OPEN_FILES = 32  # descriptors the pool keeps open, whatever the number of corpus files


class DescriptorPool:
    """Read-only descriptors of the most recently used files, at most ``capacity`` kept open.

    A corpus of thousands of shards reads each sentence from three files (its two index
    columns and its text); keeping them all open exhausts the open-file limit (1024, or 256,
    by default). The pool opens a file on use and closes the least recently used one beyond
    ``capacity``; a descriptor another thread is reading from is closed when that read ends.
    Shared by tf.data's threads (the sampler's and the reader's), hence the lock.

    Example:
        >>> with DESCRIPTORS.descriptor(Path("wiki.txt")) as fd:
        ...     first = os.pread(fd, 100, 0)
    """

    def __init__(self, capacity: int = MAX_OPEN_FILES):
        self.capacity = capacity
        self._entries: OrderedDict[str, list] = OrderedDict()  # path -> [fd, readers]
        self._lock = threading.Lock()
        self.peak = 0  # the most descriptors held at once (benchmarks, tests)

    @contextlib.contextmanager
    def descriptor(self, path: Path) -> Iterator[int]:
        """A read-only descriptor of ``path`` for the duration of the ``with`` block.

        Raises:
            DataError: the file cannot be opened (removed or made unreadable during the run).
        """
        key = str(path)
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                self._trim(self.capacity - 1)
                try:
                    entry = [os.open(key, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)), 0]
                except OSError as exc:
                    raise DataError(f"cannot read corpus data {key}: "
                                    f"{exc.strerror or exc}") from None
            self._entries[key] = entry  # the most recently used last
            entry[1] += 1
            self.peak = max(self.peak, len(self._entries))
        try:
            yield entry[0]
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0 and self._entries.get(key) is not entry:
                    os.close(entry[0])  # evicted while in use

    def _trim(self, limit: int) -> None:
        while len(self._entries) > max(limit, 0):
            _, (descriptor, readers) = self._entries.popitem(last=False)
            if readers == 0:
                os.close(descriptor)

    def close_all(self) -> None:
        """Closes every descriptor (those in use when their read ends); later reads reopen."""
        with self._lock:
            self._trim(0)

    def __len__(self) -> int:
        return len(self._entries)


DESCRIPTORS = DescriptorPool()


_NPY_HEADER = re.compile(rb"\x93NUMPY\x01\x00..\{'descr': '([<>|][a-z][0-9]+)', "
                         rb"'fortran_order': False, 'shape': \(([0-9]+),\), \}", re.DOTALL)


class _NpyColumn:
    """Random reads of a 1-D ``.npy`` array with ``pread`` (no memory map: a mapped file's
    readahead would bring hundreds of KB into the process for every random read). Its header
    is read on first use, through :data:`DESCRIPTORS`: a corpus of many files opens only the
    columns it reads from."""

    def __init__(self, path: str):
        self.path = path
        self._layout: Optional[tuple[int, np.dtype]] = None  # (data offset, dtype)

    def _header(self, descriptor: int) -> tuple[int, np.dtype]:
        if self._layout is None:
            head = os.pread(descriptor, 4096, 0)  # a 1-D header is < 200 bytes
            match = _NPY_HEADER.match(head)
            if match:  # what np.save writes for a 1-D array (parsed without ast: 10x faster)
                offset = 10 + int.from_bytes(head[8:10], "little")
                dtype, count = np.dtype(match.group(1).decode()), int(match.group(2))
            else:
                handle = io.BytesIO(head)
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(handle)
                offset, dtype, count = handle.tell(), np.dtype(dtype), int(shape[0])
            if os.fstat(descriptor).st_size < offset + count * dtype.itemsize:
                folder, name = os.path.split(self.path)
                raise DataError(f"corpus index {folder} is damaged ({name} is short); delete "
                                "that folder and it is rebuilt")
            self._layout = (offset, dtype)
        return self._layout

    def take(self, ids: np.ndarray) -> np.ndarray:
        with DESCRIPTORS.descriptor(self.path) as descriptor:
            offset, dtype = self._header(descriptor)
            size = dtype.itemsize
            raw = b"".join(os.pread(descriptor, size, offset + size * int(i)) for i in ids)
        return np.frombuffer(raw, dtype=dtype)


class FileIndex:
    """The index of one source: the offsets and lengths of its sentences in ``data_path``.

    Args:
        folder: the index folder (``meta.json``, ``starts.npy``, ``lengths.npy``).

    Sentences are read with ``pread``: the process holds only what it reads, whatever the
    corpus size (a memory-mapped corpus grows the resident memory by the readahead of every
    random read: measured, 700 MB for 1,500 reads of a 0.9 GB file). Descriptors come from
    :data:`DESCRIPTORS`, so an index holds none between reads (and pickles as it is).
    """

    def __init__(self, folder: str | Path, meta: Optional[dict] = None):
        # strings, not Paths: a corpus of 10,000 files makes 40,000 of them at start
        self.where = where = str(folder)
        if meta is None:
            with open(os.path.join(where, "meta.json")) as handle:
                meta = json.load(handle)
        self.meta = meta
        self.starts = _NpyColumn(f"{where}{os.sep}starts.npy")  # (os.path.join: 3x slower)
        self.lengths = _NpyColumn(f"{where}{os.sep}lengths.npy")
        self.data_path = self.meta["data_path"] or f"{where}{os.sep}texts.bin"
        self.built_now = False  # True if this process built it (not read from the cache)

    @property
    def folder(self) -> Path:
        """The index folder."""
        return Path(self.where)

    @property
    def num_sentences(self) -> int:
        return int(self.meta["sentences"])

    @property
    def bad_lines(self) -> BadLines:
        return BadLines(self.meta["bad_lines"], list(self.meta["bad_line_examples"]))

    def byte_lengths(self, local_ids: np.ndarray) -> np.ndarray:
        """The byte lengths of these sentences' lines (before stripping)."""
        return self.lengths.take(local_ids)

    def read(self, local_ids: np.ndarray) -> list[str]:
        """The sentences with these (0-based) numbers, stripped."""
        if len(local_ids) == 0:
            return []
        starts, lengths = self.starts.take(local_ids), self.lengths.take(local_ids)
        with DESCRIPTORS.descriptor(self.data_path) as descriptor:
            return [os.pread(descriptor, int(n), int(start)).decode("utf-8", errors="replace")
                    .strip() for start, n in zip(starts, lengths)]


# --------------------------------------------------------------------------- building

def index_key(source: dict) -> str:
    """The cache folder name of an index: a hash of what identifies its content."""
    payload = json.dumps({"version": INDEX_VERSION, **source}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def load_or_build(source: dict, cache: Path, build: Callable[[Path], dict],
                  description: str) -> FileIndex:
    """The index of ``source`` from ``cache``, built with ``build(staging_folder)`` (which
    writes ``starts.npy``/``lengths.npy`` and returns the rest of ``meta.json``) if missing.

    The index is published by renaming its staging folder, whole. Its files are not
    ``fsync``-ed (a corpus of 10,000 shards would wait for 10,000 disk flushes): an index a
    power cut left torn is rebuilt (unreadable ``meta.json``) or refused when read (columns
    shorter than ``meta.json`` says).
    """
    folder = cache / index_key(source)
    index = _cached_index(folder)
    if index is not None:
        return index
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=cache))
    try:
        # Reported after validation (the stage's corpus line): bad input stays one line.
        logger.debug("indexing %s (once; cached in %s)", description, cache)
        started = time.time()
        meta = build(staging)
        meta["build_seconds"] = round(time.time() - started, 3)
        (staging / "meta.json").write_text(json.dumps({"version": INDEX_VERSION,
                                                       "source": source, **meta}))
        os.chmod(staging, 0o755 & ~_umask())
        try:
            os.rename(staging, folder)
        except OSError:
            if _cached_index(folder) is None:  # not another process's complete index
                shutil.rmtree(folder, ignore_errors=True)  # a torn one
                os.rename(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    index = FileIndex(folder)
    index.built_now = True
    return index


def _cached_index(folder: Path) -> Optional[FileIndex]:
    """The index in ``folder``, or None if there is none (or a torn one)."""
    try:
        return FileIndex(folder)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError):
        logger.warning("corpus index %s is unreadable; rebuilding it", folder)
        return None


def load_corpus_manifest(path: Path, cache: Path) -> Optional[list[FileIndex]]:
    """The indexes a corpus manifest lists (see :func:`write_corpus_manifest`), or None if
    there is none or one of its index folders is gone."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    where = f"{cache}{os.sep}"
    indexes = [FileIndex(where + entry["folder"], entry["meta"]) for entry in entries]
    if not all(os.path.isdir(index.where) for index in indexes):
        return None
    return indexes


def write_corpus_manifest(path: Path, indexes: list[FileIndex]) -> None:
    """Saves the ``meta.json`` of a corpus' indexes in one file: a corpus of 10,000 files
    starts by reading one file instead of 10,000 (its files' fingerprints name it)."""
    entries = [{"folder": os.path.basename(index.where), "meta": index.meta}
               for index in indexes]
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        staging.write_text(json.dumps(entries))
        os.replace(staging, path)
    except OSError:  # only a shortcut: the indexes are there
        staging.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def build_text_index(path: Path, folder: Path, bad: BadLines,
                     stream: Optional[BinaryIO] = None) -> dict:
    """Indexes a plain-text file: one sentence per non-blank line, UTF-8 checked.

    Args:
        path: the file (named in messages).
        folder: the index folder being built.
        bad: collects undecodable lines.
        stream: the file's bytes when they are not ``path``'s own (a decompressed file):
            they are then copied to ``texts.bin`` in ``folder`` as they are indexed, once.

    Returns the ``meta.json`` entries (the offsets point into ``path`` itself, or into
    ``texts.bin``).
    """
    starts_parts, lengths_parts = [], []
    lines_before, offset, carry = 0, 0, b""
    with contextlib.ExitStack() as files:
        handle = stream if stream is not None else files.enter_context(open(path, "rb"))
        copy = (files.enter_context(open(folder / "texts.bin", "wb")) if stream is not None
                else None)
        while True:
            block = handle.read(_CHUNK_BYTES)
            if copy is not None and block:
                copy.write(block)
            data = carry + block
            if not data:
                break
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # no line ends in the bytes read so far: read on
                    carry = data
                    continue
                chunk, carry = data[:cut], data[cut:]
            else:
                chunk, carry = data, b""  # the last line, without a line break
            starts, lengths, lines = _index_chunk(chunk, path, lines_before, bad)
            starts_parts.append(starts + offset)
            lengths_parts.append(lengths)
            lines_before += lines
            offset += len(chunk)
    starts = np.concatenate(starts_parts) if starts_parts else np.zeros(0, np.uint64)
    lengths = np.concatenate(lengths_parts) if lengths_parts else np.zeros(0, np.uint32)
    np.save(folder / "starts.npy", starts.astype(np.uint64))
    np.save(folder / "lengths.npy", lengths.astype(np.uint32))
    return {"data_path": None if stream is not None else str(path.resolve()),
            "sentences": int(len(starts)), "lines": lines_before, "bad_lines": bad.count,
            "bad_line_examples": bad.examples}


def _index_chunk(chunk: bytes, path: Path, lines_before: int, bad: BadLines):
    """``(starts, lengths, number of lines)`` of the usable lines of a chunk of whole lines."""
    raw = np.frombuffer(chunk, dtype=np.uint8)
    newlines = np.flatnonzero(raw == 10)
    line_starts = np.concatenate([[0], newlines + 1]).astype(np.int64)
    line_ends = np.concatenate([newlines, [len(raw)]]).astype(np.int64)
    if len(raw) and raw[-1] == 10:  # the chunk ends with a line break: no line after it
        line_starts, line_ends = line_starts[:-1], line_ends[:-1]
    content = ~_WHITESPACE[raw]
    counted = np.concatenate([[0], np.cumsum(content, dtype=np.int32)])
    keep = counted[line_ends] - counted[line_starts] > 0  # not blank
    ascii_content = np.concatenate([[0], np.cumsum(content & (raw < 128), dtype=np.int32)])
    # Lines of non-ASCII bytes only might be Unicode whitespace (e.g. U+3000): decode those.
    for line in np.flatnonzero(keep & (ascii_content[line_ends]
                                       - ascii_content[line_starts] == 0)):
        text = chunk[line_starts[line]:line_ends[line]].decode("utf-8", errors="replace")
        keep[line] = bool(text.strip())
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        for line in np.flatnonzero(keep):
            try:
                chunk[line_starts[line]:line_ends[line]].decode("utf-8")
            except UnicodeDecodeError as exc:
                keep[line] = False
                bad.add(f"{path}:{lines_before + line + 1}: undecodable bytes (not UTF-8) at "
                        f"byte {exc.start} of the line")
    starts = line_starts[keep].astype(np.uint64)
    lengths = (line_ends - line_starts)[keep].astype(np.uint32)
    return starts, lengths, len(line_starts)


def build_extracted_index(sentences: Iterator[str], folder: Path, bad: BadLines,
                          lines: Callable[[], int]) -> dict:
    """Indexes sentences extracted by a reader (JSONL field, CSV column, TFDS feature):
    writes them, stripped and non-empty, to ``texts.bin``."""
    starts, lengths, offset = [], [], 0
    with open(folder / "texts.bin", "wb") as out:
        for text in sentences:
            text = text.strip()
            if not text:
                continue
            data = text.encode("utf-8")
            out.write(data)
            starts.append(offset)
            lengths.append(len(data))
            offset += len(data)
    np.save(folder / "starts.npy", np.asarray(starts, dtype=np.uint64))
    np.save(folder / "lengths.npy", np.asarray(lengths, dtype=np.uint32))
    return {"data_path": None, "sentences": len(starts), "lines": lines(),
            "bad_lines": bad.count, "bad_line_examples": bad.examples}
