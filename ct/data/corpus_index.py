"""A one-time index of where each sentence of a corpus file is, for random access at any size.

CT samples sentences uniformly from the whole corpus (the authors' code draws from all of it);
a corpus of tens of millions of lines cannot be held in memory, and reading it in file order
through a shuffle buffer biases the sample towards the start of the file. So each file is
indexed once: the byte offset and length of every usable sentence (blank lines and, with
``on_bad_line: skip``, bad lines left out), in two memory-mapped NumPy arrays. Any sentence is
then one slice of a memory-mapped file away, and starting or resuming a run costs the same for
a thousand lines as for a billion.

- **Plain text** is indexed with NumPy over the raw bytes, 16 MB at a time (newlines, blank
  lines, UTF-8 validity); the offsets point into the file itself.
- **JSONL, CSV and TFDS** sentences are extracted once (the field, the column, the text
  feature) into ``texts.bin`` beside the index, which the offsets point into.

The index lives in a cache folder under a key made of the file's absolute path, size and
modification time (and format and field): a changed file gets a new index. An unwritable cache
folder falls back to a temporary one, with a warning. Indexes are written to a staging folder
and renamed into place, so a killed build leaves nothing half-written, and processes that
build the same index at once (workers on one machine) agree.

Example:
    >>> index = load_or_build_index(Path("wiki.txt"), "text", "text", cache_dir())
    >>> index.num_sentences, index.read(np.array([0, 41]))
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from ct.errors import DataError
from ct.files import write_json_atomically

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
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


@dataclasses.dataclass
class BadLines:
    """Lines left out of the index because they were undecodable or malformed."""

    count: int = 0
    examples: list = dataclasses.field(default_factory=list)

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.examples) < _MAX_BAD_EXAMPLES:
            self.examples.append(message)


_OPEN_LOCK = threading.Lock()


def _open_once(owner, path: Path) -> int:
    """``owner._fd``, opened read-only on first use; once only, though tf.data's threads
    (the sampler's and the reader's) may ask at the same time."""
    with _OPEN_LOCK:
        if owner._fd is None:
            owner._fd = os.open(path, os.O_RDONLY)
        return owner._fd


class _NpyColumn:
    """Random reads of a 1-D ``.npy`` array with ``pread`` (no memory map: a mapped file's
    readahead would bring hundreds of KB into the process for every random read)."""

    def __init__(self, path: Path):
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(handle)
            self.offset = handle.tell()
        self.path, self.dtype, self.length = path, np.dtype(dtype), int(shape[0])
        self._fd: Optional[int] = None

    def take(self, ids: np.ndarray) -> np.ndarray:
        size = self.dtype.itemsize
        descriptor = _open_once(self, self.path)
        raw = b"".join(os.pread(descriptor, size, self.offset + size * int(i)) for i in ids)
        return np.frombuffer(raw, dtype=self.dtype)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class FileIndex:
    """The index of one source: the offsets and lengths of its sentences in ``data_path``.

    Args:
        folder: the index folder (``meta.json``, ``starts.npy``, ``lengths.npy``).

    Sentences are read with ``pread``: the process holds only what it reads, whatever the
    corpus size (a memory-mapped corpus grows the resident memory by the readahead of every
    random read: measured, 700 MB for 1,500 reads of a 0.9 GB file).
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.meta = json.loads((folder / "meta.json").read_text())
        self.starts = _NpyColumn(folder / "starts.npy")
        self.lengths = _NpyColumn(folder / "lengths.npy")
        self.data_path = Path(self.meta["data_path"]) if self.meta["data_path"] else \
            folder / "texts.bin"
        self._fd: Optional[int] = None
        self.built_now = False  # True if this process built it (not read from the cache)

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
        descriptor = _open_once(self, self.data_path)
        starts, lengths = self.starts.take(local_ids), self.lengths.take(local_ids)
        return [os.pread(descriptor, int(n), int(start)).decode("utf-8", errors="replace")
                .strip() for start, n in zip(starts, lengths)]

    def close(self) -> None:
        for column in (self.starts, self.lengths):
            column.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __getstate__(self):  # file descriptors do not pickle; reopen them where used
        state = dict(self.__dict__)
        state["_fd"] = None
        return state


# --------------------------------------------------------------------------- building

def index_key(source: dict) -> str:
    """The cache folder name of an index: a hash of what identifies its content."""
    payload = json.dumps({"version": INDEX_VERSION, **source}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def load_or_build(source: dict, cache: Path, build: Callable[[Path], dict],
                  description: str) -> FileIndex:
    """The index of ``source`` from ``cache``, built with ``build(staging_folder)`` (which
    writes ``starts.npy``/``lengths.npy`` and returns the rest of ``meta.json``) if missing."""
    folder = cache / index_key(source)
    if (folder / "meta.json").exists():
        return FileIndex(folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=cache))
    try:
        # Reported after validation (the stage's corpus line): bad input stays one line.
        logger.debug("indexing %s (once; cached in %s)", description, cache)
        started = time.time()
        meta = build(staging)
        meta["build_seconds"] = round(time.time() - started, 3)
        write_json_atomically(staging / "meta.json", {"version": INDEX_VERSION,
                                                      "source": source, **meta})
        os.chmod(staging, 0o755 & ~_umask())
        try:
            os.rename(staging, folder)
        except OSError:
            if not (folder / "meta.json").exists():  # not another process's complete index
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    index = FileIndex(folder)
    index.built_now = True
    return index


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def build_text_index(path: Path, folder: Path, bad: BadLines) -> dict:
    """Indexes a plain-text file: one sentence per non-blank line, UTF-8 checked.

    Returns the ``meta.json`` entries (the offsets point into ``path`` itself).
    """
    starts_parts, lengths_parts = [], []
    lines_before, offset, carry = 0, 0, b""
    with open(path, "rb") as handle:
        while True:
            block = handle.read(_CHUNK_BYTES)
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
    return {"data_path": str(path.resolve()), "sentences": int(len(starts)),
            "lines": lines_before, "bad_lines": bad.count,
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


# --------------------------------------------------------------------------- readers

class LineReader:
    """UTF-8 lines of a file with their numbers; undecodable lines go to ``bad``."""

    def __init__(self, path: Path, bad: BadLines):
        self.path, self.bad, self.lines = path, bad, 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                self.lines = number
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    self.bad.add(f"{self.path}:{number}: undecodable bytes (not UTF-8) at "
                                 f"byte {exc.start} of the line")
                    continue
                yield number, text.rstrip("\r\n")


def jsonl_sentences(path: Path, text_field: str, bad: BadLines, reader: LineReader):
    """The ``text_field`` of every JSON line; malformed records go to ``bad``."""
    for number, line in reader:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.add(f"{path}:{number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict) or text_field not in record:
            bad.add(f"{path}:{number}: no field {text_field!r} (set text_field to the key "
                    "holding the sentence)")
            continue
        value = record[text_field]
        if not isinstance(value, str):
            bad.add(f"{path}:{number}: field {text_field!r} is {type(value).__name__}, not a "
                    "string")
            continue
        yield value


def csv_sentences(path: Path, text_field: str, bad: BadLines, reader: LineReader):
    """The ``text_field`` column of every CSV/TSV row (quoted fields may span lines).

    Raises:
        DataError: the header has no such column.
    """
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
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
