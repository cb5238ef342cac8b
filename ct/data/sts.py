"""Reading STS files: sentence pairs with a gold similarity score.

STS Benchmark files (Cer et al., 2017) are tab-separated with seven columns: genre, file, year,
id, score (0-5), sentence1, sentence2. A few lines carry extra trailing columns, which are
ignored, and sentences may contain quote characters, so no CSV quoting is applied.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ct.errors import DataError
from ct.resources import resolve_path


@dataclasses.dataclass
class STSPairs:
    """Parallel lists of sentence pairs and gold scores, with where they came from."""

    sentences_1: list[str]
    sentences_2: list[str]
    scores: list[float]
    source: str

    def __len__(self) -> int:
        return len(self.scores)


def read_sts_benchmark(path: str) -> STSPairs:
    """Reads an STS-B file (``sts-dev.csv``/``sts-test.csv``) or ``bundled:stsb-dev``.

    Raises:
        DataError: a missing file, undecodable bytes, or a malformed line (named by number).
    """
    resolved = Path(resolve_path(path))
    try:
        raw_lines = resolved.read_bytes().splitlines()
    except FileNotFoundError:
        raise DataError(f"STS file not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read STS file {path}: {exc.strerror}") from None
    pairs = STSPairs([], [], [], str(resolved))
    for number, raw in enumerate(raw_lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{resolved}:{number}: undecodable bytes (not UTF-8)") from None
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 7:
            raise DataError(f"{resolved}:{number}: expected 7 tab-separated columns (genre, "
                            f"file, year, id, score, sentence1, sentence2), got {len(fields)}")
        try:
            score = float(fields[4])
        except ValueError:
            raise DataError(f"{resolved}:{number}: score {fields[4]!r} is not a number") from None
        pairs.sentences_1.append(fields[5])
        pairs.sentences_2.append(fields[6])
        pairs.scores.append(score)
    if not pairs.scores:
        raise DataError(f"STS file {path} holds no sentence pairs")
    return pairs
