"""Options not exercised elsewhere: optimizers, TensorBoard off, CLS pooling, JSONL corpus."""

import json

import pytest

from ct._keras import keras
from ct.config import OptimizerConfig, load_config
from ct.distribute import get_strategy
from ct.training.optimization import build_optimizer
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, logged_losses

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


@pytest.mark.parametrize("name, cls", [("rmsprop", keras.optimizers.RMSprop),
                                       ("adam", keras.optimizers.Adam),
                                       ("adamw", keras.optimizers.AdamW),
                                       ("sgd", keras.optimizers.SGD)])
def test_optimizer_names_and_clipping(name, cls):
    optimizer = build_optimizer(OptimizerConfig(name=name, clipnorm=1.0, weight_decay=0.01))
    assert isinstance(optimizer, cls) and optimizer.clipnorm == 1.0
    if name == "adamw":
        assert optimizer.weight_decay == pytest.approx(0.01)


def test_one_device_strategy_places_on_the_cpu_and_trains_as_the_default(tmp_path,
                                                                          train_overrides):
    import numpy as np

    from ct._keras import tf

    strategy = get_strategy("one_device")
    assert isinstance(strategy, tf.distribute.OneDeviceStrategy)
    assert strategy.extended.worker_devices == ("/job:localhost/replica:0/task:0/device:CPU:0",)
    runs = {}
    for name in ("default", "one_device"):
        config = load_config(PAPER, [*train_overrides, f"strategy={name}", "steps=3",
                                     "sts_dev=null", "checkpoint_every=0"])
        trainer = CTTrainer(config, tmp_path / name)
        summary = trainer.train()
        assert summary["strategy"] == name and summary["replicas"] == 1
        runs[name] = (logged_losses(tmp_path / name),
                      [v.numpy() for v in trainer.model.trainable_variables])
    (losses, weights), (expected_losses, expected_weights) = runs["one_device"], runs["default"]
    assert len(losses) == 3
    np.testing.assert_allclose(losses, expected_losses, atol=1e-6)
    for a, b in zip(weights, expected_weights):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_jsonl_corpus_cls_pooling_and_no_tensorboard(tmp_path, train_overrides, corpus_sentences):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "body": s}) + "\n"
                              for i, s in enumerate(corpus_sentences)))
    config = load_config(PAPER, train_overrides + [
        f"corpus={corpus}", "text_field=body", "pooling=cls", "tensorboard=false",
        "keep=last", "steps=2"])
    summary = CTTrainer(config, tmp_path / "run").train()
    run = tmp_path / "run"
    assert summary["corpus"]["sentences"] == len(corpus_sentences)
    assert len(logged_losses(run)) == 2
    assert not (run / "tensorboard").exists()
    assert json.loads((run / "final" / "ct_encoder.json").read_text())["pooling"] == "cls"


def test_rmsprop_sparse_update_is_tf_keras_arithmetic_exactly():
    """ct's RMSprop gathers the used rows before adding epsilon (no dense [vocab, dim]
    temporary): weights and accumulators stay bit-identical to tf-keras' RMSprop, over steps
    with repeated rows, rows used once, and a dense variable beside the embedding."""
    import numpy as np

    from ct._keras import tf
    from ct.training.optimization import RMSprop

    rng = np.random.default_rng(0)
    start = [rng.normal(size=(50, 8)).astype(np.float32), rng.normal(size=(8,)).astype(np.float32)]
    rng_steps = [rng.integers(0, 50, size=12) for _ in range(4)]
    rng_steps[0][:3] = 7  # a row used three times in one batch

    def train(optimizer):
        table, bias = (tf.Variable(value) for value in start)
        for step in range(4):
            ids = tf.constant(rng_steps[step])
            with tf.GradientTape() as tape:
                rows = tf.gather(table, ids)
                loss = tf.reduce_sum(tf.sin(rows * 3.0) + rows * bias)
            gradients = tape.gradient(loss, [table, bias])
            assert isinstance(gradients[0], tf.IndexedSlices)
            optimizer.apply_gradients(zip(gradients, [table, bias]))
        return [table.numpy(), bias.numpy()] + [v.numpy() for v in optimizer.variables[1:]]

    ours = train(RMSprop(learning_rate=0.01))
    theirs = train(keras.optimizers.RMSprop(learning_rate=0.01))
    assert len(ours) == len(theirs) == 4
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(mine, reference)
    untouched = np.setdiff1d(np.arange(50), np.concatenate(rng_steps))
    assert len(untouched) and np.array_equal(ours[0][untouched], start[0][untouched])
