"""Exported models load in PyTorch ``transformers`` (v5) and ``sentence-transformers`` and give
``ct encode``'s vectors. The PyTorch side runs in its own environment (``make torch-venv``)."""

import json

import numpy as np
import pytest

from ct.cli import main
from ct.modeling.encoder import SentenceEncoder
from helpers import run_in_torch_env, save_tiny_model, wiki_sentences


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


def test_an_untrained_export_serves_as_its_base_did(tmp_path, capsys, corpus_sentences):
    # A base as sentence-transformers saves one: Transformer, Pooling, Normalize and its own
    # max_seq_length (20), no ct files.
    checkpoint = save_tiny_model(tmp_path / "tiny", "bert", corpus_sentences, seed=4)
    base = SentenceEncoder.from_pretrained(str(checkpoint), max_length=20).save(tmp_path / "base")
    (base / "ct_encoder.json").unlink()
    modules = json.loads((base / "modules.json").read_text())
    modules.append({"idx": 2, "name": "2", "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize"})
    (base / "modules.json").write_text(json.dumps(modules))
    assert main(["export", str(base), "--out", str(tmp_path / "export")]) == 0
    assert json.loads((tmp_path / "export" / "modules.json").read_text())[-1]["type"] == (
        "sentence_transformers.models.Normalize")
    sentences = _sentences(tmp_path)  # one of them longer than 20 tokens
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
