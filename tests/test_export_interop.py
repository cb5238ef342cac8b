"""Exported models load in PyTorch ``transformers`` (v5) and ``sentence-transformers`` and give
``ct encode``'s vectors. The PyTorch side runs in its own environment (``make torch-venv``)."""

import json

import numpy as np
import pytest

from ct.cli import main
from ct.config import load_config
from ct.modeling.encoder import SentenceEncoder
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, run_in_torch_env, save_tiny_model, wiki_sentences

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


def _sentences(tmp_path):
    # Short and long (truncated at max_length) sentences, in one file, one per line.
    texts = wiki_sentences(40)[::2] + [" ".join(wiki_sentences(12))]
    path = tmp_path / "sentences.txt"
    path.write_text("\n".join(texts) + "\n")
    return path


def _compare_with_pytorch(tmp_path, export_dir, capsys):
    sentences = _sentences(tmp_path)
    assert main(["encode", str(export_dir), "--input", str(sentences),
                 "--output", str(tmp_path / "ct.npy"), "-q"]) == 0
    capsys.readouterr()
    ct_vectors = np.load(tmp_path / "ct.npy")
    run_in_torch_env("encode", "--model", str(export_dir), "--input", str(sentences),
                     "--out", str(tmp_path / "torch.npz"))
    torch_vectors = np.load(tmp_path / "torch.npz")
    for loader in ("transformers", "sentence_transformers"):
        assert torch_vectors[loader].shape == ct_vectors.shape, loader
        np.testing.assert_allclose(torch_vectors[loader], ct_vectors, atol=1e-4,
                                   err_msg=f"PyTorch {loader} vs ct encode")


@pytest.mark.parametrize("architecture, pooling, max_length, projection, template", [
    ("bert", "mean", 16, None, None), ("roberta", "mean", 16, None, None),
    ("bert", "cls", 75, None, None), ("bert", "mean", 24, 40, "query: {}")],
    ids=["bert-mean", "roberta-mean", "bert-cls", "bert-projection-template"])
def test_export_loads_in_pytorch_with_the_same_vectors(tmp_path, capsys, corpus_sentences,
                                                       architecture, pooling, max_length,
                                                       projection, template):
    checkpoint = save_tiny_model(tmp_path / "tiny", architecture, corpus_sentences, seed=3)
    encoder = SentenceEncoder.from_pretrained(str(checkpoint), pooling=pooling,
                                              max_length=max_length, template=template)
    if projection:  # the align stage's projection: a sentence-transformers Dense module
        encoder.add_projection(projection)
        encoder.projection.set_weights([w.numpy() + 0.1 for w in encoder.projection.weights])
    encoder.save(tmp_path / "trained")
    assert main(["export", str(tmp_path / "trained"), "--out", str(tmp_path / "export")]) == 0
    _compare_with_pytorch(tmp_path, tmp_path / "export", capsys)


@pytest.mark.slow
def test_packaged_minilm_export_matches_in_pytorch(tmp_path, capsys):
    assert main(["export", "bundled:all-MiniLM-L6-v2", "--out", str(tmp_path / "export")]) == 0
    _compare_with_pytorch(tmp_path, tmp_path / "export", capsys)


def _sentence_transformers_base(tmp_path, corpus_sentences, max_seq_length=40):
    """A base as sentence-transformers saves one: Transformer, Pooling, Normalize and its own
    max_seq_length, no ct files."""
    checkpoint = save_tiny_model(tmp_path / "tiny", "bert", corpus_sentences, seed=4)
    base = SentenceEncoder.from_pretrained(str(checkpoint), max_length=max_seq_length).save(
        tmp_path / "base")
    (base / "ct_encoder.json").unlink()
    modules = json.loads((base / "modules.json").read_text())
    modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize"})
    (base / "modules.json").write_text(json.dumps(modules))
    return base


def _max_lengths(folder):
    """``(sentence_bert_config's max_seq_length, ct_encoder.json's max_length)``."""
    return (json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"],
            json.loads((folder / "ct_encoder.json").read_text())["max_length"])


