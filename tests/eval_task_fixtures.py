"""Dev sets of each ``ct eval --task`` kind, generated from the bundled STS-B files (held out
from CT's training sentences), written into a test's folder."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from helpers import STSB_DIR


def stsb_pairs(split: str = "test") -> list[tuple[str, str, float]]:
    """``(sentence1, sentence2, score)`` of a bundled STS-B split."""
    rows = []
    for line in (STSB_DIR / f"sts-{split}.csv").read_text().splitlines():
        fields = line.split("\t")
        rows.append((fields[5], fields[6], float(fields[4])))
    return rows


def _key(text: str) -> str:
    # An uncased model embeds texts that differ only in case or spacing alike: such near
    # duplicates would tie and be ranked by float noise, so a set keeps one of them.
    return " ".join(text.lower().split())


def write_retrieval_set(folder: Path, num_docs: int = 400, num_queries: int = 100,
                        seed: int = 0) -> Path:
    """A BEIR folder: documents are distinct second sentences (some with a title), a query
    is the first sentence of a similar pair (score >= 3.5) and its relevant document the
    second; some qrels rows score 0 (not relevant), one query has two relevant documents."""
    rng = random.Random(seed)
    pairs = stsb_pairs("test")
    docs: dict[str, str] = {}
    queries: dict[str, str] = {}
    qrels: list[tuple[str, str, int]] = []
    seen = set()
    for index, (first, second, score) in enumerate(pairs):
        if len(docs) >= num_docs or _key(second) in seen:
            continue
        seen.add(_key(second))
        docs[f"doc{index}"] = second
        if score >= 3.5 and len(queries) < num_queries and _key(first) not in seen:
            seen.add(_key(first))
            queries[f"q{index}"] = first
            qrels.append((f"q{index}", f"doc{index}", 1))
    doc_ids = list(docs)
    qrels += [(q, rng.choice(doc_ids), 0) for q in list(queries)[:10]]
    qrels.append((list(queries)[0], doc_ids[-1], 2))
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w") as handle:
        for position, (key, text) in enumerate(docs.items()):
            title = "News" if position % 7 == 0 else ""
            handle.write(json.dumps({"_id": key, "title": title, "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w") as handle:
        for key, text in queries.items():
            handle.write(json.dumps({"_id": key, "text": text}) + "\n")
        handle.write(json.dumps({"_id": "unjudged", "text": "a query without judgements"}) + "\n")
    with open(folder / "qrels" / "dev.tsv", "w") as handle:
        handle.write("query-id\tcorpus-id\tscore\n")
        handle.writelines(f"{q}\t{d}\t{s}\n" for q, d, s in qrels)
    return folder


def write_reranking_set(path: Path, num_queries: int = 40, num_negatives: int = 9,
                        seed: int = 0) -> Path:
    """JSONL: a first sentence, its pair's second sentence (and, for every third query,
    another similar one) as positives, second sentences of other pairs as negatives; every
    fourth query's positive is an unrelated sentence instead (ranked anywhere)."""
    rng = random.Random(seed)
    pairs = [p for p in stsb_pairs("dev") if p[2] >= 3.0]
    others = [p[1] for p in stsb_pairs("dev")[800:]]
    with open(path, "w") as handle:
        for index in range(num_queries):
            first, second, _ = pairs[index]
            positives = [second] + ([pairs[index + 500][1]] if index % 3 == 0 else [])
            if index % 4 == 1:
                positives = [rng.choice(others)]
            negatives = rng.sample(others, num_negatives)
            handle.write(json.dumps({"query": first, "positive": positives,
                                     "negative": negatives}) + "\n")
    return path


def write_pairs_set(path: Path, num_pairs: int = 200) -> Path:
    """A CSV (quoted where a sentence holds a comma), TSV or JSONL file of STS-B dev pairs
    labelled 1 when their gold score is >= 3 (JSONL labels are the strings "0"/"1")."""
    rows = [(str(i), a, b, str(int(s >= 3.0)))
            for i, (a, b, s) in enumerate(stsb_pairs("dev")[:num_pairs])]
    header = ["id", "sentence1", "sentence2", "label"]
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(dict(zip(header, row))) + "\n" for row in rows))
    elif path.suffix == ".csv":
        with open(path, "w", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
    else:
        path.write_text("".join("\t".join(row) + "\n" for row in [header, *rows]))
    return path


def write_sts_set(path: Path, num_pairs: int = 200) -> Path:
    """``score<TAB>sentence1<TAB>sentence2`` lines of STS-B test pairs."""
    rows = stsb_pairs("test")[-num_pairs:]
    path.write_text("".join(f"{s}\t{a}\t{b}\n" for a, b, s in rows))
    return path
