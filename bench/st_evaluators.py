"""sentence-transformers' own evaluators on the dev sets `ct eval --task` takes: the reference
`ct`'s retrieval, reranking, pair-classification and STS figures are checked against
(tests/test_task_evaluators.py) and the baseline of bench/eval_throughput.py.

Runs in the PyTorch environment (`.venv-torch`; no TensorFlow, no `ct` import): it reads the
files with its own few lines of parsing, builds `InformationRetrievalEvaluator`,
`RerankingEvaluator`, `BinaryClassificationEvaluator` or `EmbeddingSimilarityEvaluator`, and
writes `{"tasks": {KIND: {metric: value}}, "timing": {...}}` with the metric names of
`ct eval --json` (the `cosine_` prefix dropped, fractions).

    .venv-torch/bin/python bench/st_evaluators.py --model EXPORT_DIR \
        --task retrieval:DIR --task reranking:FILE --task pairs:FILE --task sts:FILE --json OUT
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import time
from pathlib import Path

import torch


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def retrieval_evaluator(path: Path, batch_size: int):
    from sentence_transformers.sentence_transformer.evaluation import \
        InformationRetrievalEvaluator

    folder, qrels = (path.parent.parent, path) if path.is_file() else (path,
                                                                         path / "qrels/dev.tsv")
    corpus = {str(r["_id"]): (f"{r['title']} {r['text']}" if r.get("title") else r["text"])
              .strip() for r in _jsonl(folder / "corpus.jsonl")}
    queries = {str(r["_id"]): r["text"].strip() for r in _jsonl(folder / "queries.jsonl")}
    relevant: dict[str, set[str]] = {}
    with open(qrels, encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if float(row["score"]) > 0:
                relevant.setdefault(row["query-id"], set()).add(row["corpus-id"])
    return InformationRetrievalEvaluator(queries, corpus, relevant, batch_size=batch_size,
                                         precision_recall_at_k=[1, 3, 5, 10, 100],
                                         write_csv=False), len(corpus)


def reranking_evaluator(path: Path, batch_size: int):
    from sentence_transformers.sentence_transformer.evaluation import RerankingEvaluator

    return RerankingEvaluator(_jsonl(path), at_k=10, batch_size=batch_size, write_csv=False), 0


def _table(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return _jsonl(path)
    with open(path, encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            return list(csv.DictReader(handle))
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def pairs_evaluator(path: Path, batch_size: int):
    from sentence_transformers.sentence_transformer.evaluation import \
        BinaryClassificationEvaluator

    rows = _table(path)
    return BinaryClassificationEvaluator([r["sentence1"] for r in rows],
                                         [r["sentence2"] for r in rows],
                                         [int(r["label"]) for r in rows],
                                         batch_size=batch_size, write_csv=False), 0


def sts_evaluator(path: Path, batch_size: int):
    """An STS-B file (genre, file, year, id, score, s1, s2) or score<TAB>s1<TAB>s2."""
    from sentence_transformers.sentence_transformer.evaluation import \
        EmbeddingSimilarityEvaluator

    first, second, scores = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 7:
            scores.append(float(fields[4]))
            first.append(fields[5])
            second.append(fields[6])
        elif len(fields) == 3:
            scores.append(float(fields[0]))
            first.append(fields[1])
            second.append(fields[2])
    return EmbeddingSimilarityEvaluator(first, second, scores, batch_size=batch_size,
                                        write_csv=False), 0


BUILDERS = {"retrieval": retrieval_evaluator, "reranking": reranking_evaluator,
            "pairs": pairs_evaluator, "sts": sts_evaluator}


def ct_names(metrics: dict) -> dict:
    """sentence-transformers' metric names -> `ct eval --json`'s."""
    renamed = {}
    for key, value in metrics.items():
        key = key.replace("cosine_", "")
        key = {"spearman_cosine": "spearman", "pearson_cosine": "pearson"}.get(key, key)
        renamed[key.rsplit("_cosine", 1)[0]] = float(value)
    return renamed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a sentence-transformers folder")
    parser.add_argument("--task", action="append", required=True, metavar="KIND:PATH")
    parser.add_argument("--json", required=True)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(args.model, device="cpu")
    encode_seconds = [0.0]
    original = model.encode  # encode_query and encode_document call it

    def timed_encode(*a, **k):
        started = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            encode_seconds[0] += time.perf_counter() - started

    model.encode = timed_encode
    results, timing = {}, {}
    for spec in args.task:
        kind, _, path = spec.partition(":")
        evaluator, num_docs = BUILDERS[kind](Path(path), args.batch_size)
        encode_seconds[0] = 0.0
        started = time.perf_counter()
        metrics = evaluator(model)
        total = time.perf_counter() - started
        results[kind] = {"kind": kind, **ct_names(metrics)}
        timing[kind] = {"seconds": total, "encode_seconds": encode_seconds[0],
                        "documents": num_docs}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.json).write_text(json.dumps({"tasks": results, "timing": timing,
                                           "peak_rss_mb": peak_mb}, indent=2) + "\n")


if __name__ == "__main__":
    main()
