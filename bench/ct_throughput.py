"""CT training throughput: pairs/s and tokens/s of the real train step on this machine.

Runs the same step function as ``ct train`` (two encoders, CT loss, RMSprop update) on batches
from the real pipeline, discards warm-up steps (tracing), then times several windows and prints
the median, min and max.

    python bench/ct_throughput.py --model bundled:all-MiniLM-L6-v2 --batch-size 16 --max-length 75
"""

from __future__ import annotations

import argparse
import statistics
import time

from ct._keras import keras, tf
from ct.config import OptimizerConfig
from ct.data.corpus import Corpus
from ct.data.ct_dataset import build_ct_dataset
from ct.modeling.ct_model import ContrastiveTensionModel
from ct.training.optimization import build_optimizer
from ct.training.drivers import make_distributed_train_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--corpus", default="bundled:wiki_sentences")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-negatives", type=int, default=7)
    parser.add_argument("--max-length", type=int, default=75)
    parser.add_argument("--padding", choices=["longest", "max_length"], default="longest")
    parser.add_argument("--jit-compile", action="store_true",
                        help="XLA for the forward/backward pass (pair with --padding max_length)")
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--window-steps", type=int, default=10)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    strategy = tf.distribute.get_strategy()
    with strategy.scope():
        model = ContrastiveTensionModel.from_pretrained(args.model, max_length=args.max_length,
                                                        jit_compile=args.jit_compile)
        model.compile(optimizer=build_optimizer(OptimizerConfig()))
    dataset = build_ct_dataset(Corpus.from_patterns([args.corpus]), model.encoder_1.tokenizer,
                               batch_size=args.batch_size, num_negatives=args.num_negatives,
                               max_length=args.max_length, padding=args.padding)
    distributed = strategy.experimental_distribute_dataset(dataset)
    batches = iter(distributed)
    step = make_distributed_train_step(strategy, model, distributed.element_spec)
    for _ in range(args.warmup_steps):
        float(step(next(batches))["loss"])

    pair_rates, token_rates = [], []
    for _ in range(args.windows):
        tokens, start = 0.0, time.perf_counter()
        for _ in range(args.window_steps):
            tokens += float(step(next(batches))["tokens"])  # float() waits for the step
        seconds = time.perf_counter() - start
        pair_rates.append(args.window_steps * args.batch_size / seconds)
        token_rates.append(tokens / seconds)

    print(f"model={args.model} batch_size={args.batch_size} num_negatives={args.num_negatives} "
          f"max_length={args.max_length} padding={args.padding} jit_compile={args.jit_compile} "
          f"devices={tf.config.list_logical_devices()[0].device_type} "
          f"threads={tf.config.threading.get_inter_op_parallelism_threads() or 'auto'}")
    print(f"windows: {args.windows} x {args.window_steps} steps after {args.warmup_steps} "
          "warm-up steps")
    print(f"pairs/s  median {statistics.median(pair_rates):8.1f}  "
          f"min {min(pair_rates):8.1f}  max {max(pair_rates):8.1f}")
    print(f"tokens/s median {statistics.median(token_rates):8.1f}  "
          f"min {min(token_rates):8.1f}  max {max(token_rates):8.1f}")


if __name__ == "__main__":
    main()
