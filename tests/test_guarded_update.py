"""The guarded update: skipped steps are no-ops, float16 loss scaling works, sparse stays sparse.

A batch is made non-finite by a NaN label (the loss and every gradient become NaN), which is
what a corrupt batch or a diverging step looks like to the update.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ct._keras import keras, tf
from ct.config import OptimizerConfig, supervised_optimizer
from ct.modeling.ct_model import ContrastiveTensionModel
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.loading import load_tokenizer
from ct.modeling.supervised_model import SupervisedPairModel
from ct.training.execution import precision_policy
from ct.training.optimization import build_optimizer
from helpers import REPO_ROOT

RMSPROP = OptimizerConfig(learning_rate=1e-3, lr_boundaries=[1, 2], lr_values=[5e-4, 1e-4])
ADAMW = supervised_optimizer()
ADAMW.learning_rate = 1e-3


def _ct_batch(tokenizer, nan_label=False):
    texts_1 = [f"sentence {i} about a cat" for i in range(8)]
    texts_2 = texts_1[:1] + [f"another {i} on a dog" for i in range(7)]
    features = {}
    for index, texts in ((1, texts_1), (2, texts_2)):
        encoded = tokenizer(texts, padding="longest", return_tensors="np")
        features[f"input_ids_{index}"] = tf.constant(encoded["input_ids"], tf.int32)
        features[f"attention_mask_{index}"] = tf.constant(encoded["attention_mask"], tf.int32)
    labels = np.array([1.0] + [0.0] * 7, np.float32)
    if nan_label:
        labels[3] = np.nan
    return features, tf.constant(labels)


def _stsb_batch(tokenizer, nan_label=False):
    features = {}
    for index in (1, 2):
        encoded = tokenizer([f"text {index} number {i}" for i in range(8)], padding="longest",
                            return_tensors="np")
        features[f"input_ids_{index}"] = tf.constant(encoded["input_ids"], tf.int32)
        features[f"attention_mask_{index}"] = tf.constant(encoded["attention_mask"], tf.int32)
    labels = np.linspace(0, 1, 8).astype(np.float32)
    if nan_label:
        labels[0] = np.nan
    return features, tf.constant(labels)


def _model(kind, model_dir, optimizer_config, **options):
    if kind == "ct":
        model = ContrastiveTensionModel.from_pretrained(str(model_dir), **options)
    else:
        encoder = SentenceEncoder.from_pretrained(str(model_dir), name="encoder")
        model = SupervisedPairModel(encoder, "cosine_similarity", dropout=False, **options)
    model.compile(optimizer=build_optimizer(optimizer_config, total_steps=10))
    model.build_optimizer_slots()
    return model


def _state(model):
    """Every weight, every optimizer slot and the iteration count (learning-rate position)."""
    return [v.numpy().copy() for v in (*model.trainable_variables,
                                        *model.optimizer.variables())]


def _assert_same(before, after):
    assert len(before) == len(after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["ct", "stsb"])
@pytest.mark.parametrize("optimizer_config", [RMSPROP, ADAMW], ids=["rmsprop", "adamw"])
def test_a_skipped_step_changes_nothing(tiny_bert_dir, kind, optimizer_config):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    batch = _ct_batch if kind == "ct" else _stsb_batch
    model = _model(kind, tiny_bert_dir, optimizer_config)
    step = tf.function(model.train_step)
    step(batch(tokenizer))  # a normal step first: slots and momentum are non-zero
    before = _state(model)
    iterations = int(model.optimizer.iterations.numpy())

    result = step(batch(tokenizer, nan_label=True))

    assert float(result["nonfinite"]) == 1.0 and float(result["overflow"]) == 0.0
    _assert_same(before, _state(model))
    assert int(model.optimizer.iterations.numpy()) == iterations == 1
    assert model.steps_taken == 2  # the stream moved on past the bad batch
    step(batch(tokenizer))  # the next good batch trains from where the last good one left
    assert int(model.optimizer.iterations.numpy()) == 2
    assert any(not np.array_equal(a, b) for a, b in zip(before, _state(model)))


def test_sparse_embedding_gradients_stay_sparse(tiny_bert_dir, monkeypatch):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    model = _model("ct", tiny_bert_dir, RMSPROP)
    kinds = {}
    original = model.optimizer.apply_gradients

    def recording(grads_and_vars, **kwargs):
        grads_and_vars = list(grads_and_vars)
        for gradient, variable in grads_and_vars:
            if "word_embeddings" in variable.name:
                kinds[variable.name] = type(gradient).__name__
        return original(grads_and_vars, **kwargs)

    monkeypatch.setattr(model.optimizer, "apply_gradients", recording)
    model.train_step(_ct_batch(tokenizer))
    assert len(kinds) == 2 and set(kinds.values()) == {"IndexedSlices"}, kinds


def test_float16_overflow_is_skipped_and_halves_the_scale(tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    with precision_policy("mixed_float16"):
        model = _model("ct", tiny_bert_dir, RMSPROP, loss_scale_initial=2.0 ** 40)
    assert model.uses_loss_scaling
    step = tf.function(model.train_step)
    before = _state(model)
    result = step(_ct_batch(tokenizer))  # loss x 2^40 overflows float16 gradients
    assert float(result["overflow"]) == 1.0 and float(result["nonfinite"]) == 0.0
    assert float(result["loss_scale"]) == 2.0 ** 39
    _assert_same(before, _state(model))
    assert int(model.optimizer.iterations.numpy()) == 0
    model.update_guard.loss_scale.assign(2.0 ** 8)
    result = step(_ct_batch(tokenizer))
    assert float(result["overflow"]) == 0.0 and int(model.optimizer.iterations.numpy()) == 1
    # a non-finite loss is not an overflow: loss scaling cannot explain it
    result = step(_ct_batch(tokenizer, nan_label=True))
    assert float(result["nonfinite"]) == 1.0 and float(result["overflow"]) == 0.0


def test_only_an_overflow_moves_the_loss_scale(tiny_bert_dir):
    """A NaN batch (its loss is NaN whatever the scale) leaves the scale and the streak
    towards growth alone; an overflow of the scaled gradients halves it and restarts the
    streak. Keras' LossScaleOptimizer would halve the scale on each NaN batch."""
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    with precision_policy("mixed_float16"):
        model = _model("ct", tiny_bert_dir, RMSPROP, loss_scale_initial=2.0 ** 8,
                       loss_scale_growth_steps=3)
    guard = model.update_guard
    step = tf.function(model.train_step)
    good, bad = _ct_batch(tokenizer), _ct_batch(tokenizer, nan_label=True)

    def run(batch):
        result = step(batch)
        return (float(result["nonfinite"]), float(result["overflow"]),
                float(result["loss_scale"]), int(guard.finite_streak.numpy()))

    assert run(good) == (0.0, 0.0, 2.0 ** 8, 1)
    for _ in range(3):  # with on_nonfinite: skip, the stream goes on past NaN batches
        assert run(bad) == (1.0, 0.0, 2.0 ** 8, 1)
    assert run(good) == (0.0, 0.0, 2.0 ** 8, 2)
    assert run(good) == (0.0, 0.0, 2.0 ** 9, 0)  # three applied steps: the scale doubles
    assert int(model.optimizer.iterations.numpy()) == 3
    guard.loss_scale.assign(2.0 ** 40)  # loss x 2^40 overflows the float16 gradients
    assert run(good) == (0.0, 1.0, 2.0 ** 39, 0)
    assert int(model.optimizer.iterations.numpy()) == 3
    # at a scale of 1 a non-finite gradient is no overflow either: the scale stays 1
    guard.loss_scale.assign(1.0)
    assert run(bad) == (1.0, 0.0, 1.0, 0)


