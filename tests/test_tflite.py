"""``ct export --format tflite``: the string signature on the TFLite runtime (tensorflow-text
custom ops, no select-ops), float32 and dynamic-range int8, run by ``ct encode``."""

import numpy as np
import pytest

from ct.cli import main
from ct.modeling.encoder import SentenceEncoder
from helpers import save_tiny_model
from test_saved_model import held_out_sentences, write_sentences


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, corpus_sentences):
    root = tmp_path_factory.mktemp("tflite")
    checkpoint = save_tiny_model(root / "tiny", "bert", corpus_sentences, seed=7)
    SentenceEncoder.from_pretrained(str(checkpoint), max_length=16).save(root / "model")
    sentences = write_sentences(root / "held_out.txt", held_out_sentences())
    assert main(["encode", str(root / "model"), "--input", str(sentences),
                 "--output", str(root / "ct.npy"), "-q"]) == 0
    return root, sentences, np.load(root / "ct.npy")


def _cosines(a, b):
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("quantize, min_cosine", [("none", 0.99999), ("dynamic", 0.99)])
def test_tflite_gives_ct_encode_vectors(tiny, capsys, quantize, min_cosine):
    root, sentences, expected = tiny
    model = root / f"model-{quantize}.tflite"
    assert main(["export", str(root / "model"), "--format", "tflite", "--quantize", quantize,
                 "--out", str(model)]) == 0
    assert main(["encode", str(model), "--input", str(sentences),
                 "--output", str(root / f"{quantize}.npy"), "-q"]) == 0
    got = np.load(root / f"{quantize}.npy")
    assert got.shape == expected.shape
    from ct.export.tflite import interpreter

    counter = interpreter(model).get_signature_runner("token_counts")
    texts = held_out_sentences()
    encoder = SentenceEncoder.from_pretrained(str(root / "model"))
    np.testing.assert_array_equal(
        counter(sentences=np.array([t.encode() for t in texts], dtype=object))["token_counts"],
        encoder.tokenize(texts)["attention_mask"].sum(axis=1))
    assert _cosines(got, expected).min() >= min_cosine
    if quantize == "none":
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_template_model_is_refused_for_tflite(tiny, capsys):
    root = tiny[0]
    encoder = SentenceEncoder.from_pretrained(str(root / "model"), template="query: {}")
    encoder.save(root / "templated")
    status = main(["export", str(root / "templated"), "--format", "tflite",
                   "--out", str(root / "t.tflite")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "prompt template" in err and len(err.splitlines()) == 1
    assert not (root / "t.tflite").exists()
