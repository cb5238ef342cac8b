import numpy as np

from ct._keras import tf
from ct.losses.contrastive_tension import (contrastive_tension_logits, contrastive_tension_loss,
                                           split_positive_negative)


def numpy_bce_with_logits(logits, labels):
    probabilities = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    return -(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities))


def test_loss_equals_numpy_reference_on_fixed_batch():
    rng = np.random.default_rng(0)
    embeddings_1 = rng.normal(size=(16, 8)).astype(np.float32) * 0.5
    embeddings_2 = rng.normal(size=(16, 8)).astype(np.float32) * 0.5
    labels = np.array(([1] + [0] * 7) * 2, np.float32)

    logits = contrastive_tension_logits(tf.constant(embeddings_1), tf.constant(embeddings_2))
    np.testing.assert_allclose(logits.numpy(), (embeddings_1 * embeddings_2).sum(axis=1),
                               rtol=1e-5)
    loss = contrastive_tension_loss(logits, tf.constant(labels)).numpy()
    reference = numpy_bce_with_logits(logits.numpy(), labels)
    np.testing.assert_allclose(loss, reference, rtol=1e-5, atol=1e-6)

    positive_sum, negative_sum, num_positive, num_negative = (
        t.numpy() for t in split_positive_negative(tf.constant(loss), tf.constant(labels)))
    np.testing.assert_allclose(positive_sum, reference[labels == 1].sum(), rtol=1e-5)
    np.testing.assert_allclose(negative_sum, reference[labels == 0].sum(), rtol=1e-5)
    assert (num_positive, num_negative) == (2, 14)


def test_loss_is_finite_for_large_logits():
    loss = contrastive_tension_loss(tf.constant([80.0, -80.0]), tf.constant([0.0, 1.0]))
    np.testing.assert_allclose(loss.numpy(), [80.0, 80.0], rtol=1e-6)
