"""Reading a pair-classification dev set: sentence pairs labelled 1 (paraphrase, duplicate)
or 0 (not), as sentence-transformers' ``BinaryClassificationEvaluator`` takes them (Quora
duplicates, TwitterPara, SPRINT in the TSDAE comparison; Wang et al., 2021).

Formats, chosen by the suffix (``.tsv``/``.txt``: tab-separated, ``.csv``: comma-separated
with CSV quoting, ``.jsonl``/``.json``: one object a line); tables start with a header row
naming ``sentence1``, ``sentence2`` and ``label`` (in any order, among other columns); JSON
objects hold those keys. A label must be 0 or 1.

Example:
    >>> pairs = read_labelled_pairs("twitterpara-dev.tsv")
    >>> len(pairs), sum(pairs.labels)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ct.data.records import jsonl_objects, table_rows
from ct.errors import DataError
from ct.resources import resolve_path

PAIR_COLUMNS = ("sentence1", "sentence2", "label")
_DELIMITERS = {".tsv": "\t", ".txt": "\t", ".csv": ","}


@dataclasses.dataclass
class LabelledPairs:
    """Parallel lists of sentence pairs and their 0/1 labels."""

    sentences_1: list[str]
    sentences_2: list[str]
    labels: list[int]
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def _label(value, source: str, number: int) -> int:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool):
        text = None
    for label in (0, 1):
        if text in (label, str(label), float(label)):
            return label
    raise DataError(f"{source}:{number}: label {value!r} is not 0 or 1")


def _records(path: str, source: str):
    suffix = Path(source).suffix.lower()
    if suffix in (".jsonl", ".json"):
        for number, record in jsonl_objects(path, "pairs file", PAIR_COLUMNS):
            for key in PAIR_COLUMNS[:2]:
                if not isinstance(record[key], str):
                    raise DataError(f"{source}:{number}: {key!r} must be a string")
            yield number, [record[key] for key in PAIR_COLUMNS]
    elif suffix in _DELIMITERS:
        yield from table_rows(path, "pairs file", PAIR_COLUMNS, _DELIMITERS[suffix])
    else:
        raise DataError(f"pairs file {path}: unknown format {suffix or '(no suffix)'!r}; use "
                        ".tsv/.txt (tab-separated), .csv or .jsonl, with sentence1, sentence2 "
                        "and label")


def read_labelled_pairs(path: str) -> LabelledPairs:
    """Reads a labelled-pairs file (see the module docstring).

    Raises:
        DataError: a missing file, an unknown suffix, a missing column or key, a label that
            is not 0/1 (naming file and line), or no pair.
    """
    source = resolve_path(path)
    pairs = LabelledPairs([], [], [], source)
    for number, (sentence_1, sentence_2, label) in _records(path, source):
        pairs.sentences_1.append(sentence_1)
        pairs.sentences_2.append(sentence_2)
        pairs.labels.append(_label(label, source, number))
    if not pairs.labels:
        raise DataError(f"pairs file {path} holds no sentence pair")
    return pairs
