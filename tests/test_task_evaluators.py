"""The retrieval, reranking and pair-classification evaluators: metric definitions against
independent references (scikit-learn, a brute-force search, sentence-transformers' own
evaluators on the packaged MiniLM), the chunked search against a full sort, and bad input."""

from __future__ import annotations

import itertools
import json
import os
import subprocess

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, ndcg_score

from ct.cli import main
from ct.config.eval_tasks import TASK_KINDS, TASK_METRICS, named_tasks
from ct.data.retrieval_set import RetrievalSet
from ct.evaluation.pair_classification import best_thresholds
from ct.evaluation.ranking_metrics import average_precision, cutoff_metrics, tie_averaged_ndcg
from ct.evaluation.retrieval import RetrievalEvaluator
from ct.evaluation.tasks import EVALUATORS, EvaluationSuite, parse_task
from eval_task_fixtures import (write_pairs_set, write_reranking_set, write_retrieval_set,
                                write_sts_set)
from helpers import REPO_ROOT, torch_python


class TableEncoder:
    """An encoder whose vectors come from a table (text -> vector)."""

    def __init__(self, table: dict):
        self.table = table
        self.calls: list[int] = []

    def encode(self, texts, batch_size=64, normalize=False, show_progress=False):
        texts = list(texts)
        self.calls.append(len(texts))
        vectors = np.array([self.table[t] for t in texts], np.float32)
        if normalize:
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


class HashEncoder:
    """An encoder with a fixed pseudo-random vector per text."""

    def encode(self, texts, batch_size=64, normalize=False, show_progress=False):
        import zlib

        vectors = np.array([np.random.default_rng(zlib.crc32(t.encode())).normal(size=8)
                            for t in texts], np.float32)
        if normalize:
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


def test_every_kind_has_an_evaluator_reporting_the_metrics_configs_may_name(tmp_path):
    assert set(EVALUATORS) == set(TASK_KINDS) == set(TASK_METRICS)
    specs = [f"retrieval:{write_retrieval_set(tmp_path / 'beir', 30, 8)}",
             f"reranking:{write_reranking_set(tmp_path / 'r.jsonl', 6, 4)}",
             f"pairs:{write_pairs_set(tmp_path / 'p.jsonl', 20)}",
             f"pairs:{write_pairs_set(tmp_path / 'p.csv', 20)}",
             f"sts:{write_sts_set(tmp_path / 's.tsv', 20)}"]
    tasks = named_tasks([parse_task(spec) for spec in specs])
    assert [t.name for t in tasks] == ["retrieval", "reranking", "pairs", "pairs_2", "sts"]
    results = EvaluationSuite(tasks)(HashEncoder())
    for name, result in results.items():
        kind = result["kind"]
        figures = set(result) - {"kind", "primary_metric", "num_pairs"}
        assert figures == set(TASK_METRICS[kind]), kind
        assert result["primary_metric"] in figures
    assert results["pairs"] == results["pairs_2"]  # JSONL and CSV read alike


@pytest.mark.parametrize("seed", range(5))
def test_average_precision_and_tie_averaged_ndcg_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    relevant = rng.integers(0, 2, 30)
    relevant[0] = 1
    scores = rng.integers(0, 6, 30).astype(np.float32)  # many ties
    assert average_precision(relevant, scores) == pytest.approx(
        average_precision_score(relevant, scores), abs=1e-12)
    for k in (1, 3, 10, 50):
        assert tie_averaged_ndcg(relevant, scores, k) == pytest.approx(
            ndcg_score([relevant], [scores], k=k), abs=1e-12)


def _reference_ranking_metrics(ranked, relevant, k):
    """sentence-transformers' definitions, written as loops over one query's ranked ids."""
    hits = [doc in relevant for doc in ranked[:k]]
    first = next((i for i, hit in enumerate(hits) if hit), None)
    dcg = sum(hit / np.log2(i + 2) for i, hit in enumerate(hits))
    ideal = sum(1 / np.log2(i + 2) for i in range(min(len(relevant), k)))
    found, precisions = 0, 0.0
    for i, hit in enumerate(hits):
        if hit:
            found += 1
            precisions += found / (i + 1)
    return {"accuracy": float(any(hits)), "precision": sum(hits) / k,
            "recall": sum(hits) / len(relevant), "mrr": 1 / (first + 1) if first is not None
            else 0.0, "ndcg": dcg / ideal, "map": precisions / min(k, len(relevant))}


