"""Retrieval evaluation at scale: `ct`'s `RetrievalEvaluator` against sentence-transformers'
`InformationRetrievalEvaluator` on the same generated corpus and model.

Builds a BEIR folder of `--docs` documents (each one to three sentences of the bundled
Wikipedia sample, drawn with a seed, so the texts are distinct) and `--queries` queries (a
document's first sentence with a word in four dropped; that document is the relevant one),
then, each in its own process so peak memory is its own:

- ct: `RetrievalEvaluator` (documents in length order, chunked top-k) on `--model`;
- sentence-transformers: bench/st_evaluators.py in the PyTorch environment (`.venv-torch`,
  or `$CT_TORCH_PYTHON`) on the same model exported by `ct export`;

and prints documents embedded per second, search time (scoring and top-k, embedding
excluded), total time, peak RSS and nDCG@10 of each. `--random-vectors` replaces ct's model
by random unit vectors (a hash of the text), to time the search and its memory alone at a
million documents.

    python bench/eval_throughput.py --docs 100000
    python bench/eval_throughput.py --docs 1000000 --random-vectors --skip-st
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIKI = REPO / "ct" / "resources" / "corpus" / "wiki_sentences.txt"


def build_corpus(folder: Path, num_docs: int, num_queries: int, seed: int = 0) -> Path:
    """Writes the generated BEIR folder (once per size and seed)."""
    if (folder / "qrels" / "dev.tsv").exists():
        return folder
    rng = random.Random(seed)
    sentences = [s.strip() for s in WIKI.read_text(encoding="utf-8").splitlines() if s.strip()]
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    docs = []
    while len(docs) < num_docs:
        text = " ".join(rng.sample(sentences, rng.randint(1, 3)))
        if text not in seen:
            seen.add(text)
            docs.append(text)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as handle:
        for index, text in enumerate(docs):
            handle.write(json.dumps({"_id": f"d{index}", "title": "", "text": text}) + "\n")
    picked = rng.sample(range(num_docs), num_queries)
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as queries, \
            open(folder / "qrels" / "dev.tsv", "w", encoding="utf-8") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for index in picked:
            words = docs[index].split(". ")[0].split()
            query = " ".join(w for i, w in enumerate(words) if i % 4 != 3)
            queries.write(json.dumps({"_id": f"q{index}", "text": query}) + "\n")
            qrels.write(f"q{index}\td{index}\t1\n")
    return folder


class RandomVectors:
    """A stand-in encoder: a unit vector per text, seeded by the text's hash."""

    def __init__(self, dim: int = 384):
        self.dim = dim

    def encode(self, texts, batch_size=64, normalize=False, show_progress=False):
        import numpy as np

        vectors = np.stack([np.random.default_rng(abs(hash(t)) % (2 ** 32)).standard_normal(
            self.dim, dtype=np.float32) for t in texts])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def run_ct(args) -> dict:
    """The ct side (in this process): prints its figures as JSON."""
    from ct.evaluation.retrieval import RetrievalEvaluator

    evaluator = RetrievalEvaluator.from_path(args.corpus, batch_size=args.batch_size,
                                             corpus_chunk_size=args.chunk)
    if args.random_vectors:
        encoder = RandomVectors()
    else:
        from ct.modeling.encoder import SentenceEncoder

        encoder = SentenceEncoder.from_pretrained(args.model)
    encode_seconds = [0.0]
    encode = encoder.encode

    def timed(*a, **k):
        started = time.perf_counter()
        try:
            return encode(*a, **k)
        finally:
            encode_seconds[0] += time.perf_counter() - started

    encoder.encode = timed
    started = time.perf_counter()
    metrics = evaluator(encoder)
    total = time.perf_counter() - started
    return {"seconds": total, "encode_seconds": encode_seconds[0],
            "search_seconds": evaluator.search_seconds,
            "documents": len(evaluator.data.corpus_ids), "queries": len(evaluator.data.query_ids),
            "ndcg@10": metrics["ndcg@10"],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_st(args, model_dir: Path, out: Path) -> dict:
    torch_python = os.environ.get("CT_TORCH_PYTHON", str(REPO / ".venv-torch" / "bin" / "python"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    subprocess.run([torch_python, str(REPO / "bench" / "st_evaluators.py"), "--model",
                    str(model_dir), "--task", f"retrieval:{args.corpus}", "--json", str(out),
                    "--batch-size", str(args.batch_size), "--threads", str(args.threads)],
                   check=True, env=env)
    result = json.loads(out.read_text())
    timing = result["timing"]["retrieval"]
    return {"seconds": timing["seconds"], "encode_seconds": timing["encode_seconds"],
            "search_seconds": timing["seconds"] - timing["encode_seconds"],
            "documents": timing["documents"], "ndcg@10": result["tasks"]["retrieval"]["ndcg@10"],
            "peak_rss_mb": result["peak_rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=50_000, help="ct's corpus_chunk_size")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--workdir", help="where the corpus and export go (default: a folder "
                                          "in the temp dir, kept for reruns)")
    parser.add_argument("--random-vectors", action="store_true",
                        help="ct side: random vectors instead of the model (search alone)")
    parser.add_argument("--skip-st", action="store_true")
    parser.add_argument("--side", choices=["ct"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "ct":
        print(json.dumps(run_ct(args)))
        return
    work = Path(args.workdir or Path(tempfile.gettempdir()) / f"ct-eval-bench-{args.docs}")
    corpus = build_corpus(work / "beir", args.docs, args.queries)
    args.corpus = str(corpus)
    child = [sys.executable, __file__, "--side", "ct", "--corpus", str(corpus), "--model",
             args.model, "--batch-size", str(args.batch_size), "--chunk", str(args.chunk)]
    if args.random_vectors:
        child.append("--random-vectors")
    output = subprocess.run(child, check=True, capture_output=True, text=True).stdout
    rows = {"ct": json.loads(output.strip().splitlines()[-1])}
    print("ct:", json.dumps(rows["ct"]), flush=True)
    if not args.skip_st:
        model_dir = work / "model"
        if not (model_dir / "modules.json").exists():
            subprocess.run([sys.executable, "-m", "ct", "export", args.model, "--out",
                            str(model_dir), "--overwrite", "-q"], check=True)
        rows["sentence-transformers"] = run_st(args, model_dir, work / "st.json")
    print(f"retrieval over {args.docs} generated documents, {args.queries} queries, "
          f"{'random vectors' if args.random_vectors else args.model}, batch {args.batch_size}")
    print(f"{'':<24}{'docs/s':>9}{'encode s':>10}{'search s':>10}{'total s':>9}"
          f"{'peak RSS MB':>13}{'nDCG@10':>9}")
    for name, row in rows.items():
        rate = row["documents"] / row["encode_seconds"] if row["encode_seconds"] else 0
        print(f"{name:<24}{rate:>9.0f}{row['encode_seconds']:>10.1f}"
              f"{row['search_seconds']:>10.2f}{row['seconds']:>9.1f}{row['peak_rss_mb']:>13.0f}"
              f"{row['ndcg@10']:>9.4f}")


if __name__ == "__main__":
    main()
