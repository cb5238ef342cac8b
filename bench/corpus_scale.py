"""Corpus scale: index build, start and resume times, memory, pipeline speed, sampling spread.

Generates a corpus of ``--lines`` numbered sentences (``"<line number> <words>"``, about 100
bytes a line), then measures, with the packaged MiniLM tokenizer and the paper's batch layout
(16 pairs, K=7: 30 sentences a step):

- the one-time index build (in process);
- ``ct sample --steps 1`` as a user runs it (a fresh process: Python, TensorFlow and the corpus
  index loaded, the first batch written): with a cold index cache and a warm one, and at step
  ``--resume-step`` (a resumed run's first batch);
- the tokenized input pipeline on its own (sentences/s, after warm-up), next to what CT
  training consumes (``--train-pairs-per-s``, measured by bench/ct_throughput.py);
- peak RSS of a process running that pipeline;
- where the first 150,000 drawn sentences (the paper's 5,000 steps) fall in the ten tenths of
  the corpus, with a chi-square p-value (uniform sampling: p well above 0.01).

    python bench/corpus_scale.py --lines 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WORDS = ("the of and in to was is for on as with by he at from his an were are which this "
         "also be has had first one their its new after who they have her she two been "
         "other when there all during into school time may years more most only over city "
         "some world would where later up such used many can state about national out known "
         "university united then made").split()


def generate(path: Path, lines: int, seed: int = 0) -> None:
    """Writes ``lines`` numbered sentences of 8 to 25 words."""
    rng = np.random.default_rng(seed)
    words = np.array(WORDS)
    with open(path, "w", encoding="utf-8") as handle:
        for start in range(0, lines, 100_000):
            count = min(100_000, lines - start)
            lengths = rng.integers(8, 26, size=count)
            picks = rng.integers(0, len(words), size=int(lengths.sum()))
            cuts = np.cumsum(lengths)[:-1]
            chunk = [f"{start + i} " + " ".join(part) + "."
                     for i, part in enumerate(np.split(words[picks], cuts))]
            handle.write("\n".join(chunk) + "\n")


def ct_sample(config_args: list[str], out: Path, start_step: int, env: dict) -> float:
    """Seconds of one ``ct sample --steps 1`` process."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ct", "sample", *config_args, "--steps", "1",
                    "--start-step", str(start_step), "--out", str(out), "-q"],
                   check=True, env=env, capture_output=True)
    return time.perf_counter() - started