@pytest.mark.parametrize("chunk, top", [(37, 10), (37, 100), (500, 10)])
def test_chunked_search_ranks_like_a_full_sort_with_ties_broken_by_corpus_id(chunk, top):
    rng = np.random.default_rng(0)
    num_docs, dim = 230, 3
    # 26 directions for 230 documents: groups of equal scores cross every cutoff.
    doc_vectors = rng.integers(-1, 2, (num_docs, dim)).astype(np.float32)
    doc_vectors[np.all(doc_vectors == 0, axis=1)] = 1
    corpus_ids = [f"d{i}" for i in rng.permutation(num_docs)]
    texts = [f"doc {i}" for i in range(num_docs)]
    texts[5] = texts[6]  # equal documents: one embedding, tied scores
    queries = [f"query {i}" for i in range(12)]
    table = {**dict(zip(texts, doc_vectors)),
             **{q: rng.normal(size=dim).astype(np.float32) for q in queries}}
    table[texts[6]] = doc_vectors[6]
    relevant = {q: set(rng.choice(corpus_ids, int(rng.integers(1, 4)), replace=False))
                for q in queries}
    data = RetrievalSet(queries, queries, corpus_ids, texts, relevant, "generated")
    encoder = TableEncoder(table)
    evaluator = RetrievalEvaluator(data, corpus_chunk_size=chunk,
                                   precision_recall_at=(1, 5, top), accuracy_at=(1, 3),
                                   mrr_at=(10,), ndcg_at=(10,), map_at=(top,))
    result = evaluator(encoder)
    assert max(encoder.calls[1:]) <= chunk  # the corpus was embedded chunk by chunk
    # Reference: every score, ranked by (-score, corpus id) in full.
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    expected = {}
    for query in queries:
        scores = [float(np.float32(unit(table[query]) @ unit(table[t]))) for t in texts]
        ranked = [corpus_ids[i] for i in sorted(range(num_docs),
                                                key=lambda i: (-scores[i], corpus_ids[i]))]
        for name, k in [("accuracy", 1), ("accuracy", 3), ("precision", 1), ("precision", 5),
                        ("recall", top), ("mrr", 10), ("ndcg", 10), ("map", top)]:
            value = _reference_ranking_metrics(ranked, relevant[query], k)[name]
            expected.setdefault(f"{name}@{k}", []).append(value)
    for key, values in expected.items():
        assert result[key] == pytest.approx(np.mean(values), abs=1e-6), key
    assert result["primary_metric"] == "ndcg@10"


