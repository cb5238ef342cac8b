import numpy as np

from ct._keras import tf
from ct.modeling.encoder import SentenceEncoder
from ct.modeling.pooling import cls_pooling, mean_pooling


def test_mean_pooling_matches_numpy_and_ignores_padding_values():
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(2, 5, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], np.int32)
    pooled = mean_pooling(tf.constant(hidden), tf.constant(mask)).numpy()
    np.testing.assert_allclose(pooled[0], hidden[0, :3].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pooled[1], hidden[1].mean(axis=0), rtol=1e-6)
    hidden[0, 3:] = 1e6  # garbage at padded positions must not leak in
    again = mean_pooling(tf.constant(hidden), tf.constant(mask)).numpy()
    np.testing.assert_allclose(again[0], pooled[0], rtol=1e-6)


def test_cls_pooling_takes_first_token():
    hidden = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(cls_pooling(tf.constant(hidden), None).numpy(), hidden[:, 0])


def test_encoder_embedding_is_padding_invariant(tiny_bert_dir):
    encoder = SentenceEncoder.from_pretrained(str(tiny_bert_dir), max_length=64)
    sentence = "the river flows into the sea"
    alone = encoder.encode([sentence])[0]
    long_neighbour = "a much longer sentence " * 8
    batched = encoder.encode([sentence, long_neighbour], batch_size=2)[0]
    padded = encoder.tokenize([sentence], padding="max_length")
    assert padded["attention_mask"].sum() < padded["input_ids"].shape[1]
    direct = encoder({k: tf.constant(v) for k, v in padded.items()}).numpy()[0]
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    np.testing.assert_allclose(direct, alone, atol=1e-5)


def test_encode_restores_input_order(tiny_bert_dir):
    encoder = SentenceEncoder.from_pretrained(str(tiny_bert_dir))
    texts = ["short", "a somewhat longer sentence here", "mid length text", "x"]
    together = encoder.encode(texts, batch_size=2)
    one_by_one = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    normalised = encoder.encode(texts, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(normalised, axis=1), 1.0, rtol=1e-5)
