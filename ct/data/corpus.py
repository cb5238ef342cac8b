"""Unlabelled text corpora for CT: text files, a JSONL field or a CSV column.

CT needs only sentences (the paper trains on Wikipedia sentences). A corpus is read as a stream,
never held in memory, so corpora larger than RAM work. Empty and whitespace-only lines are
skipped everywhere, in validation and in training alike.

Example:
    >>> corpus = Corpus.from_patterns(["data/*.txt"])
    >>> stats = corpus.validate(min_distinct=30)
    >>> next(iter(corpus.iter_sentences()))
"""

from __future__ import annotations

import csv
import dataclasses
import glob
import json
from pathlib import Path
from typing import Iterator, Optional, Sequence

from ct.data.text_files import iter_decoded_lines
from ct.errors import DataError
from ct.resources import resolve_path


DEFAULT_TEXT_FIELD = "text"
_FORMAT_BY_SUFFIX = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "csv"}


@dataclasses.dataclass
class CorpusStats:
    """What validation found: usable sentences, distinct ones (counted up to a cap), files."""

    num_sentences: int
    num_distinct: int
    num_files: int
    num_bad_lines: int = 0
    first_bad_line: Optional[str] = None


@dataclasses.dataclass
class Corpus:
    """A list of files read in one format.

    Args:
        files: the files, in reading order.
        format: ``"text"`` (one sentence per line), ``"jsonl"`` or ``"csv"``.
        text_field: JSONL key or CSV column that holds the sentence.
        on_bad_line: ``"error"`` stops at an undecodable or malformed line; ``"skip"``
            skips it (validation counts them).
    """

    files: list[Path]
    format: str = "text"
    text_field: str = DEFAULT_TEXT_FIELD
    on_bad_line: str = "error"
    tfds_source: Optional[object] = None  # a ct.config.TFDSSource: read from TFDS instead

    @classmethod
    def from_config(cls, config) -> "Corpus":
        """The corpus a :class:`ct.config.TrainConfig` names: ``corpus_tfds`` when it has a
        name, else the ``corpus`` files."""
        if config.corpus_tfds.name:
            from ct.data.tfds_source import load_tfds

            load_tfds(config.corpus_tfds, "corpus_tfds")  # fail early on a bad name or split
            return cls(files=[], format="tfds", tfds_source=config.corpus_tfds)
        return cls.from_patterns(config.corpus, config.corpus_format, config.text_field,
                                 config.on_bad_line)

    @property
    def description(self) -> str:
        """The files (first three) or the TFDS dataset, for messages."""
        if self.tfds_source is not None:
            return f"tfds:{self.tfds_source.name}[{self.tfds_source.split}]"
        return ", ".join(str(f) for f in self.files[:3]) + (" ..." if len(self.files) > 3
                                                           else "")

    @classmethod
    def from_patterns(cls, patterns: Sequence[str], format: str = "auto",
                      text_field: Optional[str] = None, on_bad_line: str = "error") -> "Corpus":
        """Expands paths and globs (sorted, so the order is reproducible).

        Raises:
            DataError: a pattern that matches no file, or files of mixed formats with ``auto``.
        """
        files: list[Path] = []
        for pattern in patterns:
            resolved = resolve_path(pattern)
            if glob.has_magic(resolved):
                matches = [Path(m) for m in sorted(glob.glob(resolved)) if Path(m).is_file()]
                if not matches:
                    raise DataError(f"corpus glob {pattern} matches no file")
            else:
                path = Path(resolved)
                if path.is_dir():
                    raise DataError(f"corpus path {pattern} is a directory; give files or a "
                                    f"glob such as {pattern.rstrip('/')}/*.txt")
                if not path.exists():
                    raise DataError(f"corpus file not found: {pattern}")
                matches = [path]
            files.extend(matches)
        if format == "auto":
            formats = {_FORMAT_BY_SUFFIX.get(f.suffix.lower(), "text") for f in files}
            if len(formats) > 1:
                raise DataError("corpus files have mixed formats "
                                f"({', '.join(sorted(formats))}); set corpus_format")
            format = formats.pop()
        return cls(files=files, format=format, text_field=text_field or DEFAULT_TEXT_FIELD,
                   on_bad_line=on_bad_line)

    def iter_sentences(self, bad_lines: Optional[list] = None) -> Iterator[str]:
        """Yields every non-empty sentence, stripped, file after file.

        Args:
            bad_lines: with ``on_bad_line="skip"``, messages of skipped lines are appended here.

        Raises:
            DataError: undecodable bytes or malformed records, naming file and line (unless
                ``on_bad_line="skip"``).
        """
        if self.tfds_source is not None:
            from ct.data.tfds_source import iter_tfds_sentences

            for text in iter_tfds_sentences(self.tfds_source):
                text = text.strip()
                if text:
                    yield text
            return
        reader = {"text": self._text_lines, "jsonl": self._jsonl_texts,
                  "csv": self._csv_texts}[self.format]
        sink = bad_lines if bad_lines is not None else []
        bad = None if self.on_bad_line == "error" else sink.append
        for path in self.files:
            for text in reader(path, bad):
                text = text.strip()
                if text:
                    yield text

    def validate(self, min_distinct: int, distinct_cap: int = 100_000,
                 max_bad_share: float = 0.01) -> CorpusStats:
        """Reads the whole corpus once and checks it can feed training.

        Args:
            min_distinct: distinct sentences one batch needs.
            distinct_cap: stop collecting distinct sentences past this many (bounded memory).
            max_bad_share: with ``on_bad_line="skip"``, the largest share of skipped lines
                accepted.

        Raises:
            DataError: unreadable, empty or too small a corpus, or bad bytes/records.
        """
        count, distinct, bad_lines = 0, set(), []
        for sentence in self.iter_sentences(bad_lines):
            count += 1
            if len(distinct) < distinct_cap:
                distinct.add(sentence)
        names = self.description
        if bad_lines:
            share = len(bad_lines) / (count + len(bad_lines))
            if share > max_bad_share:
                raise DataError(
                    f"corpus {names}: {len(bad_lines)} of {count + len(bad_lines)} lines "
                    f"({100 * share:.1f}%) are undecodable or malformed, more than "
                    f"max_bad_line_share={max_bad_share}; first: {bad_lines[0]}")
        if count == 0:
            raise DataError(f"corpus {names} is empty: no non-blank lines")
        if len(distinct) < min_distinct:
            raise DataError(
                f"corpus {names} has only {len(distinct)} distinct sentences; one CT batch "
                f"needs {min_distinct} (lower batch_size or num_negatives, or add text)")
        return CorpusStats(num_sentences=count, num_distinct=len(distinct),
                           num_files=max(len(self.files), 1), num_bad_lines=len(bad_lines),
                           first_bad_line=bad_lines[0] if bad_lines else None)

    # ------------------------------------------------------------------ readers
    def _text_lines(self, path: Path, bad) -> Iterator[str]:
        for _, line in iter_decoded_lines(path, "corpus file", bad):
            yield line

    def _jsonl_texts(self, path: Path, bad) -> Iterator[str]:
        for number, line in iter_decoded_lines(path, "corpus file", bad):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                _reject(bad, f"{path}:{number}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(record, dict) or self.text_field not in record:
                _reject(bad, f"{path}:{number}: no field {self.text_field!r} "
                             "(set text_field to the key holding the sentence)")
                continue
            value = record[self.text_field]
            if not isinstance(value, str):
                _reject(bad, f"{path}:{number}: field {self.text_field!r} is "
                             f"{type(value).__name__}, not a string")
                continue
            yield value



    def _csv_texts(self, path: Path, bad) -> Iterator[str]:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        lines = iter_decoded_lines(path, "corpus file", bad)
        rows = csv.reader((line + "\n" for _, line in lines), delimiter=delimiter)
        try:
            header = next(rows)
        except StopIteration:
            return
        if self.text_field not in header:
            raise DataError(f"{path}:1: no column {self.text_field!r} in the header "
                            f"({', '.join(header[:10])}); set text_field")
        column = header.index(self.text_field)
        for row in rows:
            if not row:
                continue
            if column >= len(row):
                _reject(bad, f"{path}:{rows.line_num}: row has {len(row)} columns, "
                             f"column {self.text_field!r} is number {column + 1}")
                continue
            yield row[column]


def _reject(bad, message: str) -> None:
    """A malformed line: an error, or (``on_bad_line="skip"``) passed to ``bad`` and skipped."""
    if bad is None:
        raise DataError(message)
    bad(message)