def test_cutoff_metrics_on_a_hand_ranked_query():
    hits = np.array([[False, True, False, True, False]])
    metrics = cutoff_metrics(hits, np.array([3]), accuracy_at=(1, 2), precision_recall_at=(5,),
                             mrr_at=(10,), ndcg_at=(5,), map_at=(5,))
    assert metrics["accuracy@1"] == 0 and metrics["accuracy@2"] == 1
    assert metrics["precision@5"] == pytest.approx(2 / 5)
    assert metrics["recall@5"] == pytest.approx(2 / 3)
    assert metrics["mrr@10"] == pytest.approx(1 / 2)
    assert metrics["map@5"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    ideal = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert metrics["ndcg@5"] == pytest.approx((1 / np.log2(3) + 1 / np.log2(5)) / ideal)


@pytest.mark.parametrize("seed", range(4))
def test_best_thresholds_are_the_best_of_every_cut(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.uniform(-1, 1, 40), 1).astype(np.float32)  # ties
    labels = (scores + rng.normal(0, 0.5, 40) > 0).astype(int)
    result = best_thresholds(scores, labels)

    def accuracy(threshold):
        return np.mean((scores >= threshold) == labels)

    def f1(threshold):
        predicted = scores >= threshold
        tp = np.sum(predicted & (labels == 1))
        return 0.0 if tp == 0 else 2 * tp / (predicted.sum() + labels.sum())

    cuts = [np.float32(np.inf), *np.unique(scores)]
    assert result["accuracy"] == pytest.approx(max(accuracy(c) for c in cuts))
    assert result["f1"] == pytest.approx(max(f1(c) for c in cuts))
    # The thresholds reproduce the figures.
    assert accuracy(result["accuracy_threshold"]) == pytest.approx(result["accuracy"])
    assert f1(result["f1_threshold"]) == pytest.approx(result["f1"])


def _expect_error(capsys, args, *fragments):
    assert main(["eval", "unused-model", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ct: error:") and len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err


def test_bad_dev_sets_are_one_line_errors_naming_file_and_line(tmp_path, capsys):
    beir = write_retrieval_set(tmp_path / "beir", num_docs=30, num_queries=5)
    qrels = beir / "qrels" / "dev.tsv"
    lines = qrels.read_text().splitlines()
    qrels.write_text("\n".join(lines + ["nobody\tdoc0\t1"]) + "\n")
    _expect_error(capsys, ["--task", f"retrieval:{beir}"], f"{qrels}:{len(lines) + 1}",
                  "'nobody'")
    qrels.write_text("\n".join(lines[:2] + ["q1\tmissing-doc\t1"]) + "\n")
    _expect_error(capsys, ["--task", f"retrieval:{beir}"], f"{qrels}:3", "'missing-doc'")
    qrels.write_text("query-id\tdoc\tscore\n")
    _expect_error(capsys, ["--task", f"retrieval:{beir}"], f"{qrels}:1", "corpus-id")

    reranking = tmp_path / "rerank.jsonl"
    reranking.write_text('{"query": "a", "positive": ["b"], "negative": ["c"]}\n'
                         '{"query": "a", "positive": [], "negative": ["c"]}\n')
    _expect_error(capsys, ["--task", f"reranking:{reranking}"], f"{reranking}:2", "positive")
    reranking.write_text('{"query": "a", "negative": ["c"]}\n')
    _expect_error(capsys, ["--task", f"reranking:{reranking}"], f"{reranking}:1", "'positive'")

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("sentence1\tsentence2\tlabel\na\tb\t1\nc\td\t2\n")
    _expect_error(capsys, ["--task", f"pairs:{pairs}"], f"{pairs}:3", "'2' is not 0 or 1")
    pairs.write_text("sentence1\tlabel\na\t1\n")
    _expect_error(capsys, ["--task", f"pairs:{pairs}"], f"{pairs}:1", "sentence2")
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text('{"sentence1": "a", "sentence2": "b", "label": 0.5}\n')
    _expect_error(capsys, ["--task", f"pairs:{jsonl}"], f"{jsonl}:1", "not 0 or 1")

    _expect_error(capsys, ["--task", f"ranking:{reranking}"], "unknown evaluation task kind",
                  "reranking")


@pytest.mark.slow
def test_packaged_minilm_scores_as_in_sentence_transformers(tmp_path, capsys):
    """`ct eval --task` and sentence-transformers' evaluators, same model, same dev sets:
    every metric within 0.002."""
    assert main(["export", "bundled:all-MiniLM-L6-v2", "--out", str(tmp_path / "model")]) == 0
    tasks = [f"retrieval:{write_retrieval_set(tmp_path / 'beir')}",
             f"reranking:{write_reranking_set(tmp_path / 'rerank.jsonl')}",
             f"pairs:{write_pairs_set(tmp_path / 'pairs.csv')}",
             f"sts:{write_sts_set(tmp_path / 'sts.tsv')}"]
    task_args = list(itertools.chain.from_iterable(("--task", task) for task in tasks))
    assert main(["eval", str(tmp_path / "model"), *task_args, "--json",
                 str(tmp_path / "ct.json"), "-q"]) == 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    env.pop("TF_USE_LEGACY_KERAS", None)
    result = subprocess.run([str(torch_python()), str(REPO_ROOT / "bench" / "st_evaluators.py"),
                             "--model", str(tmp_path / "model"), *task_args, "--json",
                             str(tmp_path / "st.json")], capture_output=True, text=True,
                            env=env, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    ours = json.loads((tmp_path / "ct.json").read_text())["tasks"]
    theirs = json.loads((tmp_path / "st.json").read_text())["tasks"]
    assert set(ours) == set(theirs) == {"retrieval", "reranking", "pairs", "sts"}
    for task, reference in theirs.items():
        compared = [key for key in reference if key != "kind"]
        assert set(compared) <= set(ours[task]), (task, set(compared) - set(ours[task]))
        for key in compared:
            assert ours[task][key] == pytest.approx(reference[key], abs=0.002), (task, key)
    assert {"ndcg@10", "mrr@10", "map@100", "recall@10", "recall@100",
            "accuracy@1"} <= set(theirs["retrieval"])
    assert {"ap", "f1", "accuracy", "f1_threshold", "accuracy_threshold"} <= set(theirs["pairs"])
