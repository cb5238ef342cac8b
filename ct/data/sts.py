"""Reading STS files: sentence pairs with a gold similarity score.

Formats (``read_sts_file`` detects them, or pass ``format``):

- ``stsb``: STS Benchmark (Cer et al., 2017), tab-separated: genre, file, year, id, score
  (0-5), sentence1, sentence2. Some lines carry extra trailing columns, which are ignored;
  sentences may contain quote characters, so no CSV quoting is applied.
- ``sick``: SICK (``SICK_test_annotated.txt``), tab-separated with a header row naming
  ``sentence_A``, ``sentence_B`` and ``relatedness_score``.
- ``plain``: ``score<TAB>sentence1<TAB>sentence2``.
- ``table``: a ``.parquet`` or ``.arrow`` file, or a ``datasets`` ``save_to_disk`` folder, with
  the columns ``sentence1``, ``sentence2`` and ``score`` (or ``label``; SICK's
  ``sentence_A``, ``sentence_B``, ``relatedness_score`` too), scores read as they are (0-5 for
  STS-B); rows without a score are skipped. Read a row group at a time.
- SentEval's STS12-16 subsets are two files: ``STS.input.<subset>.txt`` (``s1<TAB>s2``) and
  ``STS.gs.<subset>.txt`` (one gold score per line; an empty line means no gold, and the pair
  is skipped): :func:`read_senteval_subset`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ct.data.readers.arrow_reader import datasets_folder_files
from ct.data.readers.tables import is_table, table_rows
from ct.data.text_files import iter_decoded_lines
from ct.errors import DataError
from ct.resources import resolve_path

STS_FORMATS = ("stsb", "sick", "plain", "table")
# a table's columns, each by the names it goes by (ct's, GLUE's and SICK's)
_TABLE_COLUMNS = (("sentence1", "sentence_A"), ("sentence2", "sentence_B"),
                  ("score", "label", "relatedness_score"))


@dataclasses.dataclass
class STSPairs:
    """Parallel lists of sentence pairs and gold scores, with where they came from."""

    sentences_1: list[str]
    sentences_2: list[str]
    scores: list[float]
    source: str

    def __len__(self) -> int:
        return len(self.scores)

    def add(self, sentence_1: str, sentence_2: str, score: float) -> None:
        self.sentences_1.append(sentence_1)
        self.sentences_2.append(sentence_2)
        self.scores.append(score)


def _score(text: str, path, number: int) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise DataError(f"{path}:{number}: score {text!r} is not a number") from None


def _non_empty(pairs: STSPairs, path) -> STSPairs:
    if not pairs.scores:
        raise DataError(f"STS file {path} holds no sentence pairs")
    return pairs


def read_sts_benchmark(path: str) -> STSPairs:
    """Reads an STS-B file (``sts-dev.csv``/``sts-test.csv``) or ``bundled:stsb-dev``."""
    pairs = STSPairs([], [], [], str(resolve_path(path)))
    for number, line in iter_decoded_lines(path, "STS file"):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 7:
            raise DataError(f"{pairs.source}:{number}: expected 7 tab-separated columns (genre, "
                            f"file, year, id, score, sentence1, sentence2), got {len(fields)}")
        pairs.add(fields[5], fields[6], _score(fields[4], pairs.source, number))
    return _non_empty(pairs, path)


def read_sick(path: str) -> STSPairs:
    """Reads SICK (header row with ``sentence_A``, ``sentence_B``, ``relatedness_score``)."""
    pairs = STSPairs([], [], [], str(resolve_path(path)))
    columns = None
    for number, line in iter_decoded_lines(path, "STS file"):
        if not line.strip():
            continue
        fields = line.split("\t")
        if columns is None:
            needed = ("sentence_A", "sentence_B", "relatedness_score")
            if not all(name in fields for name in needed):
                raise DataError(f"{pairs.source}:{number}: SICK header must name "
                                f"{', '.join(needed)}; got {', '.join(fields[:6])}")
            columns = [fields.index(name) for name in needed]
            continue
        if len(fields) <= max(columns):
            raise DataError(f"{pairs.source}:{number}: expected at least {max(columns) + 1} "
                            f"tab-separated columns, got {len(fields)}")
        a, b, score = (fields[i] for i in columns)
        pairs.add(a, b, _score(score, pairs.source, number))
    return _non_empty(pairs, path)


def read_plain_sts(path: str) -> STSPairs:
    """Reads ``score<TAB>sentence1<TAB>sentence2`` lines."""
    pairs = STSPairs([], [], [], str(resolve_path(path)))
    for number, line in iter_decoded_lines(path, "STS file"):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise DataError(f"{pairs.source}:{number}: expected score<TAB>sentence1<TAB>"
                            f"sentence2 (3 columns), got {len(fields)}")
        pairs.add(fields[1], fields[2], _score(fields[0], pairs.source, number))
    return _non_empty(pairs, path)


def read_sts_table(path: str) -> STSPairs:
    """Reads the pairs of a Parquet or Arrow file or a ``datasets`` folder (see ``table``
    above); rows without a score are skipped.

    Raises:
        DataError: an unreadable file, a missing column (naming those present), a sentence
            that is not text or a score that is not a number.
    """
    resolved = Path(resolve_path(path))
    files = datasets_folder_files(resolved) if resolved.is_dir() else [resolved]
    if files is None:
        raise DataError(f"STS file {path} is a folder, not a datasets save_to_disk folder")
    pairs = STSPairs([], [], [], str(resolved))
    for file in files:
        for number, (a, b, score) in table_rows(file, "STS file", _TABLE_COLUMNS):
            if score is None:
                continue
            if not isinstance(a, str) or not isinstance(b, str):
                raise DataError(f"STS file {file}: row {number}: the sentences must be text, "
                                f"got {type(a).__name__} and {type(b).__name__}")
            pairs.add(a, b, _score(score, file, number))
    return _non_empty(pairs, path)


def read_senteval_subset(input_path: str | Path, gold_path: str | Path) -> STSPairs:
    """Reads one SentEval STS subset; pairs whose gold line is empty are skipped.

    Raises:
        DataError: malformed lines, or a pair count that differs from the gold line count.
    """
    inputs = [(n, line) for n, line in iter_decoded_lines(input_path, "STS input file")]
    golds = [(n, line) for n, line in iter_decoded_lines(gold_path, "STS gold file")]
    if len(inputs) != len(golds):
        raise DataError(f"{input_path} has {len(inputs)} pairs but {gold_path} has "
                        f"{len(golds)} gold lines; they must match line for line")
    pairs = STSPairs([], [], [], str(input_path))
    for (number, line), (_, gold) in zip(inputs, golds):
        if not gold.strip():
            continue  # SentEval: no gold score for this pair
        fields = line.split("\t")
        if len(fields) < 2:
            raise DataError(f"{input_path}:{number}: expected sentence1<TAB>sentence2")
        pairs.add(fields[0], fields[1], _score(gold.strip(), gold_path, number))
    return _non_empty(pairs, input_path)


def detect_sts_format(path: str) -> str:
    """Guesses ``stsb``, ``sick`` or ``plain`` from the first non-empty line (``table`` from
    a Parquet or Arrow suffix, or a folder)."""
    if is_table(path) or Path(resolve_path(path)).is_dir():
        return "table"
    for number, line in iter_decoded_lines(path, "STS file"):
        if not line.strip():
            continue
        fields = line.split("\t")
        if "sentence_A" in fields and "relatedness_score" in fields:
            return "sick"
        if len(fields) >= 7 and _is_number(fields[4]):
            return "stsb"
        if len(fields) == 3 and _is_number(fields[0]):
            return "plain"
        raise DataError(f"{path}:{number}: cannot tell the STS format (STS-B, SICK or "
                        "score<TAB>s1<TAB>s2); pass --format")
    raise DataError(f"STS file {path} is empty")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_sts_file(path: str, format: str = "auto") -> STSPairs:
    """Reads an STS file in any supported format (``auto`` detects it)."""
    if format == "auto":
        format = detect_sts_format(path)
    readers = {"stsb": read_sts_benchmark, "sick": read_sick, "plain": read_plain_sts,
               "table": read_sts_table}
    if format not in readers:
        raise DataError(f"unknown STS format {format!r}; choose auto, {', '.join(STS_FORMATS)}")
    return readers[format](path)
