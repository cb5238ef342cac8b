"""An independent STS evaluation in PyTorch, to check `ct eval`'s numbers.

Runs in its own environment (PyTorch + current transformers; no TensorFlow, no `ct` import):
reads the SentEval layout with its own parsing, embeds with `AutoModel` and attention-masked
mean pooling, and computes Spearman x100 of cosine similarity per subset / file.

    .venv-torch/bin/python bench/torch_sts_reference.py --model DIR --data-dir DIR --json out.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from transformers import AutoModel, AutoTokenizer


def read_pairs(data_dir: Path) -> dict[str, tuple[list, list, list]]:
    sets = {}
    for input_file in sorted(data_dir.glob("STS/STS1*-en-test/STS.input.*.txt")):
        task = input_file.parent.name.split("-")[0]
        subset = input_file.name[len("STS.input."):-len(".txt")]
        gold_file = input_file.with_name(f"STS.gs.{subset}.txt")
        a, b, g = [], [], []
        lines = zip(input_file.read_text().split("\n"), gold_file.read_text().split("\n"))
        for pair, gold in lines:
            if gold.strip():
                first, second = pair.split("\t")[:2]
                a.append(first), b.append(second), g.append(float(gold))
        sets[f"{task}/{subset}"] = (a, b, g)
    for split in ("dev", "test"):
        path = data_dir / "STS" / "STSBenchmark" / f"sts-{split}.csv"
        if path.exists():
            rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
            sets[f"STSBenchmark-{split}"] = ([r[5] for r in rows], [r[6] for r in rows],
                                             [float(r[4]) for r in rows])
    return sets


@torch.no_grad()
def embed(model, tokenizer, texts, max_length, batch_size=64):
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy())
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--max-length", type=int, default=75)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModel.from_pretrained(args.model).eval()
    results = {}
    for name, (a, b, gold) in read_pairs(args.data_dir).items():
        va = embed(model, tokenizer, a, args.max_length)
        vb = embed(model, tokenizer, b, args.max_length)
        cosine = (va * vb).sum(1) / (np.linalg.norm(va, axis=1) * np.linalg.norm(vb, axis=1))
        results[name] = float(spearmanr(cosine, gold)[0] * 100)
        print(f"{name:28s} {results[name]:6.2f}")
    args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
