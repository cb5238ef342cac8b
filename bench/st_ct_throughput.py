"""sentence-transformers' CT on this machine: the baseline ct's speed is compared with.

Runs in the PyTorch environment (``.venv-torch``, ``make torch-venv``): two copies of the
model as ``ContrastiveTensionLoss`` builds them (``model1`` a deep copy of ``model2``), batches
in the CT layout (16 pairs: 2 positives and 14 negative pairs with different sentences for
each model, as ct and the authors' code build them), max length 75, RMSprop at 1e-5, the
loss's own forward (dot products, BCE), backward and step; random sentences of the bundled
Wikipedia sample. Prints the median pairs/s over windows after warm-up, and peak RSS.

    .venv-torch/bin/python bench/st_ct_throughput.py --model PATH_TO_all-MiniLM-L6-v2
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import ContrastiveTensionLoss

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a sentence-transformers folder")
    parser.add_argument("--corpus", default=str(REPO / "ct" / "resources" / "corpus"
                                                / "wiki_sentences.txt"))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-negatives", type=int, default=7)
    parser.add_argument("--max-length", type=int, default=75)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--window-steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(0)
    torch.manual_seed(0)
    sentences = [line.strip() for line in open(args.corpus, encoding="utf-8") if line.strip()]
    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = args.max_length
    loss = ContrastiveTensionLoss(model)
    loss.train()
    optimizer = torch.optim.RMSprop(loss.parameters(), lr=1e-5)
    groups, k = args.batch_size // (args.num_negatives + 1), args.num_negatives

    def batch():
        texts_1, texts_2, labels = [], [], []
        for _ in range(groups):
            positive = random.choice(sentences)
            texts_1 += [positive] + random.sample(sentences, k)
            texts_2 += [positive] + random.sample(sentences, k)
            labels += [1.0] + [0.0] * k
        features = [model.tokenize(texts_1), model.tokenize(texts_2)]
        return features, torch.tensor(labels)

    def step():
        features, labels = batch()
        optimizer.zero_grad()
        value = loss(features, labels)
        value.backward()
        optimizer.step()
        return float(value)

    for _ in range(args.warmup_steps):
        step()
    rates = []
    for _ in range(args.windows):
        started = time.perf_counter()
        for _ in range(args.window_steps):
            step()
        rates.append(args.window_steps * args.batch_size / (time.perf_counter() - started))
    print(f"sentence-transformers CT: pairs/s median {statistics.median(rates):.1f} (min "
          f"{min(rates):.1f}, max {max(rates):.1f}); torch {torch.__version__}, "
          f"{args.threads} threads; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
