"""Keras `fit` trains through the same train_step as the custom loop; standard callbacks work."""

import csv

import numpy as np
import pytest

from ct._keras import keras
from ct.config import load_config
from ct.errors import ConfigError
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, logged_losses

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"




def _trainer(overrides, output_dir, extra=()):
    return CTTrainer(load_config(PAPER, [*overrides, *extra]), output_dir)


def _weights(trainer):
    return [v.numpy() for v in trainer.model.trainable_variables]


def test_fit_and_loop_give_the_same_losses(tmp_path, train_overrides):
    loop = _trainer(train_overrides, tmp_path / "loop", ["steps=5", "eval_every=2"])
    loop_summary = loop.train()
    fit = _trainer(train_overrides, tmp_path / "fit", ["steps=5", "eval_every=2", "driver=fit"])
    fit_summary = fit.train()
    np.testing.assert_allclose(logged_losses(tmp_path / "fit"), logged_losses(tmp_path / "loop"),
                               atol=1e-5)
    assert [e["step"] for e in fit_summary["stsb_dev"]["evaluations"]] == [0, 2, 4, 5]
    assert fit_summary["stsb_dev"] == loop_summary["stsb_dev"]
    assert fit_summary["kept"] == loop_summary["kept"] and fit_summary["steps"] == 5
    for a, b in zip(_weights(fit), _weights(loop)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_standard_callbacks(tmp_path, train_overrides):
    constant_lr = ["optimizer.lr_boundaries=[]", "optimizer.lr_values=[]"]
    trainer = _trainer(train_overrides, tmp_path / "run",
                       ["driver=fit", "steps=8", "eval_every=2", *constant_lr])
    checkpoints = tmp_path / "checkpoints"
    history_csv = tmp_path / "history.csv"
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(checkpoints / "ct-{epoch}"), save_weights_only=True),
        keras.callbacks.CSVLogger(str(history_csv)),
        keras.callbacks.TensorBoard(str(tmp_path / "tb")),
        keras.callbacks.ReduceLROnPlateau(monitor="stsb_dev", mode="max", patience=0,
                                          factor=0.5, min_delta=100),
        keras.callbacks.EarlyStopping(monitor="stsb_dev", mode="max", patience=1, min_delta=100),
    ]
    summary = trainer.train(callbacks=callbacks)
    # min_delta=100: epoch 1 sets the baseline, epoch 2 "does not improve": LR halved, stop
    assert summary["steps"] == 4
    rows = list(csv.DictReader(history_csv.open()))
    assert len(rows) == 2 and "stsb_dev" in rows[0] and "stsb_dev_model_2" in rows[0]
    assert float(keras.backend.get_value(trainer.model.optimizer.learning_rate)) == \
        pytest.approx(1e-3 * 0.5)
    # the checkpoint holds both encoders: loading it into a fresh model restores both
    fresh = _trainer(train_overrides, tmp_path / "fresh", ["driver=fit"])
    fresh.build_model()
    fresh.model.load_weights(str(checkpoints / "ct-2")).expect_partial()
    for a, b in zip(_weights(fresh), _weights(trainer)):
        np.testing.assert_array_equal(a, b)
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))


class Preempted(Exception):
    pass


class PreemptAfter(keras.callbacks.Callback):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        if self.model.steps_taken == self.steps:
            raise Preempted()


def test_backup_and_restore_resumes_where_an_uninterrupted_run_ends(tmp_path, train_overrides):
    settings = ["driver=fit", "steps=6", "eval_every=3", "sts_dev=null"]
    straight = _trainer(train_overrides, tmp_path / "straight", settings)
    straight.train()

    backup = str(tmp_path / "backup")
    interrupted = _trainer(train_overrides, tmp_path / "first", settings)
    with pytest.raises(Preempted):
        interrupted.train(callbacks=[keras.callbacks.BackupAndRestore(backup, save_freq=1),
                                     PreemptAfter(4)])
    resumed = _trainer(train_overrides, tmp_path / "second", settings)
    resumed.train(callbacks=[keras.callbacks.BackupAndRestore(backup, save_freq=1)])

    straight_losses = logged_losses(tmp_path / "straight")
    assert logged_losses(tmp_path / "first")[:4] == pytest.approx(straight_losses[:4])
    np.testing.assert_allclose(logged_losses(tmp_path / "second"), straight_losses[4:], atol=1e-5)
    for a, b in zip(_weights(resumed), _weights(straight)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_callbacks_need_the_fit_driver(tmp_path, train_overrides):
    trainer = _trainer(train_overrides, tmp_path / "run")
    with pytest.raises(ConfigError, match="driver: fit"):
        trainer.train(callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "x.csv"))])


