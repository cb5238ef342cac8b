"""The NLI and STS-B stage objectives against NumPy references written here."""

import numpy as np
import pytest

from ct._keras import tf
from ct.losses.cosine_similarity import cosine_similarity_loss, scale_sts_scores
from ct.losses.in_batch_negatives import in_batch_logits, in_batch_negatives_loss
from ct.losses.softmax_nli import nli_classifier_features, softmax_nli_loss

TOLERANCE = dict(rtol=1e-5, atol=1e-6)


def numpy_cross_entropy(logits, labels):
    """Sparse softmax cross-entropy per row, with the max subtracted for stability."""
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(labels)), labels]


def numpy_cosine_matrix(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    a_norm = a / np.sqrt((a * a).sum(axis=1, keepdims=True))
    b_norm = b / np.sqrt((b * b).sum(axis=1, keepdims=True))
    return a_norm @ b_norm.T


def numpy_in_batch_loss(anchors, positives, hard_negatives=None, scale=20.0):
    candidates = positives if hard_negatives is None else np.concatenate(
        [positives, hard_negatives], axis=0)
    logits = scale * numpy_cosine_matrix(anchors, candidates)
    return numpy_cross_entropy(logits, np.arange(len(anchors)))


def numpy_cosine_loss(embeddings_1, embeddings_2, scores):
    u = embeddings_1.astype(np.float64)
    v = embeddings_2.astype(np.float64)
    cosine = (u * v).sum(axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    return (cosine - scores) ** 2


def random_embeddings(seed, batch=8, dim=6, count=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, dim)).astype(np.float32) for _ in range(count)]


# --- softmax NLI -----------------------------------------------------------------------------

def test_nli_features_are_u_v_and_absolute_difference():
    u = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    v = np.array([[4.0, 1.0], [0.5, -1.0]], np.float32)
    features = nli_classifier_features(tf.constant(u), tf.constant(v))
    assert features.shape == (2, 6)
    assert features.dtype == tf.float32
    expected = [[1.0, -2.0, 4.0, 1.0, 3.0, 3.0],
                [0.5, 3.0, 0.5, -1.0, 0.0, 4.0]]
    np.testing.assert_allclose(features.numpy(), expected, **TOLERANCE)


def test_nli_features_on_random_batch_cast_half_precision_to_float32():
    u, v = random_embeddings(1, batch=5, dim=7, count=2)
    features = nli_classifier_features(tf.constant(u, tf.float16), tf.constant(v, tf.float16))
    assert features.shape == (5, 21)
    assert features.dtype == tf.float32
    u16, v16 = u.astype(np.float16).astype(np.float32), v.astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(features.numpy(), np.concatenate([u16, v16, np.abs(u16 - v16)], 1),
                               **TOLERANCE)


def test_softmax_nli_loss_equals_numpy_reference():
    rng = np.random.default_rng(2)
    logits = (rng.normal(size=(10, 3)) * 3.0).astype(np.float32)
    labels = rng.integers(0, 3, size=10).astype(np.int64)
    loss = softmax_nli_loss(tf.constant(logits), tf.constant(labels))
    assert loss.shape == (10,)
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss.numpy(), numpy_cross_entropy(logits, labels), **TOLERANCE)


