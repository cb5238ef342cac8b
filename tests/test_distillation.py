"""Distillation: a student from the teacher's own layers, ranking losses, layer matching."""

import json

import numpy as np
import pytest
from scipy import special

from ct._keras import tf
from ct.config import load_config
from ct.errors import ConfigError
from ct.losses.distillation import (layer_matching_loss, listmle_loss,
                                    listwise_distillation_loss)
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.layer_subset import build_layer_subset
from ct.modeling.loading import load_backbone
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, save_tiny_model

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


def _cosines(x):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x @ x.T


def test_listwise_distillation_matches_a_numpy_reference():
    rng = np.random.default_rng(0)
    student, teacher = rng.normal(size=(5, 8)), rng.normal(size=(5, 6))
    t = 0.1
    loss = listwise_distillation_loss(tf.constant(student, tf.float32),
                                      tf.constant(teacher, tf.float32), t).numpy()
    expected = []
    for i in range(5):
        others = [j for j in range(5) if j != i]
        p = special.softmax(_cosines(teacher)[i, others] / t)
        q = special.softmax(_cosines(student)[i, others] / t)
        expected.append(np.sum(p * np.log(p / q)))
    np.testing.assert_allclose(loss, expected, rtol=1e-4, atol=1e-5)
    same = listwise_distillation_loss(tf.constant(teacher, tf.float32),
                                      tf.constant(teacher, tf.float32), t).numpy()
    np.testing.assert_allclose(same, 0.0, atol=1e-5)


def test_listmle_matches_a_numpy_reference_and_prefers_the_teachers_order():
    rng = np.random.default_rng(1)
    student, teacher = rng.normal(size=(4, 8)), rng.normal(size=(4, 8))
    t = 0.5
    loss = listmle_loss(tf.constant(student, tf.float32), tf.constant(teacher, tf.float32),
                        t).numpy()
    expected = []
    for i in range(4):
        others = [j for j in range(4) if j != i]
        order = np.argsort(-_cosines(teacher)[i, others], kind="stable")
        s = (_cosines(student)[i, others] / t)[order]
        expected.append(np.mean([special.logsumexp(s[k:]) - s[k] for k in range(len(s))]))
    np.testing.assert_allclose(loss, expected, rtol=1e-4, atol=1e-5)
    agreeing = listmle_loss(tf.constant(teacher, tf.float32), tf.constant(teacher, tf.float32),
                            t).numpy()
    assert agreeing.mean() < loss.mean()
    np.testing.assert_allclose(layer_matching_loss(tf.ones([2, 4]), tf.zeros([2, 4])), [1, 1])


def test_a_student_from_the_teachers_layers_copies_them(tmp_path, corpus_sentences):
    teacher_dir = save_tiny_model(tmp_path / "teacher4", "bert", corpus_sentences, seed=3)
    config = json.loads((teacher_dir / "config.json").read_text())
    config["num_hidden_layers"] = 4
    # a 4-layer teacher: rebuild it with 4 layers
    import transformers

    teacher_model = transformers.TFAutoModel.from_config(
        transformers.BertConfig.from_dict(config))
    teacher_model(teacher_model.dummy_inputs)
    teacher_model.save_pretrained(teacher_dir)
    student = build_layer_subset(str(teacher_dir), [0, 3])
    teacher = load_backbone(str(teacher_dir))
    assert student.config.num_hidden_layers == 2
    weights = {v.name.split("/", 1)[1]: v.numpy() for v in teacher.weights}
    for variable in student.weights:
        name = variable.name.split("/", 1)[1]
        source = name.replace("layer_._1/", "layer_._3/")
        np.testing.assert_array_equal(variable.numpy(), weights[source], err_msg=name)
    with pytest.raises(ConfigError, match="has layers 0 to 3"):
        build_layer_subset(str(teacher_dir), [0, 4])


def test_distilling_a_student_from_the_teachers_layers_end_to_end(tmp_path, tiny_bert_dir,
                                                                   corpus_file, small_sts_file):
    overrides = [f"model={tiny_bert_dir}", f"sts_dev={small_sts_file}", "stages=[align]",
                 f"align.train={corpus_file}", f"align.teacher={tiny_bert_dir}",
                 "align.student_layers=[1]", "align.listwise_weight=1.0",
                 "align.listmle_weight=0.5", "align.layer_weight=1.0", "align.steps=6",
                 "align.batch_size=16", "align.optimizer.learning_rate=1e-3", "log_every=1"]
    summary = CTTrainer(load_config(PAPER, overrides), tmp_path / "run").train()
    assert summary["status"] == "finished" and summary["data"]["student_layers"] == [1]
    student = SentenceEncoder.from_pretrained(str(tmp_path / "run" / "final"))
    assert student.backbone.config.num_hidden_layers == 1
    targets = np.load(tmp_path / "run" / "teacher_targets.npy", mmap_mode="r")
    assert targets.shape[1] == 32 + 1 * 32  # the vector, then teacher layer 1 pooled
    card = (tmp_path / "run" / "final" / "README.md").read_text()
    assert "distillation into a student made of layers [1]" in card
    assert "listwise (ListNet) ranking distillation x 1" in card
    assert "intermediate-layer matching x 1" in card
    lines = len(open(corpus_file, encoding="utf-8").read().splitlines())
    assert f"{corpus_file.name} ({lines:,} sentences)" in card  # text lines, not pairs


@pytest.mark.parametrize("overrides, message", [
    (["align.layer_weight=1"], "needs align.student_layers and align.teacher"),
    (["align.loss_weight=0"], "every loss weight is 0"),
    (["align.student_layers=[0, 0]"], "distinct layer numbers"),
    (["align.rank_temperature=0"], "rank_temperature must be > 0"),
])
def test_bad_distillation_settings(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(PAPER, ["stages=[align]", "align.train=x.txt", "align.teacher=t",
                            *overrides])


def test_encode_with_layers_gives_the_vector_then_each_layers_pooled_output(tiny_bert_dir,
                                                                          corpus_sentences):
    """One length-sorted pass returns what the teacher's targets hold for layer matching."""
    encoder = SentenceEncoder.from_pretrained(str(tiny_bert_dir))
    texts = corpus_sentences[:10]
    combined = encoder.encode(texts, batch_size=4, layers=[1, 0])
    dim, hidden = encoder.embedding_dim, encoder.hidden_size
    assert combined.shape == (10, dim + 2 * hidden)
    np.testing.assert_allclose(combined[:, :dim], encoder.encode(texts, batch_size=4),
                               atol=1e-5)
    for row, text in enumerate(texts):  # each sentence on its own: no padding at all
        batch = encoder.tokenize([text])
        inputs = {k: tf.constant(batch[k]) for k in ("input_ids", "attention_mask")}
        vector, pooled = encoder.embed_with_layers(inputs, layers=[1, 0])
        np.testing.assert_allclose(combined[row, :dim], vector[0], atol=1e-4)
        np.testing.assert_allclose(combined[row, dim:], pooled[0], atol=1e-4)
