"""Where the time of one CT step goes: a breakdown with timers, on the real model and data.

Measures, each over the same batches after warm-up (median of ``--steps`` calls):

- ``input``: producing one batch from the tokenized pipeline on its own;
- ``forward``: both encoders' forward pass and the CT loss;
- ``forward+backward``: the same with gradients (the tape), as ``train_step`` runs it;
- ``update``: the optimizer update of both encoders (guarded, as in training), with the
  gradients precomputed;
- ``step``: the whole training step as the custom loop calls it (``strategy.run``), and
  ``host``: what the step costs beyond forward+backward+update (Python, dispatch, reading
  the metrics back);

and the padding share (padded token positions / all positions), real tokens per step, and
the achieved GFLOP/s on real tokens (forward+backward = 3 x the forward's 2 x parameters x
tokens, plus attention) next to a measured float32 matmul peak of this machine.

    python bench/profile_ct_step.py --model bundled:all-MiniLM-L6-v2
    python bench/profile_ct_step.py --set precision=mixed_bfloat16 --set length_buckets=2
"""

from __future__ import annotations

import argparse
import statistics
import time

from ct.logging_setup import configure_logging

configure_logging(quiet=True)

from bench_setup import computed_positions, training_setup  # noqa: E402
from ct._keras import tf  # noqa: E402
from matmul_peak import matmul_gflops, transformer_train_flops  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/ct_paper.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=4)
    args = parser.parse_args()
    config, trainer, model, dataset, step = training_setup(args.config, args.overrides)
    iterator = iter(dataset)
    batches = [next(iterator) for _ in range(args.warmup + args.steps)]

    real = [float(tf.add_n([tf.reduce_sum(b[0][k]) for k in b[0] if "mask" in k]))
            for b in batches]
    buckets = model.encoders[0].length_buckets
    positions = [float(computed_positions(b[0], buckets)) for b in batches]
    padding_share = 1 - sum(real) / sum(positions)

    features_list = [b[0] for b in batches]
    labels_list = [b[1] for b in batches]
    forward = tf.function(lambda f, l: model.replica_loss(f, l)[1], reduce_retracing=True)
    gradients = tf.function(model._loss_and_gradients, reduce_retracing=True)
    variables = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def update(grads, loss):
        return model.update_guard.apply(model.optimizer, grads, variables, loss)

    def timed(function):
        for i in range(args.warmup):
            function(i)
        times = []
        for i in range(args.warmup, args.warmup + args.steps):
            started = time.perf_counter()
            function(i)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    def run_forward(i):
        float(forward(features_list[i], labels_list[i]))

    def run_backward(i):
        _, loss, grads = gradients(features_list[i], labels_list[i])
        float(loss)

    saved = gradients(features_list[0], labels_list[0])

    def run_update(i):
        float(update(saved[2], saved[1])["nonfinite"])

    def run_step(i):
        float(step(batches[i])["loss"])

    fresh = iter(dataset)

    def run_input(i):
        next(fresh)

    figures = {"input": timed(run_input), "forward": timed(run_forward),
               "forward+backward": timed(run_backward), "update": timed(run_update),
               "step": timed(run_step)}
    figures["host"] = figures["step"] - figures["forward+backward"] - figures["update"]
    tokens = statistics.median(real)
    encoder = model.encoders[0].backbone.config
    flops = transformer_train_flops(encoder, tokens, positions=statistics.median(positions))
    peak = matmul_gflops()
    batch = config.batch_size
    print(f"config: {args.config} {' '.join(args.overrides)}")
    print(f"step {figures['step'] * 1000:.0f} ms = {batch / figures['step']:.1f} pairs/s, "
          f"{tokens / figures['step']:.0f} real tokens/s; padding {100 * padding_share:.0f}% "
          f"of the token positions computed ({buckets} length bucket(s) per model)")
    for name in ("input", "forward", "forward+backward", "update", "host"):
        share = 100 * figures[name] / figures["step"]
        print(f"  {name:<18} {figures[name] * 1000:7.1f} ms  ({share:4.0f}% of the step)")
    print(f"achieved {flops['real'] / figures['step'] / 1e9:.0f} GFLOP/s on real tokens "
          f"({flops['padded'] / figures['step'] / 1e9:.0f} counting padding); float32 matmul "
          f"peak here {peak['float32']:.0f} GFLOP/s, bfloat16 {peak['bfloat16']:.0f}")


if __name__ == "__main__":
    main()
