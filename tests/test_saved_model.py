"""``ct export --format saved_model``: strings in, ``ct encode``'s vectors out (tokenizer,
truncation, template, projection and normalisation in the graph), loadable with tensorflow and
tensorflow-text alone; and ``ct encode`` runs the export."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ct.cli import main
from ct.modeling.encoder import SentenceEncoder
from helpers import REPO_ROOT, STSB_DIR, save_tiny_model, wiki_sentences

CHECK_SCRIPT = REPO_ROOT / "bench" / "saved_model_check.py"


def write_sentences(path, texts):
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


def held_out_sentences():
    # Short and long (truncated) sentences, accents, CJK and emoji.
    return (wiki_sentences(60)[30::3] + [" ".join(wiki_sentences(8)), "Café déjà vu", "東京 🙂", ""])


def run_export_check(export_dir, sentences_file, out, ids=None, ids_out=None):
    """Runs bench/saved_model_check.py with imports of ct and transformers blocked."""
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    command = [sys.executable, str(CHECK_SCRIPT), str(export_dir), "--input",
               str(sentences_file), "--out", str(out), "--block"]
    if ids is not None:
        command += ["--ids", str(ids), "--ids-out", str(ids_out)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loaded modules from ct/transformers: []" in result.stdout


@pytest.fixture(scope="module")
def exported(tmp_path_factory, corpus_sentences):
    """A tiny trained-looking encoder (projection, template, normalisation, max length 16),
    its SavedModel export, and ct encode's vectors for held-out sentences."""
    root = tmp_path_factory.mktemp("saved_model")
    checkpoint = save_tiny_model(root / "tiny", "bert", corpus_sentences, seed=5)
    encoder = SentenceEncoder.from_pretrained(str(checkpoint), max_length=16,
                                              template="query: {}")
    encoder.add_projection(24)
    encoder.projection.set_weights([w.numpy() + 0.1 for w in encoder.projection.weights])
    encoder.normalize_output = True
    encoder.save(root / "trained")
    assert main(["export", str(root / "trained"), "--format", "saved_model",
                 "--out", str(root / "export")]) == 0
    sentences = write_sentences(root / "held_out.txt", held_out_sentences())
    assert main(["encode", str(root / "trained"), "--input", str(sentences),
                 "--output", str(root / "ct.npy"), "-q"]) == 0
    return root, encoder, sentences, np.load(root / "ct.npy")


def test_saved_model_runs_without_ct_or_transformers_and_gives_ct_encode_vectors(exported):
    root, encoder, sentences, expected = exported
    np.testing.assert_allclose(np.linalg.norm(expected, axis=1), 1, atol=1e-5)  # Normalize kept
    texts = held_out_sentences()
    batch = encoder.tokenize(encoder.apply_template(texts))
    np.savez(root / "ids.npz", **batch)
    run_export_check(root / "export", sentences, root / "strings.npy", root / "ids.npz",
                     root / "from_ids.npy")
    np.testing.assert_allclose(np.load(root / "strings.npy"), expected, atol=1e-5)
    np.testing.assert_allclose(np.load(root / "from_ids.npy"), expected, atol=1e-5)


