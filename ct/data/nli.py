"""Reading NLI files: premise/hypothesis pairs with a gold label, for the supervised NLI stage.

Formats, chosen by the file's suffix:

- ``.jsonl`` / ``.json``: one JSON object per line with ``sentence1`` (premise), ``sentence2``
  (hypothesis) and ``gold_label``, as in the SNLI (Bowman et al., 2015) and MultiNLI
  (Williams et al., 2018) JSONL distributions; other keys are ignored.
- ``.txt`` / ``.tsv``: tab-separated with a header row naming ``sentence1``, ``sentence2`` and
  ``gold_label`` (or ``label``), in any order among other columns, as in the SNLI/MultiNLI
  ``.txt`` distributions. Sentences contain quote characters, so no CSV quoting is applied.
- ``.parquet`` / ``.arrow`` files and ``datasets`` ``save_to_disk`` folders: the columns
  ``sentence1``, ``sentence2`` and ``gold_label`` (or ``label``), or the Hugging Face names
  ``premise``, ``hypothesis`` and ``label``; a label is a name as above or an id (the
  ``snli``/``multi_nli`` ids below, ``-1`` for no gold label). Read a row group at a time
  (:mod:`ct.data.readers.tables`).

Label ids follow the tensorflow-datasets ``snli``/``multi_nli`` order (and
:mod:`ct.losses.softmax_nli`): 0 entailment, 1 neutral, 2 contradiction. Labels are matched
case-insensitively after stripping whitespace. Blank lines are ignored. Two kinds of pairs are
skipped and counted in :attr:`NLIPairs.num_skipped`: pairs without a gold label (``-``, the
annotators reached no consensus, or an empty label) and pairs whose premise or hypothesis is
empty after stripping (there is nothing to encode). Any other label, and any malformed line,
raises :class:`~ct.errors.DataError` naming the file and line.

:func:`nli_triplets` turns labelled pairs into (anchor, positive, hard negative) triplets for
the ``in_batch_negatives`` objective.

Example:
    >>> pairs = read_nli_files(["data/snli_1.0_train.jsonl", "data/multinli_1.0_*.txt"])
    >>> len(pairs), pairs.num_skipped, pairs.label_counts()
    >>> anchors, positives, hard_negatives = nli_triplets(pairs, seed=0)
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

from ct.data.file_patterns import expand_patterns
from ct.data.readers.arrow_reader import datasets_folder_files
from ct.data.readers.compression import without_compression
from ct.data.readers.tables import is_table, table_rows
from ct.data.records import jsonl_objects
from ct.data.text_files import iter_decoded_lines
from ct.errors import DataError
from ct.resources import resolve_path

logger = logging.getLogger(__name__)

#: Label names by id (tensorflow-datasets ``snli``/``multi_nli`` order).
NLI_LABELS = ("entailment", "neutral", "contradiction")
_LABEL_IDS = {name: index for index, name in enumerate(NLI_LABELS)}
_ENTAILMENT, _CONTRADICTION = _LABEL_IDS["entailment"], _LABEL_IDS["contradiction"]
# "-": SNLI/MultiNLI's mark for a pair whose annotators reached no consensus.
_NO_GOLD_LABELS = ("-", "")
_FORMAT_BY_SUFFIX = {".jsonl": "jsonl", ".json": "jsonl", ".txt": "tsv", ".tsv": "tsv"}
_SENTENCE_KEYS = ("sentence1", "sentence2")
_BOM = "\ufeff"


@dataclasses.dataclass
class NLIPairs:
    """Parallel lists of premises, hypotheses and label ids, with where they came from.

    Args:
        premises: the premises (``sentence1``), stripped.
        hypotheses: the hypotheses (``sentence2``), stripped.
        labels: label ids as plain ``int`` (0 entailment, 1 neutral, 2 contradiction, see
            :data:`NLI_LABELS`); ``np.asarray(pairs.labels, np.int32)`` gives an array.
        num_skipped: pairs left out: no gold label (``-`` or empty) or an empty sentence.
        sources: the files read, in order.
    """

    premises: list[str]
    hypotheses: list[str]
    labels: list[int]
    num_skipped: int = 0
    sources: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if not len(self.premises) == len(self.hypotheses) == len(self.labels):
            raise ValueError(f"NLIPairs needs parallel lists; got {len(self.premises)} "
                             f"premises, {len(self.hypotheses)} hypotheses and "
                             f"{len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, premise: str, hypothesis: str, label: int) -> None:
        """Appends one pair (``label`` an id from :data:`NLI_LABELS`)."""
        self.premises.append(premise)
        self.hypotheses.append(hypothesis)
        self.labels.append(label)

    def extend(self, other: "NLIPairs") -> None:
        """Appends the pairs, skip count and sources of ``other`` to these, in place."""
        self.premises.extend(other.premises)
        self.hypotheses.extend(other.hypotheses)
        self.labels.extend(other.labels)
        self.num_skipped += other.num_skipped
        self.sources.extend(other.sources)

    @classmethod
    def concatenate(cls, parts: Iterable["NLIPairs"]) -> "NLIPairs":
        """A new :class:`NLIPairs` holding ``parts`` one after another (none: empty).

        Example:
            >>> both = NLIPairs.concatenate([read_nli_file("a.jsonl"), read_nli_file("b.txt")])
        """
        result = cls([], [], [])
        for part in parts:
            result.extend(part)
        return result

    def label_counts(self) -> dict[str, int]:
        """Pairs per label name, every label of :data:`NLI_LABELS` present (in id order)."""
        counts = np.bincount(np.asarray(self.labels, dtype=np.int64), minlength=len(NLI_LABELS))
        return {name: int(counts[index]) for index, name in enumerate(NLI_LABELS)}


def read_nli_file(path: str | Path) -> NLIPairs:
    """Reads one SNLI/MultiNLI-style file, JSONL, tab-separated, Parquet or Arrow by its suffix.

    Args:
        path: a ``.jsonl``/``.json``, ``.txt``/``.tsv``, ``.parquet`` or ``.arrow`` file, or
            ``bundled:NAME``.

    Returns:
        The labelled pairs (possibly none), with ``num_skipped`` counting the pairs without a
        gold label or with an empty sentence, and ``sources`` the resolved path.

    Raises:
        DataError: a missing file or unsupported suffix; invalid JSON, a missing key, a
            non-string sentence, a header without the needed columns, a short row or an
            unknown label (all naming file and line).

    Example:
        >>> pairs = read_nli_file("snli_1.0_dev.jsonl")
        >>> pairs.premises[0], pairs.hypotheses[0], NLI_LABELS[pairs.labels[0]]
    """
    source = str(resolve_path(str(path)))
    suffix = without_compression(Path(source)).suffix.lower()
    if is_table(source):
        records = _table_records
    elif suffix not in _FORMAT_BY_SUFFIX:
        raise DataError(f"NLI file {path}: unknown format {suffix or '(no suffix)'!r}; use "
                        ".jsonl/.json (one JSON object per line), .txt/.tsv (tab-separated "
                        "with a header row), .parquet or .arrow")
    else:
        records = _jsonl_records if _FORMAT_BY_SUFFIX[suffix] == "jsonl" else _tsv_records
    pairs = NLIPairs([], [], [], sources=[source])
    no_gold = empty = 0
    for number, premise, hypothesis, label in records(path, source):
        key = label.strip().lower()
        if key in _NO_GOLD_LABELS:
            no_gold += 1
            continue
        if key not in _LABEL_IDS:
            raise DataError(f"{source}:{number}: unknown NLI label {label!r}; expected "
                            "entailment, neutral or contradiction ('-' marks a pair without "
                            "consensus, which is skipped)")
        premise, hypothesis = premise.strip(), hypothesis.strip()
        if not premise or not hypothesis:
            empty += 1
            continue
        pairs.add(premise, hypothesis, _LABEL_IDS[key])
    pairs.num_skipped = no_gold + empty
    logger.info("NLI file %s: %d labelled pairs (skipped %d without gold label, %d with an "
                "empty sentence)", source, len(pairs), no_gold, empty)
    return pairs


def read_nli_files(patterns: Sequence[str]) -> NLIPairs:
    """Reads and concatenates NLI files given as paths, ``bundled:`` names, folders or globs
    (compressed files read decompressed; a ``datasets`` folder stands for its Arrow files).

    Globs and folders expand to their files in sorted order (see
    :func:`ct.data.file_patterns.expand_patterns`), so the pair order is reproducible.

    Args:
        patterns: paths, ``bundled:NAME`` references or globs (``data/multinli_*.jsonl``).

    Returns:
        All labelled pairs, file after file.

    Raises:
        DataError: no patterns, a missing file, a glob matching no file, an empty folder, a
            malformed file (see :func:`read_nli_file`), or no labelled pair at all.

    Example:
        >>> pairs = read_nli_files(["snli/snli_1.0_train.jsonl", "mnli/*_train.txt"])
    """
    if not patterns:
        raise DataError("no NLI files given; list SNLI/MultiNLI .jsonl or .txt files")
    files = expand_patterns(patterns, "NLI", folder_files=datasets_folder_files)
    pairs = NLIPairs.concatenate(read_nli_file(f) for f in files)
    if not len(pairs):
        names = ", ".join(pairs.sources[:3]) + (" ..." if len(pairs.sources) > 3 else "")
        raise DataError(f"no labelled NLI pairs found in {names} ({pairs.num_skipped} pairs "
                        "skipped: gold label '-' or empty, or an empty sentence)")
    return pairs


def nli_triplets(pairs: NLIPairs, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    """(anchor, positive, hard negative) triplets for the ``in_batch_negatives`` objective.

    As in supervised SimCSE (Gao et al., 2021) and sentence-transformers' ``training_nli_v2``:
    pairs are grouped by premise (exact string); every premise with at least one entailment
    and at least one contradiction hypothesis gives one triplet per distinct entailment
    hypothesis, with one of its distinct contradiction hypotheses drawn at random as the hard
    negative. Neutral pairs are not used.

    Args:
        pairs: labelled NLI pairs (:func:`read_nli_files`).
        seed: seeds the ``numpy`` generator that picks the contradictions.

    Returns:
        ``(anchors, positives, hard_negatives)``, parallel lists; premises in first-seen order,
        and the same output for the same pairs and seed.

    Raises:
        DataError: no premise has both an entailment and a contradiction hypothesis.

    Example:
        >>> anchors, positives, hard_negatives = nli_triplets(read_nli_files(["snli.jsonl"]))
    """
    # premise -> {label id -> hypotheses}; dicts keep first-seen order and drop duplicates.
    groups: dict[str, dict[int, dict[str, None]]] = {}
    for premise, hypothesis, label in zip(pairs.premises, pairs.hypotheses, pairs.labels):
        groups.setdefault(premise, {}).setdefault(int(label), {})[hypothesis] = None
    rng = np.random.default_rng(seed)
    anchors: list[str] = []
    positives: list[str] = []
    negatives: list[str] = []
    for premise, by_label in groups.items():
        entailments = list(by_label.get(_ENTAILMENT, ()))
        contradictions = list(by_label.get(_CONTRADICTION, ()))
        if not entailments or not contradictions:
            continue
        for entailment in entailments:
            anchors.append(premise)
            positives.append(entailment)
            negatives.append(contradictions[int(rng.integers(len(contradictions)))])
    if not anchors:
        names = ", ".join(pairs.sources[:3]) or "the given pairs"
        raise DataError(f"no NLI triplet can be formed from {names}: the in_batch_negatives "
                        "objective needs premises with both an entailment and a contradiction "
                        "hypothesis (use objective softmax for pairs without them)")
    return anchors, positives, negatives


# ---------------------------------------------------------------------------------- readers
def _jsonl_records(path: str | Path, source: str) -> Iterator[tuple[int, str, str, str]]:
    """Yields ``(line, sentence1, sentence2, gold_label)`` of a JSONL file."""
    for number, record in jsonl_objects(path, "NLI file", (*_SENTENCE_KEYS, "gold_label")):
        for key in (*_SENTENCE_KEYS, "gold_label"):
            if not isinstance(record[key], str):
                raise DataError(f"{source}:{number}: {key!r} is "
                                f"{type(record[key]).__name__}, not a string")
        yield number, record["sentence1"], record["sentence2"], record["gold_label"]


def _tsv_records(path: str | Path, source: str) -> Iterator[tuple[int, str, str, str]]:
    """Yields ``(line, sentence1, sentence2, gold_label)`` of a tab-separated file."""
    current = [0]  # the line number of the row the csv reader is on

    def non_blank_lines() -> Iterator[str]:
        for number, line in iter_decoded_lines(path, "NLI file"):
            if number == 1:
                line = line.lstrip(_BOM)
            if line.strip():
                current[0] = number
                yield line

    # QUOTE_NONE: one line is one row, and quotes inside sentences are kept as they are.
    rows = csv.reader(non_blank_lines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    columns: Optional[list[int]] = None
    for fields in rows:
        number = current[0]
        if columns is None:
            columns = _header_columns([field.strip() for field in fields], source, number)
            continue
        if len(fields) <= max(columns):
            raise DataError(f"{source}:{number}: expected at least {max(columns) + 1} "
                            f"tab-separated columns, got {len(fields)}")
        premise, hypothesis, label = (fields[i] for i in columns)
        yield number, premise, hypothesis, label


# a table's columns: ct's names first, then those of the Hugging Face snli/multi_nli datasets
_TABLE_COLUMNS = (("sentence1", "premise"), ("sentence2", "hypothesis"), ("gold_label", "label"))


def _table_records(path: str | Path, source: str) -> Iterator[tuple[int, str, str, str]]:
    """Yields ``(row, sentence1, sentence2, gold label name)`` of a Parquet or Arrow file."""
    for number, values in table_rows(Path(source), "NLI file", _TABLE_COLUMNS):
        premise, hypothesis, label = ("" if value is None else value for value in values)
        for name, value in (("sentence1", premise), ("sentence2", hypothesis)):
            if not isinstance(value, str):
                raise DataError(f"{source}: row {number}: {name} is {type(value).__name__}, "
                                "not a string")
        if isinstance(label, int) and not isinstance(label, bool):
            if label == -1:  # the datasets' id of a pair without gold label
                label = "-"
            elif 0 <= label < len(NLI_LABELS):
                label = NLI_LABELS[label]
            else:
                raise DataError(f"{source}: row {number}: unknown NLI label id {label}; "
                                "expected 0 entailment, 1 neutral, 2 contradiction or -1 "
                                "(no gold label)")
        elif not isinstance(label, str):
            raise DataError(f"{source}: row {number}: the label is {type(label).__name__}, "
                            "not a name or an id")
        yield number, premise, hypothesis, label


def _header_columns(header: list[str], source: str, number: int) -> list[int]:
    """Indices of sentence1, sentence2 and the label (``gold_label``, else ``label``)."""
    label_column = next((name for name in ("gold_label", "label") if name in header), None)
    if label_column is None or not all(name in header for name in _SENTENCE_KEYS):
        shown = ", ".join(header[:10]) + (" ..." if len(header) > 10 else "")
        raise DataError(f"{source}:{number}: the header row must name sentence1, sentence2 "
                        f"and gold_label (or label); got {shown}")
    return [header.index(name) for name in (*_SENTENCE_KEYS, label_column)]
