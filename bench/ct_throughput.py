"""CT training throughput of a config: pairs/s, real tokens/s, padding, GFLOP/s, peak RSS.

Runs the same step as ``ct train`` (the config's model, stage, precision, length buckets and
data pipeline, through the custom loop's step function), discards warm-up steps (tracing),
times several windows and prints the median. Next to it: the share of padded token
positions in the batches, the achieved GFLOP/s on real tokens and a measured matmul peak of
this machine, and the process's peak resident memory.

    python bench/ct_throughput.py                                   # configs/ct_paper.yaml
    python bench/ct_throughput.py --config configs/ct_fast.yaml
    python bench/ct_throughput.py --set precision=mixed_bfloat16 --set length_buckets=1
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from ct.logging_setup import configure_logging

configure_logging(quiet=True)

from bench_setup import computed_positions, training_setup  # noqa: E402
from matmul_peak import matmul_gflops, transformer_train_flops  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/ct_paper.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value (repeatable)")
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--window-steps", type=int, default=10)
    args = parser.parse_args()
    config, trainer, model, dataset, step = training_setup(args.config, args.overrides)
    batches = iter(dataset)
    for _ in range(args.warmup_steps):
        float(step(next(batches))["loss"])

    pair_rates, token_rates, real, positions = [], [], 0.0, 0.0
    for _ in range(args.windows):
        tokens, start = 0.0, time.perf_counter()
        for _ in range(args.window_steps):
            batch = next(batches)
            tokens += float(step(batch)["tokens"])  # float() waits for the step
            positions += computed_positions(batch[0], model.encoders[0].length_buckets)
        seconds = time.perf_counter() - start
        real += tokens
        pair_rates.append(args.window_steps * config.batch_size / seconds)
        token_rates.append(tokens / seconds)
    steps_per_s = statistics.median(pair_rates) / config.batch_size
    tokens_per_step = real / (args.windows * args.window_steps)
    flops = transformer_train_flops(model.encoders[0].backbone.config, tokens_per_step)
    peak = matmul_gflops()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"config {args.config} {' '.join(args.overrides)} (batch {config.batch_size}, "
          f"precision {config.precision}, length_buckets {model.encoders[0].length_buckets})")
    print(f"pairs/s  median {statistics.median(pair_rates):7.1f}  (min {min(pair_rates):.1f}, "
          f"max {max(pair_rates):.1f}; {args.windows} x {args.window_steps} steps after "
          f"{args.warmup_steps} warm-up)")
    print(f"real tokens/s median {statistics.median(token_rates):7.0f}; padding "
          f"{100 * (1 - real / positions):.0f}% of the token positions computed (in the "
          f"length buckets)")
    print(f"achieved {flops['real'] * steps_per_s / 1e9:.0f} GFLOP/s on real tokens; matmul "
          f"peak of this machine {peak['float32']:.0f} GFLOP/s float32, "
          f"{peak['bfloat16']:.0f} bfloat16")
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