def test_ct_encode_runs_the_saved_model(exported, capsys):
    root, _, sentences, expected = exported
    assert main(["encode", str(root / "export"), "--input", str(sentences),
                 "--output", str(root / "sm.npy"), "-q"]) == 0
    np.testing.assert_allclose(np.load(root / "sm.npy"), expected, atol=1e-5)
    info = json.loads((root / "export" / "assets.extra" / "ct_export.json").read_text())
    assert info["tokenizer"] == "WordPiece" and info["normalize"] is True
    assert info["max_length"] == 16 and info["embedding_dim"] == 24
    assert set(info["signatures"]) == {"serving_default", "from_ids", "token_counts"}
    assert info["signatures"]["token_counts"]["outputs"] == {"token_counts": "int32 [n]"}
    assert info["source"] == "a local model"  # no local path in what may be published
    capsys.readouterr()
    status = main(["encode", str(root / "export"), "--input", str(sentences), "--output",
                   str(root / "x.npy"), "--max-length", "8"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.startswith("ct: error: --max-length cannot change")
    assert len(err.splitlines()) == 1


def test_the_token_counts_signature_counts_as_the_model_tokenizes(exported):
    """``token_counts``: each sentence's tokens as the model sees them (template, [CLS]/[SEP],
    truncation at max length), what ct encode batches an export's sentences by."""
    from ct._keras import tf

    root, encoder, _, _ = exported
    texts = held_out_sentences()
    counts = tf.saved_model.load(str(root / "export")).signatures["token_counts"](
        sentences=tf.constant(texts))["token_counts"].numpy()
    expected = encoder.tokenize(encoder.apply_template(texts))["attention_mask"].sum(axis=1)
    np.testing.assert_array_equal(counts, expected)
    assert counts.max() == 16 and counts.min() < 16  # truncated and not


def test_exports_are_batched_by_token_count_and_answer_in_input_order():
    from ct.export.runtime import StringEncoder

    batches = []

    def embed(batch):
        batches.append([text.decode() for text in batch])
        return np.array([[float(len(text))] for text in batch], np.float32)

    def count_tokens(batch):  # "tokens": words, which characters do not order
        return np.array([len(text.split()) for text in batch])

    texts = ["a b c d", "longwordlongword", "x y", "e f g h i", "loooooong"]
    vectors = StringEncoder(embed, 1, "test", count_tokens).encode(texts, batch_size=2)
    assert batches == [["e f g h i", "a b c d"], ["x y", "loooooong"], ["longwordlongword"]]
    np.testing.assert_array_equal(vectors[:, 0], [len(text) for text in texts])
    batches.clear()
    StringEncoder(embed, 1, "test").encode(texts, batch_size=2)  # no counts: characters
    assert batches[0] == ["longwordlongword", "loooooong"]


@pytest.mark.parametrize("argv, message", [
    (["--format", "saved_model", "--quantize", "dynamic"], "--quantize applies to --format tflite"),
    (["--format", "saved_model", "--push-to-hub", "me/x"], "--push-to-hub uploads a huggingface"),
    (["--format", "tflite"], "must be a FILE.tflite"),
])
def test_export_option_mistakes_are_one_line(exported, capsys, argv, message):
    root = exported[0]
    status = main(["export", str(root / "trained"), "--out", str(root / "bad"), *argv])
    err = capsys.readouterr().err.strip()
    assert status == 2 and message in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_packaged_minilm_saved_model_gives_ct_encode_vectors(tmp_path, capsys):
    # Held out: STS-B test sentences (the dev set is what the tokenizer check covers) and the
    # end of the Wikipedia sample, plus long, accented, CJK and emoji lines.
    rows = (STSB_DIR / "sts-test.csv").read_text(encoding="utf-8").splitlines()
    texts = [row.split("\t")[5] for row in rows[:300]] + wiki_sentences(12000)[-100:]
    sentences = write_sentences(tmp_path / "held_out.txt", texts + held_out_sentences())
    assert main(["export", "bundled:all-MiniLM-L6-v2", "--format", "saved_model",
                 "--out", str(tmp_path / "export")]) == 0
    assert main(["encode", "bundled:all-MiniLM-L6-v2", "--input", str(sentences),
                 "--output", str(tmp_path / "ct.npy"), "-q"]) == 0
    run_export_check(tmp_path / "export", sentences, tmp_path / "strings.npy")
    expected, got = np.load(tmp_path / "ct.npy"), np.load(tmp_path / "strings.npy")
    assert got.shape == expected.shape == (len(texts) + len(held_out_sentences()), 384)
    cosines = np.sum(expected * got, axis=1)  # both normalised: the model's Normalize module
    assert cosines.min() >= 0.9999


@pytest.mark.slow
def test_a_sentencepiece_model_exports_with_the_string_signature(tmp_path, capsys):
    # A tiny XLM-R: a SentencePiece (unigram) tokenizer trained here, random weights.
    sentencepiece = pytest.importorskip("sentencepiece")  # requirements.txt pins it
    import tf_keras
    import transformers

    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(wiki_sentences(400)), vocab_size=300, model_type="unigram",
        model_prefix=str(tmp_path / "sentencepiece.bpe"), character_coverage=1.0,
        minloglevel=2)
    tokenizer = transformers.XLMRobertaTokenizerFast(
        vocab_file=str(tmp_path / "sentencepiece.bpe.model"))
    config = transformers.XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=130, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
    tf_keras.utils.set_random_seed(6)
    model = transformers.TFAutoModel.from_config(config)
    model(model.dummy_inputs)
    model.save_pretrained(tmp_path / "xlmr")
    tokenizer.save_pretrained(tmp_path / "xlmr")
    SentenceEncoder.from_pretrained(str(tmp_path / "xlmr"), max_length=16).save(tmp_path / "model")

    assert main(["export", str(tmp_path / "model"), "--format", "saved_model",
                 "--out", str(tmp_path / "export")]) == 0
    info = json.loads((tmp_path / "export" / "assets.extra" / "ct_export.json").read_text())
    assert info["tokenizer"] == "SentencePiece" and info["max_length"] == 16
    assert set(info["signatures"]) == {"serving_default", "from_ids", "token_counts"}
    texts = held_out_sentences() + wiki_sentences(420)[400:]  # not in its training text
    sentences = write_sentences(tmp_path / "held_out.txt", texts)
    assert main(["encode", str(tmp_path / "model"), "--input", str(sentences),
                 "--output", str(tmp_path / "ct.npy"), "-q"]) == 0
    run_export_check(tmp_path / "export", sentences, tmp_path / "strings.npy")
    np.testing.assert_allclose(np.load(tmp_path / "strings.npy"), np.load(tmp_path / "ct.npy"),
                               atol=1e-5)
