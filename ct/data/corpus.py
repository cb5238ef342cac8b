"""Unlabelled text corpora for CT: text files (plain or compressed), a JSONL field, a CSV,
Parquet or Arrow column (``datasets`` folders included), or a TFDS dataset.

CT needs only sentences (the paper trains on Wikipedia sentences). A corpus is never held in
memory: each file is indexed once (see :mod:`ct.data.corpus_index`) and sentences are read by
number, so the whole corpus can be sampled uniformly at any size and a run starts or resumes in
the same time whatever its length. Empty and whitespace-only lines are not sentences; with
``on_bad_line: skip`` undecodable or malformed lines are left out and counted.

Sentence numbers run over the files in order (sorted glob matches, a folder's files sorted by
path), so sentence ``i`` of a corpus is always the same sentence while its files do not change,
and a copy of a corpus in another format (same sentences, same order) trains on the same
batches. Each format is read by its reader (:mod:`ct.data.readers`); a corpus of any number of
files keeps at most a few dozen descriptors open (:class:`ct.data.corpus_index.DescriptorPool`).

Example:
    >>> corpus = Corpus.from_patterns(["data/*.txt"])
    >>> stats = corpus.validate(min_distinct=30)
    >>> corpus.read(np.array([0, 12345]))
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ct.config import TFDSSource
from ct.data.corpus_index import (DESCRIPTORS, BadLines, FileIndex, build_extracted_index,
                                  file_fingerprint, index_key, load_corpus_manifest,
                                  load_or_build, usable_cache_dir, write_corpus_manifest)
from ct.data.file_patterns import expand_patterns
from ct.data.readers import format_of, get_reader
from ct.data.readers.arrow_reader import datasets_folder_files
from ct.data.tfds_source import iter_tfds_sentences, load_tfds, tfds_identity
from ct.errors import DataError

DEFAULT_TEXT_FIELD = "text"
# Sentences read to count distinct ones before giving up on a larger sample (see validate):
# 64 runs of 64 consecutive ones, so a corpus of many small files opens few of them.
_DISTINCT_SAMPLE = 4096
_DISTINCT_RUN = 64
# From this many files on, a corpus lists its indexes in one manifest (see _file_indexes).
_MANIFEST_FILES = 100


@dataclasses.dataclass
class CorpusStats:
    """What validation found: usable sentences, distinct ones among those read, files."""

    num_sentences: int
    num_distinct: int
    num_files: int
    num_bad_lines: int = 0
    first_bad_line: Optional[str] = None


@dataclasses.dataclass
class Corpus:
    """A list of files read in one format, or a TFDS dataset.

    Args:
        files: the files, in reading order.
        format: a reader's name (:mod:`ct.data.readers`): ``"text"`` (one sentence per
            line), ``"jsonl"``, ``"csv"``, ``"parquet"`` or ``"arrow"``.
        text_field: JSONL key, or CSV, Parquet or Arrow column that holds the sentence.
        on_bad_line: ``"error"`` refuses a corpus with an undecodable or malformed line;
            ``"skip"`` leaves such lines out (validation counts them).
        tfds_source: read from this TFDS dataset instead of files.
        index_dir: the index cache folder (default: see
            :func:`ct.data.corpus_index.default_cache_dir`).
    """

    files: list[Path]
    format: str = "text"
    text_field: str = DEFAULT_TEXT_FIELD
    on_bad_line: str = "error"
    tfds_source: Optional[TFDSSource] = None
    index_dir: Optional[str] = None

    def __post_init__(self):
        self._indexes: Optional[list[FileIndex]] = None
        self._offsets: Optional[np.ndarray] = None

    @classmethod
    def from_config(cls, config) -> "Corpus":
        """The corpus a :class:`ct.config.TrainConfig` names: ``corpus_tfds`` when it has a
        name, else the ``corpus`` files."""
        if config.corpus_tfds.name:
            load_tfds(config.corpus_tfds, "corpus_tfds")  # fail early on a bad name or split
            return cls(files=[], format="tfds", tfds_source=config.corpus_tfds,
                       index_dir=config.corpus_index_dir)
        corpus = cls.from_patterns(config.corpus, config.corpus_format, config.text_field,
                                   config.on_bad_line)
        corpus.index_dir = config.corpus_index_dir
        return corpus

    @property
    def description(self) -> str:
        """The files (first three) or the TFDS dataset, for messages."""
        if self.tfds_source is not None:
            return f"tfds:{self.tfds_source.name}[{self.tfds_source.split}]"
        return ", ".join(str(f) for f in self.files[:3]) + (" ..." if len(self.files) > 3
                                                           else "")

    @classmethod
    def from_patterns(cls, patterns: Sequence[str], format: str = "auto",
                      text_field: Optional[str] = None, on_bad_line: str = "error",
                      index_dir: Optional[str] = None) -> "Corpus":
        """Expands files, folders and globs into the corpus' files, in a reproducible order.

        A folder stands for every file under it (recursively; hidden files and folders, whose
        names start with a dot, left out), sorted by path like a glob's matches; a
        ``datasets`` ``save_to_disk`` folder for its Arrow files in their order. Globs may use
        ``**`` (any depth) and select files.

        Raises:
            DataError: a pattern that matches no file, an empty folder, a file or folder entry
                that cannot be read, or files of mixed formats with ``auto``.
        """
        files = expand_patterns(patterns, "corpus", folder_files=datasets_folder_files)
        if format == "auto":
            formats = {format_of(f) for f in files}
            if len(formats) > 1:
                raise DataError("corpus files have mixed formats "
                                f"({', '.join(sorted(formats))}); set corpus_format")
            format = formats.pop()
        return cls(files=files, format=format, text_field=text_field or DEFAULT_TEXT_FIELD,
                   on_bad_line=on_bad_line, index_dir=index_dir)

    # ------------------------------------------------------------------ the index
    @property
    def indexes(self) -> list[FileIndex]:
        """One index per file (or one for a TFDS dataset), built on first use."""
        if self._indexes is None:
            cache = usable_cache_dir(self.index_dir)
            if self.tfds_source is not None:
                self._indexes = [self._tfds_index(cache)]
            else:
                self._indexes = self._file_indexes(cache)
            counts = [index.num_sentences for index in self._indexes]
            self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return self._indexes

    def _file_indexes(self, cache: Path) -> list[FileIndex]:
        """The files' indexes: through the corpus' manifest when one lists them all (many
        files), else each from its folder (and the manifest written, for next time)."""
        sources = [self._source(path) for path in self.files]
        if len(sources) < _MANIFEST_FILES:
            return [self._file_index(path, source, cache)
                    for path, source in zip(self.files, sources)]
        manifest = cache / f"corpus-{index_key({'files': sources})}.json"
        indexes = load_corpus_manifest(manifest, cache)
        if indexes is None:
            indexes = [self._file_index(path, source, cache)
                       for path, source in zip(self.files, sources)]
            write_corpus_manifest(manifest, indexes)
        return indexes

    def _source(self, path: Path) -> dict:
        """What identifies a file's index: its fingerprint, format (and text field)."""
        source = {**file_fingerprint(path), "format": self.format}
        if get_reader(self.format).uses_text_field:
            source["text_field"] = self.text_field
        return source

    def _file_index(self, path: Path, source: dict, cache: Path) -> FileIndex:
        reader = get_reader(self.format)
        return load_or_build(
            source, cache,
            lambda folder: reader.build_index(path, folder, self.text_field, BadLines()),
            str(path))

    def _tfds_index(self, cache: Path) -> FileIndex:
        source = tfds_identity(self.tfds_source)
        counter = {"n": 0}

        def sentences():
            for text in iter_tfds_sentences(self.tfds_source):
                counter["n"] += 1
                yield text

        return load_or_build(source, cache,
                             lambda folder: build_extracted_index(sentences(), folder,
                                                                  BadLines(),
                                                                  lambda: counter["n"]),
                             self.description)

    def close(self) -> None:
        """Closes the descriptors that reading opened (when a run ends); reading again
        reopens what it needs."""
        DESCRIPTORS.close_all()

    def __len__(self) -> int:
        self.indexes
        return int(self._offsets[-1])

    def read(self, ids: np.ndarray) -> list[str]:
        """The sentences with these (0-based, corpus-wide) numbers, in the given order."""
        indexes = self.indexes
        ids = np.asarray(ids, dtype=np.int64)
        files = np.searchsorted(self._offsets, ids, side="right") - 1
        texts: list[Optional[str]] = [None] * len(ids)
        for file in np.unique(files):
            where = np.flatnonzero(files == file)
            for position, text in zip(where, indexes[file].read(ids[where]
                                                                - self._offsets[file])):
                texts[position] = text
        return texts

    def byte_lengths(self, ids: np.ndarray) -> np.ndarray:
        """The byte lengths of these sentences' lines (a cheap proxy of their token counts,
        read from the index without reading text)."""
        indexes = self.indexes
        ids = np.asarray(ids, dtype=np.int64)
        files = np.searchsorted(self._offsets, ids, side="right") - 1
        lengths = np.zeros(len(ids), np.int64)
        for file in np.unique(files):
            where = np.flatnonzero(files == file)
            lengths[where] = indexes[file].byte_lengths(ids[where] - self._offsets[file])
        return lengths

    def fingerprint(self) -> dict:
        """What a run records of its corpus, to notice a changed file when it resumes."""
        if self.tfds_source is not None:
            return {"tfds": tfds_identity(self.tfds_source), "sentences": len(self)}
        return {"files": [{**file_fingerprint(path), "sentences": index.num_sentences}
                          for path, index in zip(self.files, self.indexes)],
                "sentences": len(self)}

    def changed_files(self, recorded: dict) -> list[str]:
        """Descriptions of the files that differ from a recorded :meth:`fingerprint`."""
        if self.tfds_source is not None:
            return [] if recorded.get("tfds") == tfds_identity(self.tfds_source) else \
                [self.description]
        changes = []
        current = {f["path"]: f for f in
                   (file_fingerprint(path) for path in self.files)}
        for before in recorded.get("files", []):
            now = current.pop(before["path"], None)
            if now is None:
                changes.append(f"{before['path']} (no longer in the corpus)")
            elif (now["size"], now["mtime_ns"]) != (before["size"], before["mtime_ns"]):
                changes.append(f"{before['path']} (size {before['size']} -> {now['size']} "
                               f"bytes, modified since the run started)")
        changes += [f"{path} (new in the corpus)" for path in current]
        return changes

    # ------------------------------------------------------------------ checks
    def validate(self, min_distinct: int, max_bad_share: float = 0.01) -> CorpusStats:
        """Checks the corpus can feed training, from its index and a bounded sample.

        Args:
            min_distinct: distinct sentences one batch needs.
            max_bad_share: with ``on_bad_line="skip"``, the largest share of skipped lines
                accepted.

        Raises:
            DataError: unreadable, empty or too small a corpus, or bad bytes/records.
        """
        count = len(self)
        bad_count = sum(index.bad_lines.count for index in self.indexes)
        examples = [m for index in self.indexes for m in index.bad_lines.examples]
        names = self.description
        if bad_count and self.on_bad_line == "error":
            raise DataError(examples[0])
        if bad_count:
            share = bad_count / (count + bad_count)
            if share > max_bad_share:
                raise DataError(
                    f"corpus {names}: {bad_count} of {count + bad_count} lines "
                    f"({100 * share:.1f}%) are undecodable or malformed, more than "
                    f"max_bad_line_share={max_bad_share}; first: {examples[0]}")
        if count == 0:
            raise DataError(f"corpus {names} is empty: no non-blank lines")
        distinct = self._count_distinct(min_distinct)
        if distinct < min_distinct:
            raise DataError(
                f"corpus {names} has only {distinct} distinct sentences; one CT batch "
                f"needs {min_distinct} (lower batch_size or num_negatives, or add text)")
        return CorpusStats(num_sentences=count, num_distinct=distinct,
                           num_files=max(len(self.files), 1), num_bad_lines=bad_count,
                           first_bad_line=examples[0] if bad_count else None)

    def _count_distinct(self, needed: int) -> int:
        """Distinct sentences, counted until ``needed`` are found: first among up to
        4096 sentences spread evenly over the corpus (in 64 runs of consecutive ones), then
        (only for a corpus that repeats itself that much) over all of it, in blocks."""
        count = len(self)
        seen: set = set()
        runs = np.linspace(0, max(count - _DISTINCT_RUN, 0),
                           _DISTINCT_SAMPLE // _DISTINCT_RUN).astype(np.int64)
        sample = np.unique((runs[:, None] + np.arange(_DISTINCT_RUN)).ravel()
                           .clip(0, count - 1))
        seen.update(self.read(sample))
        if len(seen) >= needed or len(sample) == count:
            return len(seen)
        for start in range(0, count, 65536):
            seen.update(self.read(np.arange(start, min(start + 65536, count))))
            if len(seen) >= needed:
                break
        return len(seen)


def read_fingerprint(path: Path) -> Optional[dict]:
    """A fingerprint saved by :func:`write_fingerprint`, or None."""
    return json.loads(path.read_text()) if path.exists() else None


def write_fingerprint(path: Path, corpus: Corpus) -> None:
    """Saves ``corpus.fingerprint()`` to ``path``."""
    path.write_text(json.dumps(corpus.fingerprint(), indent=2) + "\n")
