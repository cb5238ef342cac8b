"""Corpus scale: index build, start and resume times, memory, pipeline speed, sampling spread.

Generates a corpus of ``--lines`` numbered sentences (``"<line number> <words>"``, about 100
bytes a line), then measures, with the packaged MiniLM tokenizer and the paper's batch layout
(16 pairs, K=7: 30 sentences a step):

- the one-time index build (in a process of its own, with its peak RSS);
- ``ct sample --steps 1`` as a user runs it (a fresh process: Python, TensorFlow and the corpus
  index loaded, the first batch written): with a cold index cache and a warm one, and at step
  ``--resume-step`` (a resumed run's first batch);
- the tokenized input pipeline on its own (sentences/s, after warm-up), next to what CT
  training consumes (``--train-pairs-per-s``, measured by bench/ct_throughput.py);
- peak RSS of a process running that pipeline;
- where the first 150,000 drawn sentences (the paper's 5,000 steps) fall in the ten tenths of
  the corpus, with a chi-square p-value (uniform sampling: p well above 0.01).

``--files N`` measures the same for the lines split into N shard files (``--lines / N`` lines
each, in folders of 100, given to ct as one folder), with the peak of open descriptors (all
of the process', counted in ``/proc/self/fd``, and the corpus pool's) and the peak RSS.
``--formats gz,parquet,zst`` measures the same lines as one ``.txt.gz``, one Parquet file
and one ``.txt.zst``: first batch cold and warm, pipeline sentences/s next to the plain
file's.

A warm start is reported twice: the whole ``ct sample`` process (process start to the first
batch written: Python, TensorFlow and ct imported, config, corpus, first batch) and the
corpus' own share of it, measured inside a process after the imports (the CT stage built from
the warm index cache: folders listed, indexes found, corpus validated; then the first batch
read), with what a resumed training run adds (every file's fingerprint checked against the
run's record).

    python bench/corpus_scale.py --lines 10000000
    python bench/corpus_scale.py --lines 1000000 --files 10000 --formats gz,parquet,zst
"""

from __future__ import annotations

import argparse
import json
import os
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


def numbered_sentences(lines: int, seed: int = 0):
    """Yields lists of numbered sentences of 8 to 25 words, ``lines`` in all."""
    rng = np.random.default_rng(seed)
    words = np.array(WORDS)
    for start in range(0, lines, 100_000):
        count = min(100_000, lines - start)
        lengths = rng.integers(8, 26, size=count)
        picks = rng.integers(0, len(words), size=int(lengths.sum()))
        cuts = np.cumsum(lengths)[:-1]
        yield [f"{start + i} " + " ".join(part) + "."
               for i, part in enumerate(np.split(words[picks], cuts))]


def generate(path: Path, lines: int, seed: int = 0) -> None:
    """Writes ``lines`` numbered sentences of 8 to 25 words."""
    with open(path, "w", encoding="utf-8") as handle:
        for chunk in numbered_sentences(lines, seed):
            handle.write("\n".join(chunk) + "\n")


def generate_shards(folder: Path, lines: int, files: int) -> None:
    """The same sentences as :func:`generate`, in ``files`` files of ``lines / files`` lines,
    100 files a subfolder (as wikiextractor lays a dump out)."""
    per_file = lines // files
    shard = 0
    pending: list[str] = []
    for chunk in numbered_sentences(lines):
        pending += chunk
        while len(pending) >= per_file and shard < files:
            path = folder / f"{shard // 100:03d}" / f"wiki_{shard:05d}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(pending[:per_file]) + "\n", encoding="utf-8")
            pending = pending[per_file:]
            shard += 1


def generate_copies(plain: Path, formats: list[str]) -> dict[str, Path]:
    """The plain file as one ``.txt.gz``, one ``.txt.zst`` and/or one Parquet file (row
    groups of 65,536 lines)."""
    copies = {}
    if "gz" in formats:
        copies["gz"] = plain.with_name(plain.name + ".gz")
        if not copies["gz"].exists():
            subprocess.run(f"gzip -c {plain} > {copies['gz']}", shell=True, check=True)
    if "zst" in formats:
        import zstandard

        copies["zst"] = plain.with_name(plain.name + ".zst")
        if not copies["zst"].exists():
            with open(plain, "rb") as source, open(copies["zst"], "wb") as target:
                zstandard.ZstdCompressor().copy_stream(source, target)
    if "parquet" in formats:
        import pyarrow as pa
        import pyarrow.parquet as pq

        copies["parquet"] = plain.with_suffix(".parquet")
        if not copies["parquet"].exists():
            lines = plain.read_text(encoding="utf-8").splitlines()
            pq.write_table(pa.table({"text": lines}), copies["parquet"], row_group_size=65_536)
    return copies


