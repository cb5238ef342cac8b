"""One cell of ``bench/gpu_check.sh``: train a config for N steps on this machine's devices
and report pairs/s, the device's share of the step, and the first losses.

The step is timed two ways over the same batches after warm-up:

- *pipelined*: steps called back to back, the metrics read once at the end (as ``ct train``
  runs between log lines): the wall time per step, ``step``;
- *host*: the time the host spends per step (next batch + dispatching the step function, which
  returns before a GPU finishes), ``host``; and *synchronised*: each step's loss read before
  the next, ``sync``.

``device`` = ``sync - host`` estimates the device's computing time per step, and the device
share ``device / step``: near 100% the GPU is the bottleneck (good); well below, the host
(input pipeline, Python, kernel launches) keeps it waiting.

    python bench/gpu_check.py --config configs/ct_paper.yaml --steps 200 --set precision=float32
"""

from __future__ import annotations

import argparse
import json
import time

from ct.logging_setup import configure_logging

configure_logging(quiet=True)

from bench_setup import training_setup  # noqa: E402
from ct.devices import describe_devices  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/ct_paper.yaml")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--losses", type=int, default=20, help="first losses reported")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    config, trainer, model, dataset, step = training_setup(args.config, args.overrides)
    iterator = iter(dataset)
    losses = []
    for _ in range(args.losses):  # the first steps, from the run's start: the loss curve
        losses.append(float(step(next(iterator))["loss"]))
    warm = max(args.steps // 10, 5)
    for _ in range(warm):
        step(next(iterator))
    host = 0.0
    start = time.perf_counter()
    for _ in range(args.steps):
        call = time.perf_counter()
        values = step(next(iterator))
        host += time.perf_counter() - call
    float(values["loss"])
    pipelined = (time.perf_counter() - start) / args.steps
    start = time.perf_counter()
    for _ in range(args.steps):
        float(step(next(iterator))["loss"])
    synchronised = (time.perf_counter() - start) / args.steps
    host /= args.steps
    device = max(synchronised - host, 0.0)
    print(json.dumps({
        "config": args.config, "overrides": args.overrides,
        "devices": describe_devices(trainer.strategy), "steps": args.steps,
        "pairs_per_s": round(config.batch_size / pipelined, 1),
        "step_ms": round(pipelined * 1e3, 2), "host_ms": round(host * 1e3, 2),
        "sync_step_ms": round(synchronised * 1e3, 2), "device_ms": round(device * 1e3, 2),
        "device_share": round(min(device / pipelined, 1.0), 3), "first_losses": losses}))


if __name__ == "__main__":
    main()
