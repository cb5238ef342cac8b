"""What the training benchmarks share: a config's trainer, model, data and step function,
built the way ``ct train`` builds them."""

from __future__ import annotations

from ct.config import load_config
from ct.training.drivers import make_distributed_train_step
from ct.training.trainer import CTTrainer


def training_setup(config_path: str, overrides: list[str]):
    """``(config, trainer, model, dataset, step)`` for timing a config's training step (no
    evaluation, no checkpoints, no files written)."""
    config = load_config(config_path, ["sts_dev=null", "checkpoint_every=0", *overrides])
    trainer = CTTrainer(config, "/tmp/ct-bench-unused", progress="off").check()
    model = trainer.build_model()
    trainer.start_stream_at(0)
    dataset = trainer.strategy.distribute_datasets_from_function(trainer.dataset_fn)
    step = make_distributed_train_step(trainer.strategy, model, dataset.element_spec)
    return config, trainer, model, dataset, step


def computed_positions(features: dict, buckets: int) -> int:
    """Token positions the encoders compute for a batch: per model, each of its ``buckets``
    length-sorted sub-batches padded to its own longest sentence
    (:func:`ct.modeling.length_buckets.embed_in_length_buckets`)."""
    import numpy as np

    total = 0
    for key, mask in features.items():
        if "mask" not in key:
            continue
        lengths = np.sort(np.asarray(mask).sum(axis=1))
        chunk = -(-len(lengths) // max(buckets, 1))
        total += sum(len(part) * max(int(part.max()), 1)
                     for part in (lengths[i:i + chunk] for i in range(0, len(lengths), chunk)))
    return total
