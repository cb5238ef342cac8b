"""The optimizer update of a CT step on its own: ct's RMSprop against tf-keras' and XLA.

Times the guarded update of both encoders (as ``train_step`` applies it) with gradients
computed once, median of 15 calls after 4 warm-up calls, for:

- ``ct``: ct's RMSprop (:class:`ct.training.optimization.RMSprop`: the used word-embedding rows
  are gathered before epsilon is added);
- ``tf_keras``: tf-keras' own RMSprop update (a dense ``[vocab, dim]`` temporary per step);
- ``xla``: ct's, with tf-keras' ``jit_compile`` forced on (off on CPUs by default).

Each variant runs in a fresh process, back to back:

    python bench/optimizer_update.py [--config configs/ct_fast.yaml]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

VARIANTS = ("ct", "tf_keras", "xla")


def time_update(config_path: str, variant: str, calls: int = 15, warmup: int = 4) -> float:
    """Median seconds of one guarded update of both encoders."""
    from ct.logging_setup import configure_logging

    configure_logging(quiet=True)
    from bench_setup import training_setup
    from ct._keras import keras, tf
    from ct.training import optimization

    if variant == "tf_keras":
        optimization.RMSprop.update_step = keras.optimizers.RMSprop.update_step
    config, trainer, model, dataset, step = training_setup(config_path, [])
    optimizer = model.optimizer
    optimizer.jit_compile = variant == "xla"
    features, labels = next(iter(trainer.dataset_fn(tf.distribute.InputContext())))
    _, loss, gradients = tf.function(model._loss_and_gradients)(features, labels)
    variables = model.trainable_variables

    @tf.function
    def update(grads, loss_value):
        return model.update_guard.apply(optimizer, grads, variables, loss_value)

    def run():
        result = trainer.strategy.run(update, args=(gradients, loss))
        float(trainer.strategy.experimental_local_results(result["nonfinite"])[0])

    for _ in range(warmup):
        run()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/ct_fast.yaml")
    parser.add_argument("--variant", choices=VARIANTS, help="time one variant here")
    args = parser.parse_args()
    if args.variant:
        seconds = time_update(args.config, args.variant)
        print(f"{args.variant:<9} update of both encoders {seconds * 1000:6.1f} ms (median)")
        return
    for variant in VARIANTS:
        subprocess.run([sys.executable, __file__, "--config", args.config,
                        "--variant", variant], check=True)


if __name__ == "__main__":
    main()