def test_the_loss_scale_grows_after_finite_steps(tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    with precision_policy("mixed_float16"):
        model = _model("ct", tiny_bert_dir, RMSPROP, loss_scale_initial=4.0,
                       loss_scale_growth_steps=2)
    step = tf.function(model.train_step)
    scales = [float(step(_ct_batch(tokenizer))["loss_scale"]) for _ in range(4)]
    assert scales == [4.0, 8.0, 8.0, 16.0]


def test_a_float16_run_with_a_forced_overflow_finishes_and_reports_it(tmp_path, train_overrides):
    from ct.config import load_config
    from ct.training.trainer import CTTrainer

    config = load_config(REPO_ROOT / "configs" / "ct_paper.yaml", [
        *train_overrides, "precision=mixed_float16", "loss_scale_initial=1.0e12", "steps=40",
        "log_every=5", "sts_dev=null", "checkpoint_every=0"])
    summary = CTTrainer(config, tmp_path / "run").train()
    assert summary["status"] == "finished" and summary["nonfinite_steps"] == []
    assert 0 < summary["overflow_skips"] < 40 and summary["loss_scale"] < 1.0e12
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
               .splitlines()]
    assert all("loss_scale" in r and "overflow_skips" in r for r in records if "loss" in r)
    assert np.isfinite(summary["final_loss"])


REPLICA_SCRIPT = r"""
import json, sys
import numpy as np
from ct.distribute import get_strategy
strategy = get_strategy("mirrored", virtual_devices=2)
from ct._keras import tf
from ct.modeling.loading import load_tokenizer
from ct.training.drivers import make_distributed_train_step
sys.path.insert(0, sys.argv[2])
import test_guarded_update as t
tokenizer = load_tokenizer(sys.argv[1])
out = {}
for name, config in (("rmsprop", t.RMSPROP), ("adamw", t.ADAMW)):
    with strategy.scope():
        model = t._model("ct", sys.argv[1], config)
    step = make_distributed_train_step(strategy, model)
    def distribute(batch):
        return next(iter(strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensors(batch).unbatch().batch(8))))
    def state():
        return [np.array(local) for v in (*model.trainable_variables,
                                          *model.optimizer.variables())
                for local in strategy.experimental_local_results(v)]
    step(distribute(t._ct_batch(tokenizer)))
    before = state()
    # the NaN label (pair 3) is in replica 0's half only: both replicas must skip
    result = step(distribute(t._ct_batch(tokenizer, nan_label=True)))
    after = state()
    step(distribute(t._ct_batch(tokenizer)))
    out[name] = {"nonfinite": float(result["nonfinite"]),
                 "identical": all(np.array_equal(a, b) for a, b in zip(before, after)),
                 "count": len(before),
                 "moved_after": any(not np.array_equal(a, b) for a, b in zip(after, state())),
                 "iterations": int(model.optimizer.iterations.numpy())}
print(json.dumps(out))
"""


def test_a_skipped_step_changes_nothing_on_two_mirrored_replicas(tiny_bert_dir):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tests")}
    result = subprocess.run([sys.executable, "-c", REPLICA_SCRIPT, str(tiny_bert_dir),
                             str(REPO_ROOT / "tests")], capture_output=True, text=True,
                            env=env, timeout=600, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("rmsprop", "adamw"):
        assert report[name]["nonfinite"] == 1.0, report
        assert report[name]["identical"] and report[name]["count"] > 20, report
        assert report[name]["moved_after"] and report[name]["iterations"] == 2, report
