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
