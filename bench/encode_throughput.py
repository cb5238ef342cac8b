"""Encoding throughput, model size and STS-B dev: `ct encode`, its SavedModel and TFLite
exports, and sentence-transformers' `encode`, on the same sentences.

Engines (`--engines`, default all):

- `ct`: `encode_file`, the function behind `ct encode` (length-sorted batches, memory-mapped
  output) with the TF `transformers` model;
- `saved_model`: the `ct export --format saved_model` folder (tokenizer in the graph), run
  through `ct encode`'s loader for exports;
- `tflite`, `tflite_int8`, `tflite_fp16`: `ct export --format tflite` with `--quantize none`,
  `dynamic` and `float16`, on the TFLite interpreter with `--threads` threads;
- `st`: `SentenceTransformer.encode` in the PyTorch environment (bench/st_encode_throughput.py,
  `.venv-torch` or `$CT_TORCH_PYTHON`).

Every engine embeds the bundled Wikipedia sample (11,915 sentences) after a warm-up pass over
its first 512 sentences,
truncating at `--max-length` (the model is saved with that max length before it is exported,
so every engine truncates alike); sentences/s is the median over `--runs`. Size: the weights
file (`model.safetensors`, the SavedModel's variables, the .tflite file). STS-B dev: Spearman
x100 on the bundled dev set.

    python bench/encode_throughput.py --model bundled:all-MiniLM-L6-v2 --max-length 75
    python bench/encode_throughput.py --engines ct,tflite_int8 --runs 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from ct.evaluation.sts import STSEvaluator
from ct.export import saved_model, tflite
from ct.inference import encode_file
from ct.modeling.encoder import SentenceEncoder
from ct.resources import resolve_path

REPO = Path(__file__).resolve().parents[1]
ENGINES = ("ct", "saved_model", "tflite", "tflite_int8", "tflite_fp16", "st")
QUANTIZE = {"tflite": "none", "tflite_int8": "dynamic", "tflite_fp16": "float16"}


def _megabytes(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def _load_average() -> str:
    """The 1-minute load average: on a shared machine, how busy the other jobs kept it."""
    return f"{os.getloadavg()[0]:.1f}"


def _time_encoder(encoder, source: str, batch_size: int, runs: int, scratch: Path) -> float:
    output = scratch / "vectors.npy"
    warm_up = scratch / "warm_up.txt"  # the first 512 sentences: traces and allocates
    with open(source, encoding="utf-8") as handle:
        warm_up.write_text("".join(line for _, line in zip(range(512), handle)), encoding="utf-8")
    encode_file(encoder, warm_up, output, batch_size=batch_size, show_progress=False)
    rates = [encode_file(encoder, source, output, batch_size=batch_size,
                         show_progress=False)["sentences_per_s"] for _ in range(runs)]
    return statistics.median(rates)


def _sentence_transformers_row(model_dir: Path, args) -> tuple[float, float]:
    python = Path(os.environ.get("CT_TORCH_PYTHON", REPO / ".venv-torch" / "bin" / "python"))
    if not python.exists():
        raise SystemExit(f"no PyTorch environment at {python}: set CT_TORCH_PYTHON or drop st")
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    result = subprocess.run(
        [str(python), str(REPO / "bench" / "st_encode_throughput.py"), "--model", str(model_dir),
         "--input", resolve_path(args.input), "--batch-size", str(args.batch_size),
         "--max-length", str(args.max_length), "--runs", str(args.runs),
         "--threads", str(args.threads), "--sts", resolve_path("bundled:stsb-dev")],
        capture_output=True, text=True, env=env, check=True)
    values = dict(part.split("=") for part in result.stdout.split() if "=" in part)
    return float(values["sentences_per_s"]), float(values["stsb_dev"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--input", default="bundled:wiki_sentences")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=75)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="TFLite and PyTorch threads")
    args = parser.parse_args()
    engines = args.engines.split(",")
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}; known: {', '.join(ENGINES)}")

    load_before = _load_average()
    source = resolve_path(args.input)
    sentences = sum(1 for _ in open(source, encoding="utf-8"))
    evaluator = STSEvaluator.from_file("bundled:stsb-dev")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ct-bench-") as scratch:
        scratch = Path(scratch)
        model_dir = scratch / "model"  # the model at --max-length, what every engine runs
        encoder = SentenceEncoder.from_pretrained(args.model, max_length=args.max_length)
        encoder.save(model_dir)
        for engine in engines:
            if engine == "st":
                rate, score = _sentence_transformers_row(model_dir, args)
                rows.append((engine, rate, _megabytes(model_dir / "model.safetensors"), score))
                print(f"st: {rate:.1f} sentences/s, STS-B dev {score:.2f}, "
                      f"load average {_load_average()}", flush=True)
                continue
            if engine == "ct":
                runner, size = encoder, _megabytes(model_dir / "model.safetensors")
            elif engine == "saved_model":
                saved_model.export(str(model_dir), scratch / "saved_model")
                runner = saved_model.load_encoder(scratch / "saved_model")
                size = _megabytes(scratch / "saved_model" / "variables")
            else:
                path = scratch / f"{engine}.tflite"
                tflite.export(str(model_dir), path, quantize=QUANTIZE[engine])
                runner, size = tflite.load_encoder(path, num_threads=args.threads), _megabytes(path)
            rate = _time_encoder(runner, source, args.batch_size, args.runs, scratch)
            rows.append((engine, rate, size, evaluator(runner)["spearman"]))
            print(f"{engine}: {rate:.1f} sentences/s, STS-B dev {rows[-1][3]:.2f}, "
                  f"load average {_load_average()}", flush=True)
    print(f"\nmodel={args.model} sentences={sentences} batch_size={args.batch_size} "
          f"max_length={args.max_length} threads={args.threads} runs={args.runs} (median); "
          f"load average {load_before} before, {_load_average()} after (other jobs)")
    st_rate = next((rate for engine, rate, _, _ in rows if engine == "st"), None)
    print("| engine | sentences/s | vs st | model size (MB) | STS-B dev |\n"
          "|---|---:|---:|---:|---:|")
    for engine, rate, size, score in rows:
        ratio = f"{rate / st_rate:.2f}x" if st_rate else ""
        print(f"| {engine} | {rate:.1f} | {ratio} | {size:.1f} | {score:.2f} |")


if __name__ == "__main__":
    main()
