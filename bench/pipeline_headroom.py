"""How fast the whole CT input pipeline runs with no model: the host's headroom for a GPU.

For each config, builds the training stream exactly as ``ct train`` does (the trainer's
``dataset_fn`` through the strategy: sampling, length grouping, reading, replica split,
tokenization, prefetching) and pulls batches as fast as it can, counting the tokenized
sentences (both models' columns) per second. A GPU step must never wait for this stream: the
figure to compare is what a GPU step consumes (see docs/guides/gpus-and-clusters.md for the
estimate for MiniLM).

    python bench/pipeline_headroom.py                       # ct_paper and ct_fast, 600 steps
    python bench/pipeline_headroom.py --steps 2000 --set max_length=128
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ct.config import load_config  # noqa: E402
from ct.training.trainer import CTTrainer  # noqa: E402

CONFIGS = ("configs/ct_paper.yaml", "configs/ct_fast.yaml")


def measure(config_path: str, steps: int, warmup: int, overrides: list[str]) -> dict:
    """Sentences/s of the config's training stream after ``warmup`` batches."""
    config = load_config(config_path, ["sts_dev=null", "checkpoint_every=0", *overrides])
    trainer = CTTrainer(config, "/tmp/ct-bench-unused", progress="off").check()
    trainer.start_stream_at(0)
    dataset = trainer.strategy.distribute_datasets_from_function(trainer.dataset_fn)
    iterator = iter(dataset)

    def sentences(batch) -> int:
        features = batch[0]
        count = 0
        for key, value in features.items():
            if key.startswith("input_ids"):
                parts = trainer.strategy.experimental_local_results(value)
                count += sum(int(part.shape[0]) for part in parts)
        return count

    for _ in range(warmup):
        sentences(next(iterator))
    start, cpu_start = time.perf_counter(), time.process_time()
    total = sum(sentences(next(iterator)) for _ in range(steps))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    # CPU seconds too: on a machine shared with other jobs, wall time depends on their load
    return {"config": config_path, "steps": steps, "sentences": total, "seconds": seconds,
            "sentences_per_s": total / seconds, "steps_per_s": steps / seconds,
            "sentences_per_cpu_s": total / cpu_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", default=list(CONFIGS))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    for path in args.configs:
        result = measure(path, args.steps, args.warmup, args.overrides)
        print(f"{path}: {result['sentences_per_s']:,.0f} tokenized sentences/s "
              f"({result['steps_per_s']:.0f} steps/s; {result['sentences']} sentences in "
              f"{result['seconds']:.2f} s; {result['sentences_per_cpu_s']:,.0f} per CPU-second)")


if __name__ == "__main__":
    main()
