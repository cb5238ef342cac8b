import numpy as np
import pytest

from ct._keras import keras, tf
from ct.config import OptimizerConfig
from ct.modeling.ct_model import ContrastiveTensionModel
from ct.training.optimization import build_learning_rate_schedule, build_optimizer


@pytest.fixture
def ct_model(tiny_bert_dir):
    model = ContrastiveTensionModel.from_pretrained(str(tiny_bert_dir), max_length=32)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3))
    return model


def _batch(model, sentences, num_negatives=3):
    """A CT batch: group of 1 positive + K negatives, different negatives per model."""
    k = num_negatives
    texts_1 = [sentences[0]] + sentences[1:1 + k]
    texts_2 = [sentences[0]] + sentences[1 + k:1 + 2 * k]
    tokens_1 = model.encoder_1.tokenize(texts_1)
    tokens_2 = model.encoder_2.tokenize(texts_2)
    features = {"input_ids_1": tokens_1["input_ids"],
                "attention_mask_1": tokens_1["attention_mask"],
                "input_ids_2": tokens_2["input_ids"],
                "attention_mask_2": tokens_2["attention_mask"]}
    labels = np.array([1.0] + [0.0] * k, np.float32)
    return {k: tf.constant(v) for k, v in features.items()}, tf.constant(labels)


def test_encoders_share_no_variable_and_start_equal(ct_model):
    variables_1 = ct_model.encoder_1.trainable_variables
    variables_2 = ct_model.encoder_2.trainable_variables
    assert variables_1 and len(variables_1) == len(variables_2)
    assert not {v.ref() for v in variables_1} & {v.ref() for v in variables_2}
    assert not {v.name for v in variables_1} & {v.name for v in variables_2}
    for a, b in zip(variables_1, variables_2):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _numpy_mean_pooled(backbone, input_ids, attention_mask) -> np.ndarray:
    """The reference embedding: the transformers backbone's last hidden states, averaged over
    the real tokens in NumPy (float64); none of ct's pooling or length buckets."""
    hidden = backbone(input_ids=input_ids, attention_mask=attention_mask,
                      training=False).last_hidden_state.numpy().astype(np.float64)
    mask = attention_mask.numpy().astype(np.float64)[..., np.newaxis]
    return (hidden * mask).sum(axis=1) / mask.sum(axis=1)


@pytest.mark.parametrize("buckets", [1, 4])
def test_train_step_loss_matches_numpy_and_updates_both_models_differently(ct_model,
                                                                          corpus_sentences,
                                                                          buckets):
    """The CT loss (paper, eq. 1): sigmoid of the dot product of the two models' mean-pooled
    embeddings, binary cross-entropy against 1 (same sentence) / 0 (different ones)."""
    ct_model.use_length_buckets(buckets)
    features, labels = _batch(ct_model, corpus_sentences[:7])
    assert len(set(features["attention_mask_2"].numpy().sum(axis=1))) > 2  # padding matters
    embeddings_1 = _numpy_mean_pooled(ct_model.encoder_1.backbone, features["input_ids_1"],
                                      features["attention_mask_1"])
    embeddings_2 = _numpy_mean_pooled(ct_model.encoder_2.backbone, features["input_ids_2"],
                                      features["attention_mask_2"])
    logits = (embeddings_1 * embeddings_2).sum(axis=1)
    probabilities = 1 / (1 + np.exp(-logits))
    y = labels.numpy()
    per_pair = -(y * np.log(probabilities) + (1 - y) * np.log(1 - probabilities))
    before = [v.numpy().copy() for v in ct_model.encoder_1.trainable_variables]

    outputs = ct_model.train_step((features, labels))

    np.testing.assert_allclose(float(outputs["loss"]), per_pair.mean(), rtol=1e-4)
    np.testing.assert_allclose(float(outputs["positive_loss"]), per_pair[y == 1].mean(), rtol=1e-4)
    np.testing.assert_allclose(float(outputs["negative_loss"]), per_pair[y == 0].mean(), rtol=1e-4)
    changed_from_start = any(not np.array_equal(b, v.numpy()) for b, v in
                             zip(before, ct_model.encoder_1.trainable_variables))
    differ_between_models = any(
        not np.allclose(a.numpy(), b.numpy()) for a, b in
        zip(ct_model.encoder_1.trainable_variables, ct_model.encoder_2.trainable_variables))
    assert changed_from_start and differ_between_models


