"""Data of the ``align`` stage: sentences, their target vectors, and the training stream.

Training files hold one sentence per line, or parallel data ``source<TAB>translation``; Parquet
and Arrow files (and ``datasets`` folders) hold one example per row, in a column ``text``, or
``source`` and ``translation`` for parallel data (a row counts as a line). Target
row ``i`` belongs to line ``i`` of the training files (concatenated, blank lines included, so a
file of precomputed vectors stays aligned with its text file); with parallel data it is the
vector of the *source* side, and the student learns to map both the source and its translation
onto it (multilingual distillation, Reimers & Gurevych 2020; Multilingual-CLIP). Targets are
read from a ``.npy`` file through a memory map (collections larger than memory work) or from a
``.npz`` file, or computed once by a teacher encoder into the run folder.

The stream is like the supervised stages': a seeded permutation of the examples per epoch,
global batches, the resume position, the per-replica split; only the target rows of each batch
are read from the (memory-mapped) array.

Example:
    >>> examples = read_align_examples(["data/captions.tsv"])
    >>> targets = load_target_vectors("data/clip_text.npy", examples.num_lines)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ct._keras import tf
from ct.data.batching import (batch_numbers, epoch_example_ids, make_stream_fn,
                              split_for_replicas, tokenize_and_finish)
from ct.data.file_patterns import expand_patterns
from ct.data.readers.arrow_reader import datasets_folder_files
from ct.data.readers.tables import is_table, table_column_names, table_rows
from ct.data.text_files import iter_decoded_lines
from ct.errors import DataError
from ct.progress import Progress

logger = logging.getLogger(__name__)

TEACHER_TARGETS = "teacher_targets.npy"


@dataclasses.dataclass
class AlignExamples:
    """Training examples of the align stage.

    Attributes:
        texts: the student's input of each example.
        rows: the target row of each example (its line, counted over all files).
        sentences: the text whose vector is the target of each line (the source side of
            parallel data); blank lines hold ``""``.
        parallel: whether the data was ``source<TAB>translation``.
        sources: the files read.
        blank_lines: blank lines skipped.
    """

    texts: list[str]
    rows: np.ndarray
    sentences: list[str]
    parallel: bool
    sources: list[str]
    blank_lines: int = 0

    @property
    def num_lines(self) -> int:
        """Lines read (the rows a targets file must have)."""
        return len(self.sentences)


def read_align_examples(paths: Sequence[str], format: str = "auto") -> AlignExamples:
    """Reads the training files of the align stage.

    Args:
        paths: text files (``bundled:`` names, folders, globs and compressed files allowed;
            see :func:`ct.data.file_patterns.expand_patterns`), Parquet or Arrow files or
            ``datasets`` folders (a ``text`` column, or ``source`` and ``translation``).
        format: ``"text"`` (one sentence per line), ``"parallel"`` (``source<TAB>translation``)
            or ``"auto"`` (parallel if the first non-blank line holds a tab).

    Raises:
        DataError: a missing or undecodable file, a parallel line without exactly one tab
            (file and line named), or no sentence at all.
    """
    texts: list[str] = []
    rows: list[int] = []
    sentences: list[str] = []
    parallel = None if format == "auto" else format == "parallel"
    blank = 0
    files = expand_patterns(paths, "align.train", folder_files=datasets_folder_files)
    for path in files:
        if is_table(path) and parallel is None:
            names = table_column_names(path)
            parallel = "source" in names and "translation" in names
        for number, line in _numbered_lines(path, parallel):
            row = len(sentences)
            if not line.strip():
                sentences.append("")
                blank += 1
                continue
            if parallel is None:
                parallel = "\t" in line
            if parallel:
                parts = line.split("\t")
                if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                    raise DataError(f"{path}:{number}: a parallel line must be "
                                    f"source<TAB>translation (two non-empty fields), found "
                                    f"{len(parts)} field(s)")
                source, translation = parts[0].strip(), parts[1].strip()
                sentences.append(source)
                texts += [source, translation]
                rows += [row, row]
            else:
                sentences.append(line.strip())
                texts.append(line.strip())
                rows.append(row)
    if not texts:
        raise DataError(f"align.train ({', '.join(map(str, paths))}) holds no sentence")
    return AlignExamples(texts, np.asarray(rows, np.int64), sentences, bool(parallel),
                         [str(p) for p in files], blank)


def _numbered_lines(path: Path, parallel: Optional[bool]):
    """``(number, line)`` of a text file, or of a table's rows as the lines of the text file
    holding them (``source<TAB>translation`` for parallel data, a null an empty line)."""
    if not is_table(path):
        return iter_decoded_lines(path, "align.train file")
    columns = [("source",), ("translation",)] if parallel else [("text",)]
    return ((number, "\t".join("" if value is None else str(value) for value in values))
            for number, values in table_rows(path, "align.train file", columns))


def load_target_vectors(path: str, num_lines: int, key: Optional[str] = None) -> np.ndarray:
    """Opens precomputed target vectors (``.npy`` memory-mapped, or ``.npz``).

    Args:
        path: the file; row ``i`` is the target of line ``i`` of the training files.
        num_lines: lines in the training files: the rows the array must have.
        key: the array's name in a ``.npz`` (default: its only array).

    Raises:
        DataError: a missing or unreadable file, an ``.npz`` key that does not exist, an array
            that is not 2-D numbers, or a row count that does not match the lines.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"align.targets file not found: {path}")
    try:
        if file.suffix == ".npz":
            archive = np.load(file)
            names = list(archive.files)
            if key is None and len(names) != 1:
                raise DataError(f"align.targets {path} holds {len(names)} arrays "
                                f"({', '.join(names)}); name one with align.targets_key")
            name = key or names[0]
            if name not in names:
                raise DataError(f"align.targets {path} has no array {name!r}; it holds "
                                f"{', '.join(names)}")
            targets = archive[name]
        elif file.suffix == ".npy":
            targets = np.load(file, mmap_mode="r")
        else:
            raise DataError(f"align.targets must be a .npy or .npz file, got {path}")
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read align.targets {path}: {exc}") from None
    if targets.ndim != 2 or not np.issubdtype(targets.dtype, np.number):
        raise DataError(f"align.targets {path} must be a 2-D array of numbers (one row per "
                        f"line), got shape {targets.shape} of {targets.dtype}")
    if targets.shape[0] != num_lines:
        raise DataError(f"align.targets {path} has {targets.shape[0]} rows but align.train has "
                        f"{num_lines} lines; row i must be the target of line i")
    return targets