PIPELINE = r"""
import json, resource, sys, time
from ct.data.corpus import Corpus
from ct.data.ct_dataset import build_ct_dataset
from ct.modeling.loading import load_tokenizer
corpus = Corpus.from_patterns([sys.argv[1]])
tokenizer = load_tokenizer("bundled:all-MiniLM-L6-v2")
dataset = build_ct_dataset(corpus, tokenizer, batch_size=16, num_negatives=7, max_length=75,
                           seed=42, start_position=int(sys.argv[2]))
iterator = iter(dataset)
for _ in range(20):
    next(iterator)
batches = int(sys.argv[3])
started = time.perf_counter()
for _ in range(batches):
    next(iterator)
seconds = time.perf_counter() - started
print(json.dumps({"sentences_per_s": batches * 30 / seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
      flush=True)
import os
os._exit(0)  # tf.data's prefetch threads are still running Python: skip interpreter teardown
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--resume-step", type=int, default=1_000_000)
    parser.add_argument("--pipeline-batches", type=int, default=300)
    parser.add_argument("--train-pairs-per-s", type=float, default=36.0,
                        help="CT training speed to compare with (bench/ct_throughput.py)")
    parser.add_argument("--workdir", help="where the corpus and caches go (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ct-corpus-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus_path = work / f"corpus-{args.lines}.txt"
    if not corpus_path.exists():
        started = time.perf_counter()
        generate(corpus_path, args.lines)
        print(f"generated {args.lines:,} lines ({corpus_path.stat().st_size / 1e9:.2f} GB) in "
              f"{time.perf_counter() - started:.1f} s")
    cache = work / "cache"
    env = {**os.environ, "CT_CACHE_DIR": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    config = [str(REPO / "configs" / "ct_paper.yaml"), "--set", f"corpus={corpus_path}"]
    figures = {"lines": args.lines, "bytes": corpus_path.stat().st_size}

    # the index build alone, in process (cold)
    os.environ["CT_CACHE_DIR"] = str(work / "cache-inprocess")
    from ct.data.corpus import Corpus

    started = time.perf_counter()
    corpus = Corpus.from_patterns([str(corpus_path)])
    figures["index_build_s"] = time.perf_counter() - started if len(corpus) else 0.0
    figures["index_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # ct sample as a user runs it: cold cache, warm cache, resume
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    figures["first_batch_cold_s"] = ct_sample(config, work / "s.jsonl", 1, env)
    figures["first_batch_warm_s"] = ct_sample(config, work / "s.jsonl", 1, env)
    figures["resume_first_batch_s"] = ct_sample(config, work / "r.jsonl",
                                                args.resume_step + 1, env)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import ct.data.ct_dataset"], check=True, env=env)
    figures["python_and_tensorflow_import_s"] = time.perf_counter() - started

    # the tokenized pipeline on its own, and its peak RSS
    result = subprocess.run([sys.executable, "-c", PIPELINE, str(corpus_path),
                             str(args.resume_step), str(args.pipeline_batches)],
                            check=True, env=env, capture_output=True, text=True)
    pipeline = json.loads(result.stdout.strip().splitlines()[-1])
    figures["pipeline_sentences_per_s"] = pipeline["sentences_per_s"]
    figures["pipeline_peak_rss_mb"] = pipeline["peak_rss_mb"]
    consumed = args.train_pairs_per_s / 16 * 30
    figures["training_consumes_sentences_per_s"] = consumed
    figures["pipeline_over_training"] = pipeline["sentences_per_s"] / consumed

    # spread of the first 150,000 drawn sentences (5,000 steps)
    sample = work / "spread.jsonl"
    subprocess.run([sys.executable, "-m", "ct", "sample", *config, "--steps", "5000", "--out",
                    str(sample), "-q"], check=True, env=env, capture_output=True)
    drawn = []
    for line in sample.read_text().splitlines():
        record = json.loads(line)
        drawn.append(int(record["text_1"].split(" ", 1)[0]))
        if record["label"] == 0:
            drawn.append(int(record["text_2"].split(" ", 1)[0]))
    from scipy import stats

    tenths = np.histogram(drawn, bins=10, range=(0, args.lines))[0]
    figures["drawn_sentences"] = len(drawn)
    figures["share_per_tenth"] = [round(float(t) / len(drawn), 4) for t in tenths]
    figures["chi_square_p"] = float(stats.chisquare(tenths).pvalue)

    print(json.dumps(figures, indent=2))
    print(f"\nindex build {figures['index_build_s']:.1f} s for {args.lines:,} lines; "
          f"ct sample first batch: cold {figures['first_batch_cold_s']:.1f} s, warm "
          f"{figures['first_batch_warm_s']:.1f} s, resume at step {args.resume_step:,} "
          f"{figures['resume_first_batch_s']:.1f} s (of which Python + TensorFlow import "
          f"{figures['python_and_tensorflow_import_s']:.1f} s)")
    print(f"pipeline {figures['pipeline_sentences_per_s']:.0f} tokenized sentences/s = "
          f"{figures['pipeline_over_training']:.0f}x what CT training consumes "
          f"({consumed:.0f}/s); peak RSS {figures['pipeline_peak_rss_mb']:.0f} MB")
    print(f"first {len(drawn):,} drawn sentences per tenth: {figures['share_per_tenth']}; "
          f"chi-square p = {figures['chi_square_p']:.3f}")


if __name__ == "__main__":
    main()