def test_paper_learning_rate_schedule_steps_down():
    schedule = build_learning_rate_schedule(OptimizerConfig())
    rates = [float(schedule(step)) for step in (0, 500, 501, 1001, 1501, 2001, 10_000)]
    np.testing.assert_allclose(rates, [1e-5, 1e-5, 8e-6, 6e-6, 4e-6, 2e-6, 2e-6], rtol=1e-6)
    assert isinstance(build_optimizer(OptimizerConfig()), keras.optimizers.RMSprop)


@pytest.mark.parametrize("architecture", ["roberta", "distilbert"])
def test_train_step_runs_on_other_architectures(tmp_path, architecture, corpus_sentences):
    from helpers import save_tiny_model

    directory = save_tiny_model(tmp_path / architecture, architecture, corpus_sentences)
    model = ContrastiveTensionModel.from_pretrained(str(directory), max_length=32)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3))
    features, labels = _batch(model, corpus_sentences[:7])
    first = float(model.train_step((features, labels))["loss"])
    for _ in range(5):
        last = float(model.train_step((features, labels))["loss"])
    assert np.isfinite(first) and last < first


def test_ct_ibn_train_step_matches_numpy_loss_and_learns(tiny_bert_dir, corpus_sentences):
    model = ContrastiveTensionModel.from_pretrained(str(tiny_bert_dir), max_length=32,
                                                    objective="ct_ibn", ibn_scale=5.0)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
    texts = corpus_sentences[:6]
    tokens = model.encoder_1.tokenize(texts)
    features = {f"{key}_{i}": tf.constant(tokens[key]) for i in (1, 2)
                for key in ("input_ids", "attention_mask")}
    labels = tf.ones([6])
    # NumPy reference (sentence-transformers' ContrastiveTensionLossInBatchNegatives):
    # S = 5 x cosine(model 1's, model 2's mean-pooled embeddings); cross-entropy of each row
    # and each column against its diagonal, averaged
    e1, e2 = (_numpy_mean_pooled(encoder.backbone, features["input_ids_1"],
                                 features["attention_mask_1"]) for encoder in model.encoders)
    unit_1 = e1 / np.linalg.norm(e1, axis=1, keepdims=True)
    unit_2 = e2 / np.linalg.norm(e2, axis=1, keepdims=True)
    scores = 5.0 * unit_1 @ unit_2.T

    def cross_entropy(logits):
        shifted = logits - logits.max(axis=1, keepdims=True)
        return -(np.diag(shifted) - np.log(np.exp(shifted).sum(axis=1)))

    expected = ((cross_entropy(scores) + cross_entropy(scores.T)) / 2).mean()
    first = model.train_step((features, labels))
    np.testing.assert_allclose(float(first["loss"]), expected, rtol=1e-5)
    assert float(first["accuracy"]) == pytest.approx(
        np.mean(scores.argmax(axis=1) == np.arange(6)))
    assert model.log_scale.trainable and "ibn_log_scale" in {
        v.name.split("/")[-1].split(":")[0] for v in model.trainable_variables}
    for _ in range(5):
        last = model.train_step((features, labels))
    assert float(last["loss"]) < 0.5 * float(first["loss"])


@pytest.mark.parametrize("dropout", [False, True])
def test_ct_ibn_needs_dropout_for_two_distinct_models(tiny_bert_dir, corpus_sentences,
                                                     dropout):
    """Same sentences and equal starts: without dropout the gradients of both models are
    equal, so the models stay identical (why configs/ct_ibn.yaml turns dropout on)."""
    model = ContrastiveTensionModel.from_pretrained(str(tiny_bert_dir), max_length=32,
                                                    objective="ct_ibn", dropout=dropout)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3))
    tokens = model.encoder_1.tokenize(corpus_sentences[:6])
    features = {f"{key}_{i}": tf.constant(tokens[key]) for i in (1, 2)
                for key in ("input_ids", "attention_mask")}
    for _ in range(2):
        model.train_step((features, tf.ones([6])))
    largest = max(np.abs(a.numpy() - b.numpy()).max() for a, b in
                  zip(model.encoder_1.trainable_variables, model.encoder_2.trainable_variables))
    if dropout:
        assert largest > 1e-4
    else:
        assert largest < 1e-6  # equal up to float rounding


def test_ct_ibn_fixed_scale_is_not_trained(tiny_bert_dir):
    model = ContrastiveTensionModel.from_pretrained(str(tiny_bert_dir), objective="ct_ibn",
                                                    ibn_scale=5.0, ibn_learn_scale=False)
    assert not model.log_scale.trainable
    assert model.log_scale.ref() not in {v.ref() for v in model.trainable_variables}
    np.testing.assert_allclose(np.exp(model.log_scale.numpy()), 5.0, rtol=1e-6)