def test_softmax_nli_loss_is_finite_for_large_logits():
    logits = np.array([[200.0, -200.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    loss = softmax_nli_loss(tf.constant(logits), tf.constant([1, 2])).numpy()
    np.testing.assert_allclose(loss, [400.0, np.log(3.0)], rtol=1e-6)


# --- in-batch negatives ----------------------------------------------------------------------

def test_in_batch_logits_are_scaled_cosines():
    anchors, candidates = random_embeddings(3, batch=4, dim=5, count=2)
    logits = in_batch_logits(tf.constant(anchors), tf.constant(candidates), scale=7.5)
    assert logits.shape == (4, 4)
    np.testing.assert_allclose(logits.numpy(), 7.5 * numpy_cosine_matrix(anchors, candidates),
                               **TOLERANCE)


def test_in_batch_negatives_loss_without_hard_negatives():
    anchors, positives, _ = random_embeddings(4)
    loss = in_batch_negatives_loss(tf.constant(anchors), tf.constant(positives))
    assert loss.shape == (8,)
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss.numpy(), numpy_in_batch_loss(anchors, positives),
                               **TOLERANCE)


def test_in_batch_negatives_loss_with_hard_negatives():
    anchors, positives, negatives = random_embeddings(5)
    loss = in_batch_negatives_loss(tf.constant(anchors), tf.constant(positives),
                                   tf.constant(negatives))
    assert loss.shape == (8,)
    reference = numpy_in_batch_loss(anchors, positives, negatives)
    np.testing.assert_allclose(loss.numpy(), reference, **TOLERANCE)
    # The hard negatives are extra candidates, so they can only raise the loss.
    assert np.all(reference > numpy_in_batch_loss(anchors, positives))


def test_in_batch_negatives_loss_of_a_replica_slice_uses_the_global_batch():
    """With 2 replicas, each replica scores its anchors against every replica's candidates:
    its losses are its rows of the single-device loss (NLI in_batch_negatives on 2 replicas
    trains as on one device)."""
    anchors, positives, negatives = random_embeddings(6)
    reference = numpy_in_batch_loss(anchors, positives, negatives)
    for replica, rows in enumerate([slice(0, 4), slice(4, 8)]):
        loss = in_batch_negatives_loss(
            tf.constant(anchors[rows]), tf.constant(positives[rows]), tf.constant(negatives[rows]),
            all_candidates=[tf.constant(positives), tf.constant(negatives)], offset=4 * replica)
        np.testing.assert_allclose(loss.numpy(), reference[rows], **TOLERANCE)
    # without the gathered candidates a replica's loss is another one (fewer negatives)
    alone = in_batch_negatives_loss(tf.constant(anchors[:4]), tf.constant(positives[:4]),
                                    tf.constant(negatives[:4])).numpy()
    assert not np.allclose(alone, reference[:4], rtol=1e-3)


def test_in_batch_negatives_loss_with_non_default_scale():
    anchors, positives, negatives = random_embeddings(6)
    loss = in_batch_negatives_loss(tf.constant(anchors), tf.constant(positives),
                                   hard_negatives=tf.constant(negatives), scale=5.0)
    np.testing.assert_allclose(loss.numpy(),
                               numpy_in_batch_loss(anchors, positives, negatives, scale=5.0),
                               **TOLERANCE)
    assert not np.allclose(loss.numpy(), numpy_in_batch_loss(anchors, positives, negatives))


def test_in_batch_negatives_loss_is_scale_invariant_in_embedding_norms():
    anchors, positives, _ = random_embeddings(7)
    norms = np.random.default_rng(8).uniform(0.1, 10.0, size=(8, 1)).astype(np.float32)
    loss = in_batch_negatives_loss(tf.constant(anchors * norms), tf.constant(positives))
    np.testing.assert_allclose(loss.numpy(), numpy_in_batch_loss(anchors, positives), rtol=1e-4,
                               atol=1e-5)


def test_in_batch_negatives_loss_is_small_for_matching_orthogonal_pairs():
    identity = np.eye(6, dtype=np.float32) * 3.0
    loss = in_batch_negatives_loss(tf.constant(identity), tf.constant(identity), scale=20.0)
    # log(1 + 5 exp(-20)) ~ 1e-8
    assert np.all(loss.numpy() < 1e-3)
    swapped = in_batch_negatives_loss(tf.constant(identity), tf.constant(identity[::-1].copy()))
    assert np.all(swapped.numpy()[[0, 1, 2, 3, 4, 5]] > 10.0)


def test_in_batch_negatives_loss_casts_half_precision_inputs():
    anchors, positives, negatives = random_embeddings(9)
    loss = in_batch_negatives_loss(tf.constant(anchors, tf.float16),
                                   tf.constant(positives, tf.bfloat16),
                                   tf.constant(negatives, tf.float16))
    assert loss.dtype == tf.float32
    reference = numpy_in_batch_loss(anchors.astype(np.float16), positives,
                                    negatives.astype(np.float16))
    # bfloat16 positives keep ~3 significant digits.
    np.testing.assert_allclose(loss.numpy(), reference, rtol=0.05, atol=0.05)


# --- cosine similarity (STS-B) ---------------------------------------------------------------

def test_scale_sts_scores_divides_by_max_score():
    scaled = scale_sts_scores(tf.constant([0, 1, 5], tf.int32))
    assert scaled.dtype == tf.float32
    np.testing.assert_allclose(scaled.numpy(), [0.0, 0.2, 1.0], **TOLERANCE)
    np.testing.assert_allclose(scale_sts_scores(tf.constant([2.0]), max_score=4.0).numpy(), [0.5])


def test_cosine_similarity_loss_equals_numpy_reference_on_sts_scores():
    u, v = random_embeddings(10, batch=12, dim=9, count=2)
    gold = np.random.default_rng(11).uniform(0.0, 5.0, size=12).astype(np.float32)
    loss = cosine_similarity_loss(tf.constant(u), tf.constant(v),
                                  scale_sts_scores(tf.constant(gold)))
    assert loss.shape == (12,)
    assert loss.dtype == tf.float32
    np.testing.assert_allclose(loss.numpy(), numpy_cosine_loss(u, v, gold / 5.0), **TOLERANCE)


def test_cosine_similarity_loss_known_values():
    u = np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 0.0]], np.float32)
    v = np.array([[3.0, 0.0], [-1.0, -1.0], [0.0, 5.0]], np.float32)
    loss = cosine_similarity_loss(tf.constant(u), tf.constant(v), tf.constant([1.0, 0.0, 0.6]))
    np.testing.assert_allclose(loss.numpy(), [0.0, 1.0, 0.36], **TOLERANCE)


