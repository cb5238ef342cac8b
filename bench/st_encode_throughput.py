"""``SentenceTransformer.encode`` throughput: the baseline of bench/encode_throughput.py.

Runs in the PyTorch environment (``.venv-torch``): encodes the bundled Wikipedia sample with
batch 64 and max length 75 after one warm-up pass; prints the median sentences/s (and with
``--sts FILE``, the STS-B Spearman x100 of the model on that file).

    .venv-torch/bin/python bench/st_encode_throughput.py --model PATH_TO_all-MiniLM-L6-v2
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", default=str(REPO / "ct" / "resources" / "corpus"
                                               / "wiki_sentences.txt"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=75)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sts", help="an STS-B file (sts-dev.csv) to score the model on")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sentences = [line.rstrip("\n") for line in open(args.input, encoding="utf-8")]
    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = args.max_length
    model.encode(sentences[:512], batch_size=args.batch_size)
    rates = []
    for _ in range(args.runs):
        started = time.perf_counter()
        model.encode(sentences, batch_size=args.batch_size)
        rates.append(len(sentences) / (time.perf_counter() - started))
    print(f"SentenceTransformer.encode: {statistics.median(rates):.0f} sentences/s "
          f"({len(sentences)} sentences, batch {args.batch_size}, max length {args.max_length}, "
          f"{args.threads} threads)")
    print(f"sentences_per_s={statistics.median(rates):.1f}")
    if args.sts:
        from pytorch_interop import read_stsb  # bench/, beside this script
        from scipy.stats import spearmanr

        first, second, gold = read_stsb(Path(args.sts))
        a, b = (model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True)
                for texts in (first, second))
        print(f"stsb_dev={spearmanr((a * b).sum(1), gold)[0] * 100:.2f}")


if __name__ == "__main__":
    main()
