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


def test_one_device_strategy():
    assert get_strategy("one_device").num_replicas_in_sync == 1


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