def compute_teacher_targets(teacher, sentences: Sequence[str], path: Path,
                            batch_size: int = 64, chunk_size: int = 10_000,
                            progress_mode: str = "off", layers=()) -> np.ndarray:
    """Encodes ``sentences`` with ``teacher`` once into a memory-mapped ``.npy`` at ``path``.

    Written to a temporary file and renamed, with a small JSON beside it; an existing complete
    file for the same sentences (e.g. of a resumed run) is reused. Blank sentences get zero
    rows (no example uses them). ``progress_mode`` shows the pass (see :mod:`ct.progress`).
    With ``layers``, each row also holds the teacher's mean-pooled outputs of those layers
    after its vector (``dim + len(layers) x hidden`` columns), for layer matching.

    Returns:
        The targets, memory-mapped read-only.
    """
    path = Path(path)
    layers = [int(i) for i in layers]
    width = int(teacher.embedding_dim) + len(layers) * teacher.hidden_size
    stamp = {"sentences": len(sentences), "dim": width, "checksum": _checksum(sentences),
             **({"layers": layers} if layers else {})}
    info = path.with_suffix(".json")
    if path.exists() and info.exists() and json.loads(info.read_text()) == stamp:
        logger.info("teacher targets: reusing %s", path)
        return np.load(path, mmap_mode="r")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    targets = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32,
                                        shape=(len(sentences), stamp["dim"]))
    present = [i for i, s in enumerate(sentences) if s]
    progress = Progress("teacher", total=len(present), unit="sentence", mode=progress_mode,
                        every=max(batch_size * 20, 1000))
    for start in range(0, len(present), chunk_size):
        index = present[start:start + chunk_size]
        texts = [sentences[i] for i in index]
        targets[index] = teacher.encode(texts, batch_size=batch_size, layers=layers,
                                        on_batch=progress.advance)
    progress.close()
    targets.flush()
    del targets
    os.replace(partial, path)
    info.write_text(json.dumps(stamp) + "\n")
    return np.load(path, mmap_mode="r")


def _checksum(sentences: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(sentence.encode("utf-8") + b"\n")
    return digest.hexdigest()


def build_align_dataset(texts: Sequence[str], rows: np.ndarray, targets: np.ndarray, tokenizer,
                        *, batch_size: int = 64, max_length: int = 75, seed: int = 42,
                        padding: str = "longest",
                        start_position: Union[int, tf.Variable] = 0, num_replicas: int = 1,
                        input_pipeline_id: int = 0,
                        num_input_pipelines: int = 1) -> tf.data.Dataset:
    """An endless dataset of ``(features, target vectors)`` batches.

    Args:
        texts: the student's input of each example (templates already applied).
        rows: the target row of each example.
        targets: ``[lines, dim]`` target vectors (a memory map is read a batch at a time).
        tokenizer, batch_size, max_length, seed, padding, start_position, num_replicas,
        input_pipeline_id, num_input_pipelines: as in
            :func:`ct.data.pair_dataset.build_pair_dataset`.

    Returns:
        Features ``input_ids_1``/``attention_mask_1`` and float32 targets ``[batch, dim]``.
    """
    count, dim = len(texts), int(targets.shape[1])
    text_table = tf.constant(list(texts), dtype=tf.string)
    row_table = tf.constant(np.asarray(rows, np.int64))

    def read_rows(batch_rows: np.ndarray) -> np.ndarray:
        return np.asarray(targets[batch_rows], dtype=np.float32)

    def lookup(batch_number):
        indices = epoch_example_ids(batch_number, count, batch_size, seed)
        vectors = tf.numpy_function(read_rows, [tf.gather(row_table, indices)], tf.float32)
        return tf.gather(text_table, indices), tf.ensure_shape(vectors, [None, dim])

    dataset = batch_numbers(start_position).map(lookup)
    dataset = split_for_replicas(dataset, num_replicas, input_pipeline_id, num_input_pipelines)
    return tokenize_and_finish(dataset, tokenizer, max_length, padding)


def make_align_dataset_fn(texts, rows, targets, tokenizer,
                          start_position: Optional[tf.Variable] = None, **kwargs):
    """A ``dataset_fn(input_context)`` of :func:`build_align_dataset` for the strategies."""
    return make_stream_fn(
        lambda **where: build_align_dataset(texts, rows, targets, tokenizer, **kwargs, **where),
        start_position)