# --- XLA and zero vectors --------------------------------------------------------------------

def test_losses_under_xla_match_numpy_reference():
    anchors, positives, negatives = random_embeddings(12)
    rng = np.random.default_rng(13)
    logits = rng.normal(size=(8, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=8).astype(np.int32)
    gold = rng.uniform(0.0, 5.0, size=8).astype(np.float32)

    @tf.function(jit_compile=True)
    def all_losses(anchors, positives, negatives, logits, labels, gold):
        return (softmax_nli_loss(logits, labels),
                nli_classifier_features(anchors, positives),
                in_batch_negatives_loss(anchors, positives),
                in_batch_negatives_loss(anchors, positives, negatives, scale=10.0),
                cosine_similarity_loss(anchors, positives, scale_sts_scores(gold)))

    results = [t.numpy() for t in all_losses(*map(tf.constant, (
        anchors, positives, negatives, logits, labels, gold)))]
    references = [
        numpy_cross_entropy(logits, labels),
        np.concatenate([anchors, positives, np.abs(anchors - positives)], axis=1),
        numpy_in_batch_loss(anchors, positives),
        numpy_in_batch_loss(anchors, positives, negatives, scale=10.0),
        numpy_cosine_loss(anchors, positives, gold / 5.0),
    ]
    for result, reference in zip(results, references):
        np.testing.assert_allclose(result, reference, **TOLERANCE)


@pytest.mark.parametrize("zero_row", [0, 3])
def test_cosine_losses_have_finite_values_and_gradients_for_zero_vectors(zero_row):
    anchors, positives, negatives = random_embeddings(14, batch=4, dim=5)
    anchors[zero_row] = 0.0
    positives[(zero_row + 1) % 4] = 0.0
    anchors_t, positives_t, negatives_t = map(tf.constant, (anchors, positives, negatives))
    scores = tf.constant([0.2, 0.4, 0.6, 0.8])

    with tf.GradientTape(persistent=True) as tape:
        tape.watch([anchors_t, positives_t, negatives_t])
        in_batch = in_batch_negatives_loss(anchors_t, positives_t, negatives_t)
        cosine = cosine_similarity_loss(anchors_t, positives_t, scores)
    for loss, inputs in ((in_batch, [anchors_t, positives_t, negatives_t]),
                         (cosine, [anchors_t, positives_t])):
        assert np.all(np.isfinite(loss.numpy()))
        for gradient in tape.gradient(loss, inputs):
            assert np.all(np.isfinite(gradient.numpy()))
    del tape

    # A zero anchor has cosine 0 with every candidate: uniform over the 8 candidates.
    np.testing.assert_allclose(in_batch.numpy()[zero_row], np.log(8.0), **TOLERANCE)
    # A zero embedding has cosine 0 with its partner: the loss is the squared score.
    np.testing.assert_allclose(cosine.numpy()[zero_row], scores.numpy()[zero_row] ** 2,
                               **TOLERANCE)
