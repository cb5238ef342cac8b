"""The in-batch-negative CT objective (``objective: ct_ibn``) against a NumPy reference."""

import numpy as np
import pytest

from ct._keras import tf
from ct.losses.contrastive_tension_ibn import (contrastive_tension_ibn_loss, in_batch_accuracy,
                                               in_batch_similarities)


def numpy_log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def numpy_ibn_loss(e1, e2, scale, similarity):
    e1, e2 = e1.astype(np.float64), e2.astype(np.float64)
    if similarity == "cosine":
        e1 = e1 / np.linalg.norm(e1, axis=1, keepdims=True)
        e2 = e2 / np.linalg.norm(e2, axis=1, keepdims=True)
    scores = scale * e1 @ e2.T  # S[i, j]: model 1's sentence i vs model 2's sentence j
    index = np.arange(len(e1))
    rows = -numpy_log_softmax(scores)[index, index]
    columns = -numpy_log_softmax(scores.T)[index, index]
    return (rows + columns) / 2


@pytest.mark.parametrize("similarity, scale", [("cosine", 20.0), ("dot", 1.0)])
def test_loss_equals_numpy_reference_on_fixed_batch(similarity, scale):
    rng = np.random.default_rng(1)
    e1 = rng.normal(size=(8, 6)).astype(np.float32)
    e2 = (e1 + 0.7 * rng.normal(size=(8, 6))).astype(np.float32)
    loss = contrastive_tension_ibn_loss(tf.constant(e1), tf.constant(e2), scale, similarity)
    np.testing.assert_allclose(loss.numpy(), numpy_ibn_loss(e1, e2, scale, similarity),
                               rtol=1e-5, atol=1e-6)
    # The mean is sentence-transformers' loss: (CE(S, diag) + CE(S^T, diag)) / 2.
    assert loss.shape == (8,)


def test_replica_slices_sum_to_the_global_loss():
    """Each replica scores its rows and columns against every replica's embeddings."""
    rng = np.random.default_rng(2)
    e1 = rng.normal(size=(8, 5)).astype(np.float32)
    e2 = rng.normal(size=(8, 5)).astype(np.float32)
    full = numpy_ibn_loss(e1, e2, 20.0, "cosine")
    for start in (0, 4):
        part = contrastive_tension_ibn_loss(
            tf.constant(e1[start:start + 4]), tf.constant(e2[start:start + 4]), 20.0, "cosine",
            all_embeddings_1=tf.constant(e1), all_embeddings_2=tf.constant(e2), offset=start)
        np.testing.assert_allclose(part.numpy(), full[start:start + 4], rtol=1e-5, atol=1e-6)


def test_similarities_and_accuracy():
    e1 = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], np.float32)
    e2 = np.array([[3.0, 0.1], [0.0, 1.0], [-1.0, 0.0]], np.float32)
    np.testing.assert_allclose(in_batch_similarities(e1, e2, "dot").numpy(), e1 @ e2.T,
                               rtol=1e-6)
    accuracy = in_batch_accuracy(tf.constant(e1), tf.constant(e2), "cosine").numpy()
    np.testing.assert_array_equal(accuracy, [1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="similarity"):
        in_batch_similarities(e1, e2, "euclidean")
