"""The align stage's objectives against NumPy references."""

import numpy as np

from ct._keras import tf
from ct.losses.alignment import (contrastive_alignment_loss, cosine_alignment_loss,
                                 mse_alignment_loss)


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    student = rng.normal(size=(6, 5)).astype(np.float32)
    targets = (student + 0.5 * rng.normal(size=(6, 5))).astype(np.float32)
    return student, targets


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_mse_equals_numpy():
    student, targets = _batch()
    np.testing.assert_allclose(mse_alignment_loss(student, targets).numpy(),
                               ((student - targets) ** 2).mean(axis=1), rtol=1e-5)


def test_cosine_equals_numpy():
    student, targets = _batch(1)
    expected = 1.0 - (_unit(student) * _unit(targets)).sum(axis=1)
    np.testing.assert_allclose(cosine_alignment_loss(student, targets).numpy(), expected,
                               rtol=1e-5, atol=1e-6)


def test_contrastive_equals_numpy_symmetric_infonce():
    student, targets = _batch(2)
    logits = 20.0 * _unit(student).astype(np.float64) @ _unit(targets).T

    def cross_entropy(scores):
        scores = scores - scores.max(axis=1, keepdims=True)
        log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        return -np.diag(log_probs)

    expected = (cross_entropy(logits) + cross_entropy(logits.T)) / 2
    loss = contrastive_alignment_loss(tf.constant(student), tf.constant(targets), 20.0)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-5, atol=1e-6)
