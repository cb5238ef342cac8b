"""Loads a `ct export` folder the way PyTorch users do, to check it against `ct`.

Runs in the PyTorch environment (`.venv-torch`: torch + transformers 5 + sentence-transformers;
no TensorFlow, no `ct` import). Two loaders:

- `transformers`: `AutoModel`/`AutoTokenizer` (PyTorch weights from `model.safetensors`), pooled
  as `1_Pooling/config.json` says, truncated to `sentence_bert_config.json`'s max length,
  normalised if `modules.json` ends in `Normalize`;
- `sentence-transformers`: `SentenceTransformer(DIR).encode`.

    .venv-torch/bin/python bench/pytorch_interop.py encode --model DIR --input s.txt --out v.npz
    .venv-torch/bin/python bench/pytorch_interop.py sts --model DIR --sts sts-dev.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch


def transformers_vectors(model_dir: Path, texts: list[str], batch_size: int = 64) -> np.ndarray:
    from transformers import AutoModel, AutoTokenizer

    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())[
        "max_seq_length"]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    if prompts.get("default_prompt_name"):  # a prompt template, as sentence-transformers does
        prefix = prompts["prompts"][prompts["default_prompt_name"]]
        texts = [prefix + text for text in texts]
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            if pooling["pooling_mode_cls_token"]:
                out.append(hidden[:, 0].numpy())
            else:
                mask = batch["attention_mask"].unsqueeze(-1).float()
                out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy())
    vectors = np.concatenate(out)
    dense = model_dir / "2_Dense"
    if dense.exists():  # a projection head saved as a sentence-transformers Dense module
        from safetensors.numpy import load_file

        weights = load_file(str(dense / "model.safetensors"))
        vectors = vectors @ weights["linear.weight"].T + weights.get("linear.bias", 0.0)
    modules = json.loads((model_dir / "modules.json").read_text())
    if any(module["type"].endswith(".Normalize") for module in modules):
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def sentence_transformers_vectors(model_dir: Path, texts: list[str],
                                  batch_size: int = 64) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    return model.encode(texts, batch_size=batch_size, convert_to_numpy=True)


def read_stsb(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return ([r[5] for r in rows], [r[6] for r in rows],
            np.array([float(r[4]) for r in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    encode = commands.add_parser("encode", help="vectors of each line, from both loaders")
    encode.add_argument("--model", type=Path, required=True)
    encode.add_argument("--input", type=Path, required=True)
    encode.add_argument("--out", type=Path, required=True, help=".npz with both arrays")
    sts = commands.add_parser("sts", help="STS-B file Spearman x100 with SentenceTransformer")
    sts.add_argument("--model", type=Path, required=True)
    sts.add_argument("--sts", type=Path, required=True)
    sts.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.command == "encode":
        texts = args.input.read_text(encoding="utf-8").splitlines()
        np.savez(args.out, transformers=transformers_vectors(args.model, texts),
                 sentence_transformers=sentence_transformers_vectors(args.model, texts))
        return
    from scipy.stats import spearmanr

    first, second, gold = read_stsb(args.sts)
    unique = sorted(set(first) | set(second))
    vectors = dict(zip(unique, sentence_transformers_vectors(args.model, unique)))
    a = np.stack([vectors[s] for s in first])
    b = np.stack([vectors[s] for s in second])
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    result = {"spearman": float(spearmanr(cosine, gold)[0] * 100), "pairs": len(gold)}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
