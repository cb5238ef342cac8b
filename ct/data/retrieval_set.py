"""Reading a retrieval dev set in the BEIR layout (Thakur et al., 2021)::

    DIR/corpus.jsonl        {"_id": "d1", "title": "...", "text": "..."}  (title optional)
    DIR/queries.jsonl       {"_id": "q1", "text": "..."}
    DIR/qrels/<split>.tsv   query-id<TAB>corpus-id<TAB>score, after a header row

A document is embedded as ``title + " " + text`` (stripped), as sentence-transformers' BEIR
examples do. A qrels row with a score above 0 marks the document relevant to the query
(relevance is binary, as in sentence-transformers' ``InformationRetrievalEvaluator``); rows
scored 0 are read and checked but mark nothing. Queries without a relevant document are not
evaluated (as there). The path given may be the folder (its ``qrels/dev.tsv``, else its only
qrels file) or one qrels file inside ``DIR/qrels/``.

Example:
    >>> dev = read_retrieval_set("data/scifact")            # data/scifact/qrels/dev.tsv
    >>> len(dev.query_ids), len(dev.corpus_ids)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ct.data.records import jsonl_objects, table_rows
from ct.errors import DataError
from ct.resources import resolve_path

QRELS_COLUMNS = ("query-id", "corpus-id", "score")


@dataclasses.dataclass
class RetrievalSet:
    """Queries (only those with a relevant document, in file order), the corpus (file order)
    and each query's relevant documents."""

    query_ids: list[str]
    query_texts: list[str]
    corpus_ids: list[str]
    corpus_texts: list[str]
    relevant: dict[str, set[str]]
    source: str


def find_qrels(path: str) -> tuple[Path, Path]:
    """``(folder, qrels file)`` for a BEIR folder or a qrels file inside ``folder/qrels/``."""
    given = Path(resolve_path(path))
    if given.is_file():
        if given.parent.name != "qrels":
            raise DataError(f"retrieval set {path}: give the BEIR folder (holding corpus.jsonl, "
                            "queries.jsonl and qrels/) or a file inside its qrels/ folder")
        return given.parent.parent, given
    if not given.is_dir():
        raise DataError(f"retrieval set not found: {path}")
    qrels = sorted((given / "qrels").glob("*.tsv"))
    if (given / "qrels" / "dev.tsv").exists():
        return given, given / "qrels" / "dev.tsv"
    if len(qrels) == 1:
        return given, qrels[0]
    if not qrels:
        raise DataError(f"retrieval set {path}: no qrels/*.tsv file (BEIR layout: "
                        "qrels/<split>.tsv with a header query-id, corpus-id, score)")
    raise DataError(f"retrieval set {path}: several qrels files and no qrels/dev.tsv; give "
                    f"one of them: {', '.join(str(q) for q in qrels)}")


def _read_texts(path: Path, what: str, with_title: bool) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    for number, record in jsonl_objects(path, what, ("_id", "text")):
        key, text = record["_id"], record["text"]
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        if not isinstance(key, str) or not isinstance(text, str):
            raise DataError(f"{path}:{number}: _id and text must be strings")
        if key in seen:
            raise DataError(f"{path}:{number}: _id {key!r} appears twice")
        seen.add(key)
        title = record.get("title") if with_title else None
        if title:
            if not isinstance(title, str):
                raise DataError(f"{path}:{number}: title must be a string")
            text = f"{title} {text}"
        ids.append(key)
        texts.append(text.strip())
    if not ids:
        raise DataError(f"{what} {path} holds no record")
    return ids, texts


def read_retrieval_set(path: str) -> RetrievalSet:
    """Reads a BEIR folder (or one of its qrels files); see the module docstring.

    Raises:
        DataError: a missing file, a malformed line, a duplicate ``_id``, a qrels row naming
            an unknown query or document or a score that is not a number (each naming the
            file and line), or no query with a relevant document.
    """
    folder, qrels_path = find_qrels(path)
    corpus_ids, corpus_texts = _read_texts(folder / "corpus.jsonl", "corpus file", True)
    query_ids, query_texts = _read_texts(folder / "queries.jsonl", "queries file", False)
    known_queries, known_docs = set(query_ids), set(corpus_ids)
    relevant: dict[str, set[str]] = {}
    for number, (query, doc, score) in table_rows(qrels_path, "qrels file", QRELS_COLUMNS):
        query, doc = query.strip(), doc.strip()
        if query not in known_queries:
            raise DataError(f"{qrels_path}:{number}: query-id {query!r} is not in "
                            f"{folder / 'queries.jsonl'}")
        if doc not in known_docs:
            raise DataError(f"{qrels_path}:{number}: corpus-id {doc!r} is not in "
                            f"{folder / 'corpus.jsonl'}")
        try:
            value = float(score)
        except ValueError:
            raise DataError(f"{qrels_path}:{number}: score {score!r} is not a number") from None
        if value > 0:
            relevant.setdefault(query, set()).add(doc)
    evaluated = [(q, t) for q, t in zip(query_ids, query_texts) if q in relevant]
    if not evaluated:
        raise DataError(f"{qrels_path}: no query has a relevant document (a row with score > 0)")
    return RetrievalSet([q for q, _ in evaluated], [t for _, t in evaluated], corpus_ids,
                        corpus_texts, relevant, str(qrels_path))