def ct_sample(config_args: list[str], out: Path, start_step: int, env: dict) -> float:
    """Seconds of one ``ct sample --steps 1`` process."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ct", "sample", *config_args, "--steps", "1",
                    "--start-step", str(start_step), "--out", str(out), "-q"],
                   check=True, env=env, capture_output=True)
    return time.perf_counter() - started


PIPELINE = r"""
import json, os, resource, sys, threading, time
from ct.data.corpus import Corpus
from ct.data.corpus_index import DESCRIPTORS
from ct.data.ct_dataset import build_ct_dataset
from ct.modeling.loading import load_tokenizer
peak_fds = [0]
def watch():  # the process' open descriptors, every 2 ms
    while True:
        peak_fds[0] = max(peak_fds[0], len(os.listdir("/proc/self/fd")))
        time.sleep(0.002)
threading.Thread(target=watch, daemon=True).start()
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
time.sleep(0.01)
print(json.dumps({"sentences_per_s": batches * 30 / seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_open_descriptors": peak_fds[0],
                  "peak_corpus_descriptors": DESCRIPTORS.peak}),
      flush=True)
import os
os._exit(0)  # tf.data's prefetch threads are still running Python: skip interpreter teardown
"""


def measure(spec: Path, label: str, work: Path, args, spread: bool = False) -> dict:
    """Index build, ``ct sample`` first batch cold/warm/resumed, the pipeline's speed, peak
    RSS and descriptors, and (``spread``) the draws' spread, for the corpus ``spec``."""
    cache = work / f"cache-{label}"
    env = {**os.environ, "CT_CACHE_DIR": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    config = [str(REPO / "configs" / "ct_paper.yaml"), "--set", f"corpus={spec}",
              "--set", "sts_dev=null"]
    figures: dict = {}

    # the index build alone, in a process of its own (cold), with its peak RSS
    subprocess.run(["rm", "-rf", str(work / "cache-inprocess")], check=True)
    result = subprocess.run([sys.executable, "-c", INDEX_BUILD, str(spec)], check=True,
                            capture_output=True, text=True,
                            env={**env, "CT_CACHE_DIR": str(work / "cache-inprocess")})
    figures.update(json.loads(result.stdout.strip().splitlines()[-1]))

    # ct sample as a user runs it: cold cache, warm cache, resume
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    figures["first_batch_cold_s"] = ct_sample(config, work / "s.jsonl", 1, env)
    figures["first_batch_warm_s"] = ct_sample(config, work / "s.jsonl", 1, env)
    figures["resume_first_batch_s"] = ct_sample(config, work / "r.jsonl",
                                                args.resume_step + 1, env)
    # the corpus' own share of a warm start (after the imports), in a process of its own
    result = subprocess.run([sys.executable, "-c", WARM_START, config[0], str(spec)],
                            check=True, env=env, capture_output=True, text=True)
    figures.update(json.loads(result.stdout.strip().splitlines()[-1]))

    # the tokenized pipeline on its own: speed, peak RSS and descriptors
    result = subprocess.run([sys.executable, "-c", PIPELINE, str(spec),
                             str(args.resume_step), str(args.pipeline_batches)],
                            check=True, env=env, capture_output=True, text=True)
    pipeline = json.loads(result.stdout.strip().splitlines()[-1])
    figures.update({f"pipeline_{key}" if not key.startswith("peak") else key: value
                    for key, value in pipeline.items()})
    if spread:
        figures.update(draw_spread(config, work, env, args.lines))
    return figures


WARM_START = r"""
import dataclasses, json, sys, time
started = time.perf_counter()
from ct.config import load_config
from ct.training.stages import CTStage
imported = time.perf_counter()
config = load_config(sys.argv[1], [f"corpus={sys.argv[2]}", "sts_dev=null"])
configured = time.perf_counter()
stage = CTStage(dataclasses.replace(config, stages=["ct"]))  # corpus found, indexed, validated
built = time.perf_counter()
next(iter(stage.text_batches(start_step=0, steps=1)))
first = time.perf_counter()
recorded = stage.corpus.fingerprint()
checking = time.perf_counter()
assert not stage.corpus.changed_files(recorded) and stage.corpus.fingerprint() == recorded
checked = time.perf_counter()
stage.close()
print(json.dumps({"warm_start_import_s": imported - started,
                  "warm_start_corpus_s": built - configured + first - built,
                  "warm_start_corpus_stage_s": built - configured,
                  "warm_start_corpus_first_batch_s": first - built,
                  "resume_corpus_check_s": checked - checking}))
"""


INDEX_BUILD = r"""
import json, resource, sys, time
from ct.data.corpus import Corpus
started = time.perf_counter()
corpus = Corpus.from_patterns([sys.argv[1]])
count = len(corpus)
print(json.dumps({"index_build_s": time.perf_counter() - started, "sentences": count,
                  "index_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                  / 1024}))
"""


def draw_spread(config: list[str], work: Path, env: dict, lines: int) -> dict:
    """Where the first 150,000 drawn sentences (5,000 steps) fall in the corpus' tenths."""
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

    tenths = np.histogram(drawn, bins=10, range=(0, lines))[0]
    return {"drawn_sentences": len(drawn),
            "share_per_tenth": [round(float(t) / len(drawn), 4) for t in tenths],
            "chi_square_p": float(stats.chisquare(tenths).pvalue)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=0,
                        help="also measure the lines as this many shard files in a folder")
    parser.add_argument("--formats", default="",
                        help="also measure the lines as gz, parquet and/or zst "
                             "(comma-separated)")
    parser.add_argument("--resume-step", type=int, default=1_000_000)
    parser.add_argument("--pipeline-batches", type=int, default=300)
    parser.add_argument("--train-pairs-per-s", type=float, default=36.0,
                        help="CT training speed to compare with (bench/ct_throughput.py)")
    parser.add_argument("--no-spread", action="store_true",
                        help="skip the 5,000-step spread of the draws")
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
    specs = {"plain": corpus_path}
    if args.files:
        shards = work / f"shards-{args.lines}-{args.files}"
        if not shards.exists():
            generate_shards(shards, args.lines, args.files)
        specs[f"{args.files}_files"] = shards
    formats = [name for name in args.formats.split(",") if name]
    specs.update(generate_copies(corpus_path, formats))

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import ct.data.ct_dataset"], check=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    results = {"lines": args.lines, "bytes": corpus_path.stat().st_size,
               "python_and_tensorflow_import_s": time.perf_counter() - started}
    for label, spec in specs.items():
        results[label] = measure(spec, label, work, args,
                                 spread=label == "plain" and not args.no_spread)
    consumed = args.train_pairs_per_s / 16 * 30
    results["training_consumes_sentences_per_s"] = consumed
    plain_speed = results["plain"]["pipeline_sentences_per_s"]
    for label in specs:
        speed = results[label]["pipeline_sentences_per_s"]
        results[label]["pipeline_over_plain"] = speed / plain_speed
        results[label]["pipeline_over_training"] = speed / consumed
    print(json.dumps(results, indent=2))
    print(f"\nPython + TensorFlow import {results['python_and_tensorflow_import_s']:.1f} s; "
          f"CT training consumes {consumed:.0f} sentences/s")
    for label in specs:
        r = results[label]
        print(f"{label}: index build {r['index_build_s']:.1f} s (peak RSS "
              f"{r['index_peak_rss_mb']:.0f} MB); ct sample first batch cold "
              f"{r['first_batch_cold_s']:.1f} s, warm {r['first_batch_warm_s']:.1f} s (the "
              f"corpus' share {r['warm_start_corpus_s']:.2f} s; a resumed run's file check "
              f"{r['resume_corpus_check_s']:.2f} s more), resume at "
              f"step {args.resume_step:,} {r['resume_first_batch_s']:.1f} s; pipeline "
              f"{r['pipeline_sentences_per_s']:.0f} sentences/s ({r['pipeline_over_plain']:.2f}x "
              f"plain, {r['pipeline_over_training']:.0f}x training), peak RSS {r['peak_rss_mb']:.0f} MB, peak open descriptors "
              f"{r['peak_open_descriptors']} (corpus pool {r['peak_corpus_descriptors']})")
    if "chi_square_p" in results["plain"]:
        r = results["plain"]
        print(f"first {r['drawn_sentences']:,} drawn sentences per tenth: "
              f"{r['share_per_tenth']}; chi-square p = {r['chi_square_p']:.3f}")


if __name__ == "__main__":
    main()
