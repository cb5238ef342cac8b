"""Reading a reranking dev set: JSON Lines, one query with its candidate documents a line::

    {"query": "how do I ...", "positive": ["relevant text", ...], "negative": ["other", ...]}

as sentence-transformers' ``RerankingEvaluator`` takes them (AskUbuntu, SciDocs, StackOverflow
DupQuestions in the TSDAE comparison; Wang et al., 2021). ``positive``/``negative`` may also be
a single string. A query without a positive is an error; one without a negative has nothing to
rank against and is skipped with a warning (sentence-transformers skips it too).

Example:
    >>> samples = read_reranking_set("askubuntu-dev.jsonl")
    >>> samples.queries[0], samples.positives[0][:1]
"""

from __future__ import annotations

import dataclasses
import logging

from ct.data.records import jsonl_objects
from ct.errors import DataError
from ct.resources import resolve_path

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class RerankingSet:
    """Parallel lists: each query, its positive and its negative documents."""

    queries: list[str]
    positives: list[list[str]]
    negatives: list[list[str]]
    source: str

    def __len__(self) -> int:
        return len(self.queries)


def _texts(value, key: str, source: str, number: int) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DataError(f"{source}:{number}: {key!r} must be a list of strings")
    return value


def read_reranking_set(path: str) -> RerankingSet:
    """Reads a reranking JSONL file (see the module docstring).

    Raises:
        DataError: a missing file, a line that is not a JSON object with ``query``,
            ``positive`` and ``negative``, an empty positive list (naming file and line), or
            no query left to rank.
    """
    source = resolve_path(path)
    samples = RerankingSet([], [], [], source)
    skipped = 0
    for number, record in jsonl_objects(path, "reranking file", ("query", "positive", "negative")):
        if not isinstance(record["query"], str):
            raise DataError(f"{source}:{number}: 'query' must be a string")
        positives = _texts(record["positive"], "positive", source, number)
        negatives = _texts(record["negative"], "negative", source, number)
        if not positives:
            raise DataError(f"{source}:{number}: the positive list is empty; every query needs "
                            "at least one relevant document")
        if not negatives:
            skipped += 1
            continue
        samples.queries.append(record["query"])
        samples.positives.append(positives)
        samples.negatives.append(negatives)
    if skipped:
        logger.warning("reranking file %s: skipped %d queries without a negative document",
                       source, skipped)
    if not samples.queries:
        raise DataError(f"reranking file {path} holds no query with positive and negative "
                        "documents")
    return samples