@pytest.fixture(scope="module")
def float32_fit_losses(tmp_path_factory, tiny_bert_dir, corpus_file):
    """The losses of a float32 `fit` run: the reference for the mixed-precision runs."""
    overrides = [f"model={tiny_bert_dir}", f"corpus={corpus_file}", *PRECISION_RUN]
    run = tmp_path_factory.mktemp("float32") / "run"
    _trainer(overrides, run).train()
    return logged_losses(run)


PRECISION_RUN = ["driver=fit", "sts_dev=null", "steps=3", "log_every=1", "length_buckets=1",
                 "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[]",
                 "optimizer.lr_values=[]"]


@pytest.mark.parametrize("precision, rtol", [("mixed_bfloat16", 3e-2), ("mixed_float16", 3e-3)])
def test_mixed_precision_trains_with_float32_loss(tmp_path, tiny_bert_dir, corpus_file,
                                                  float32_fit_losses, precision, rtol):
    """Under `fit`, a mixed-precision run computes in bfloat16/float16 but keeps float32
    weights and a float32 loss: its losses follow the float32 run's within the compute type's
    rounding, and are not values of the compute type (a loss reduced in bfloat16 keeps 8
    significant bits, in float16 11)."""
    from ct._keras import tf

    trainer = _trainer([f"model={tiny_bert_dir}", f"corpus={corpus_file}", *PRECISION_RUN],
                       tmp_path / "run", [f"precision={precision}",
                                          "loss_scale_initial=256"])  # no overflow skip
    trainer.train()
    losses = np.array(logged_losses(tmp_path / "run"), np.float32)
    np.testing.assert_allclose(losses, float32_fit_losses, rtol=rtol)
    assert not np.allclose(losses, float32_fit_losses, rtol=1e-7, atol=0)  # really mixed
    compute = precision.split("_")[1]
    rounded = tf.cast(tf.cast(losses, compute), tf.float32).numpy()
    assert (rounded != losses).all(), (losses, rounded)
    assert trainer.model.encoder_1.backbone.compute_dtype == compute
    assert trainer.model.encoder_1.backbone.variable_dtype == "float32"
    assert all(v.dtype == tf.float32 for v in trainer.model.trainable_variables)
    assert trainer.model.uses_loss_scaling == (precision == "mixed_float16")


def test_xla_gives_the_samelogged_losses(tmp_path, train_overrides):
    fixed = ["padding=max_length", "max_length=24", "sts_dev=null", "steps=3"]
    _trainer(train_overrides, tmp_path / "eager", fixed).train()
    _trainer(train_overrides, tmp_path / "xla", [*fixed, "jit_compile=true"]).train()
    np.testing.assert_allclose(logged_losses(tmp_path / "xla"), logged_losses(tmp_path / "eager"),
                               rtol=1e-4)


def test_fit_run_resumes_mid_epoch_from_its_checkpoint(tmp_path, train_overrides):
    settings = ["driver=fit", "steps=6", "eval_every=4", "checkpoint_every=1"]
    straight = _trainer(train_overrides, tmp_path / "straight", settings)
    straight_summary = straight.train()
    first = _trainer(train_overrides, tmp_path / "run", settings)
    with pytest.raises(Preempted):
        first.train(callbacks=[PreemptAfter(3)])
    resumed = _trainer(train_overrides, tmp_path / "run", settings).check()
    assert resumed.resuming
    summary = resumed.train()
    assert logged_losses(tmp_path / "run") == pytest.approx(logged_losses(tmp_path / "straight"),
                                                            abs=1e-6)
    assert [e["step"] for e in summary["stsb_dev"]["evaluations"]] == [0, 4, 6]
    for ours, theirs in zip(summary["stsb_dev"]["evaluations"],
                            straight_summary["stsb_dev"]["evaluations"]):
        assert ours == pytest.approx(theirs, abs=1e-4)
    for a, b in zip(_weights(resumed), _weights(straight)):
        np.testing.assert_allclose(a, b, atol=1e-6)