def test_an_untrained_export_serves_as_its_base_did(tmp_path, capsys, corpus_sentences):
    base = _sentence_transformers_base(tmp_path, corpus_sentences)
    assert main(["export", str(base), "--out", str(tmp_path / "export")]) == 0
    assert json.loads((tmp_path / "export" / "modules.json").read_text())[-1]["type"] == (
        "sentence_transformers.models.Normalize")
    assert _max_lengths(tmp_path / "export") == (40, 40)
    sentences = _sentences(tmp_path)  # one of them longer than 40 tokens
    for name in ("base", "export"):
        run_in_torch_env("encode", "--model", str(tmp_path / name), "--input", str(sentences),
                         "--out", str(tmp_path / f"{name}.npz"))
    base_vectors = np.load(tmp_path / "base.npz")["sentence_transformers"]
    np.testing.assert_allclose(np.linalg.norm(base_vectors, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "export.npz")["sentence_transformers"],
                               base_vectors, atol=1e-5)
    assert main(["encode", str(tmp_path / "export"), "--input", str(sentences),
                 "--output", str(tmp_path / "ct.npy"), "-q"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "ct.npy"), base_vectors, atol=1e-4)


@pytest.mark.parametrize("serve_max_length, served", [
    (None, 40), pytest.param(24, 24, marks=pytest.mark.slow)],
    ids=["base-length", "serve_max_length"])
def test_a_trained_export_serves_at_its_base_length_not_the_training_one(
        tmp_path, capsys, corpus_sentences, corpus_file, small_sts_file, serve_max_length,
        served):
    # ct trains at max_length 16 (the paper's 75 in miniature); the kept model and its export
    # serve at the base's max_seq_length (40) unless serve_max_length says otherwise.
    base = _sentence_transformers_base(tmp_path, corpus_sentences)
    overrides = [f"model={base}", f"corpus={corpus_file}", f"sts_dev={small_sts_file}",
                 "max_length=16", "steps=2", "eval_every=2", "log_every=1", "batch_size=4",
                 "num_negatives=1", "checkpoint_every=0", "tensorboard=false",
                 "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[]",
                 "optimizer.lr_values=[]"]
    if serve_max_length:
        overrides.append(f"serve_max_length={serve_max_length}")
    CTTrainer(load_config(PAPER, overrides), tmp_path / "run").train()
    assert _max_lengths(tmp_path / "run" / "final") == (served, served)
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "export")]) == 0
    export = tmp_path / "export"
    assert _max_lengths(export) == (served, served)
    assert json.loads((export / "ct_training.json").read_text())["max_length"] == 16
    assert f"| max length | {served} tokens (trained at 16) |" in (export / "README.md").read_text()
    assert json.loads((export / "modules.json").read_text())[-1]["type"] == (
        "sentence_transformers.models.Normalize")
    if serve_max_length is None:
        # SentenceTransformer(export) truncates where ct encode does: at 40, not at 16 (the
        # long sentence's vector differs between the two lengths).
        _compare_with_pytorch(tmp_path, export, capsys)
        sentences = _sentences(tmp_path)
        assert main(["encode", str(export), "--input", str(sentences), "--max-length", "16",
                     "--output", str(tmp_path / "at16.npy"), "-q"]) == 0
        assert np.abs(np.load(tmp_path / "at16.npy")[-1] - np.load(tmp_path / "ct.npy")[-1]
                      ).max() > 1e-3


def test_serve_max_length_beyond_the_models_positions_is_one_line(tmp_path, capsys,
                                                                 train_overrides):
    # The tiny BERT has 128 positions.
    status = main(["train", str(PAPER), "--output-dir", str(tmp_path / "run"),
                   *[arg for item in train_overrides for arg in ("--set", item)],
                   "--set", "serve_max_length=129"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith("ct: error: serve_max_length 129 is longer than the 128 positions")
