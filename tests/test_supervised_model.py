"""The supervised stages' model, data stream and schedule, against NumPy references."""

import numpy as np
import pytest

from ct._keras import keras, tf
from ct.config import OptimizerConfig, load_config, supervised_optimizer
from ct.data.pair_dataset import build_pair_dataset
from ct.errors import ConfigError
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.loading import load_tokenizer
from ct.modeling.supervised_model import SupervisedPairModel
from ct.training.optimization import build_learning_rate_schedule, build_optimizer

SENTENCES = ["A man is playing a guitar.", "Someone plays music.", "A dog runs in a park.",
             "The cat sleeps.", "Two people talk on a bench.", "A child reads a book."]


def _features(encoder, *columns):
    features = {}
    for index, column in enumerate(columns, start=1):
        tokens = encoder.tokenize(column)
        features[f"input_ids_{index}"] = tf.constant(tokens["input_ids"])
        features[f"attention_mask_{index}"] = tf.constant(tokens["attention_mask"])
    return features


def _cosine(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@pytest.fixture(scope="module")
def encoder(tiny_bert_dir):
    return SentenceEncoder.from_pretrained(str(tiny_bert_dir))


def test_softmax_nli_objective_equals_numpy(encoder):
    model = SupervisedPairModel(encoder, "softmax_nli", dropout=False)
    first, second, labels = SENTENCES[:3], SENTENCES[3:], np.array([0, 2, 1])
    features = _features(encoder, first, second)
    loss, _ = model.per_example_loss(model(features), tf.constant(labels))
    u, v = encoder.encode(first), encoder.encode(second)
    kernel, bias = (w.numpy() for w in model.classifier.weights)
    logits = np.concatenate([u, v, np.abs(u - v)], axis=1) @ kernel + bias
    expected = -_log_softmax(logits)[np.arange(3), labels]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_in_batch_negatives_objective_equals_numpy(encoder):
    model = SupervisedPairModel(encoder, "in_batch_negatives", scale=20.0, dropout=False)
    anchors, positives, negatives = SENTENCES[:2], SENTENCES[2:4], SENTENCES[4:]
    features = _features(encoder, anchors, positives, negatives)
    loss, _ = model.per_example_loss(model(features), tf.zeros([2], tf.int32))
    a, p, n = (encoder.encode(c) for c in (anchors, positives, negatives))
    scores = 20.0 * _cosine(a, np.concatenate([p, n]))
    expected = -_log_softmax(scores)[np.arange(2), np.arange(2)]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_cosine_similarity_objective_equals_numpy(encoder):
    model = SupervisedPairModel(encoder, "cosine_similarity", dropout=False)
    first, second, scores = SENTENCES[:3], SENTENCES[3:], np.array([0.9, 0.1, 0.5], np.float32)
    loss, _ = model.per_example_loss(model(_features(encoder, first, second)),
                                     tf.constant(scores))
    cosine = np.diag(_cosine(encoder.encode(first), encoder.encode(second)))
    np.testing.assert_allclose(loss.numpy(), (cosine - scores) ** 2, rtol=1e-4, atol=1e-6)


def test_train_step_lowers_the_loss_and_reports_accuracy(tiny_bert_dir):
    encoder = SentenceEncoder.from_pretrained(str(tiny_bert_dir))
    model = SupervisedPairModel(encoder, "softmax_nli", dropout=False)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    batch = (_features(encoder, SENTENCES[:3], SENTENCES[3:]), tf.constant([0, 2, 1]))
    first = model.train_step(batch)
    for _ in range(5):
        last = model.train_step(batch)
    assert float(last["loss"]) < float(first["loss"])
    assert 0.0 <= float(last["accuracy"]) <= 1.0 and float(last["nonfinite"]) == 0.0
    assert float(first["tokens"]) == sum(
        encoder.tokenize(c)["attention_mask"].sum() for c in (SENTENCES[:3], SENTENCES[3:]))


def _batches(dataset, count):
    out = []
    for features, labels in dataset.take(count):
        out.append((features["input_ids_1"].numpy(), labels.numpy()))
    return out


def test_pair_stream_epochs_resume_and_replica_split(tiny_bert_dir):
    tokenizer = load_tokenizer(str(tiny_bert_dir))
    texts = [f"sentence number {i}" for i in range(10)]
    columns = (np.array(texts, dtype=object), np.array(texts[::-1], dtype=object))
    labels = np.arange(10, dtype=np.float32)
    stream = build_pair_dataset(columns, labels, tokenizer, batch_size=4, seed=3)
    batches = _batches(stream, 5)
    # Each epoch is a permutation: the first two batches hold 8 different examples.
    first_epoch = np.concatenate([b[1] for b in batches[:2]])
    assert len(set(first_epoch)) == 8
    again = _batches(build_pair_dataset(columns, labels, tokenizer, batch_size=4, seed=3), 5)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(batches, again))
    resumed = _batches(build_pair_dataset(columns, labels, tokenizer, batch_size=4, seed=3,
                                          start_position=tf.Variable(2, dtype=tf.int64)), 3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(batches[2:], resumed))
    halves = [_batches(build_pair_dataset(columns, labels, tokenizer, batch_size=4, seed=3,
                                          num_replicas=2, input_pipeline_id=i,
                                          num_input_pipelines=2), 2) for i in (0, 1)]
    for step in range(2):
        joined = np.concatenate([halves[0][step][1], halves[1][step][1]])
        np.testing.assert_array_equal(joined, batches[step][1])


def test_warmup_linear_schedule():
    config = supervised_optimizer()
    schedule = build_learning_rate_schedule(config, total_steps=100)
    values = [float(schedule(step)) for step in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0.0, 1e-5, 2e-5, 1e-5, 0.0, 0.0], atol=1e-12)
    optimizer = build_optimizer(config, total_steps=100)
    assert isinstance(optimizer, keras.optimizers.AdamW)
    assert optimizer.weight_decay == pytest.approx(0.01)
    assert float(build_learning_rate_schedule(OptimizerConfig(lr_boundaries=[], lr_values=[]))
                 ) == pytest.approx(1e-5)


def test_stage_config_validation():
    config = load_config(None, ["stages=[ct, stsb]", "stsb.epochs=2"])
    assert config.stsb.train == ["bundled:stsb-train"] and config.stsb.epochs == 2
    assert config.stsb.optimizer.name == "adamw" and config.optimizer.name == "rmsprop"
    single = load_config(None, ["nli.train_tfds={name: snli}", "stages=[nli]"])
    assert single.nli.train_tfds[0].name == "snli" and single.nli.train_tfds[0].split == "train"
    for bad, message in [("stsb.batch_size=0", "stsb.batch_size must be > 0"),
                         ("stsb.optimizer.warmup_ratio=1.5", "stsb.optimizer.warmup_ratio"),
                         ("stsb.steps=-1", "stsb.steps must be >= 0"),
                         ("stages=[]", "stages is empty")]:
        with pytest.raises(ConfigError, match=message):
            load_config(None, ["stages=[ct, stsb]", bad])
