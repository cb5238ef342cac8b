"""Length-bucketed sub-batches give the padded batch's embeddings and gradients."""

import numpy as np
import pytest

from ct._keras import tf
from ct.modeling.encoder import SentenceEncoder


@pytest.mark.parametrize("buckets", [2, 3, 16])
def test_buckets_give_the_same_embeddings_and_gradients(tiny_bert_dir, corpus_sentences,
                                                        buckets):
    encoder = SentenceEncoder.from_pretrained(str(tiny_bert_dir))
    texts = [corpus_sentences[i][: 10 + 17 * i] for i in range(10)]  # lengths 10 .. 160
    batch = {k: tf.constant(v) for k, v in encoder.tokenize(texts).items()}
    assert len(set(batch["attention_mask"].numpy().sum(axis=1))) > 5

    def embed_and_grad(count):
        with tf.GradientTape() as tape:
            vectors = encoder(batch, length_buckets=count)
            loss = tf.reduce_sum(vectors * tf.range(1.0, 33.0))
        return vectors.numpy(), [g.numpy() if not isinstance(g, tf.IndexedSlices)
                                 else tf.convert_to_tensor(g).numpy()
                                 for g in tape.gradient(loss, encoder.trainable_variables)
                                 if g is not None]

    plain, plain_grads = embed_and_grad(1)
    bucketed, bucketed_grads = embed_and_grad(buckets)
    np.testing.assert_allclose(bucketed, plain, atol=1e-5)
    assert len(plain_grads) == len(bucketed_grads)
    for a, b in zip(plain_grads, bucketed_grads):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)  # float rounding only


def test_buckets_give_the_same_layer_outputs(tiny_bert_dir, corpus_sentences):
    """Layer-matching distillation runs in the encoder's buckets too, with the same outputs."""
    encoder = SentenceEncoder.from_pretrained(str(tiny_bert_dir))
    texts = [corpus_sentences[i][: 10 + 17 * i] for i in range(10)]
    batch = {k: tf.constant(v) for k, v in encoder.tokenize(texts).items()}
    plain = encoder.embed_with_layers(batch, layers=[0, 1], length_buckets=1)
    bucketed = encoder.embed_with_layers(batch, layers=[0, 1], length_buckets=4)
    for a, b in zip(plain, bucketed):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-5)
    np.testing.assert_allclose(plain[0].numpy(), encoder(batch, length_buckets=1).numpy(),
                               atol=1e-5)
