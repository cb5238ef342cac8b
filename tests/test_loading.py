import shutil

import numpy as np
import pytest

from ct._keras import tf
from ct.errors import ModelLoadError
from ct.modeling.pytorch_layout import save_safetensors
from ct.modeling.loading import load_backbone, load_tokenizer, resolve_model_dir
from helpers import save_tiny_model


def _outputs(backbone, ids, mask):
    return backbone(input_ids=ids, attention_mask=mask, training=False)[0].numpy()


@pytest.mark.parametrize("architecture", ["bert", "roberta", "distilbert"])
def test_pytorch_safetensors_loads_same_as_tf_h5(tmp_path, architecture, corpus_sentences):
    h5_dir = save_tiny_model(tmp_path / "h5", architecture, corpus_sentences, seed=5)
    from_h5 = load_backbone(str(h5_dir))
    pt_dir = tmp_path / "pt"
    save_safetensors(from_h5, pt_dir)
    assert not (pt_dir / "tf_model.h5").exists()
    from_safetensors = load_backbone(str(pt_dir))
    assert from_safetensors is not from_h5
    ids = tf.constant([[2, 40, 41, 42, 3, 0], [2, 50, 3, 0, 0, 0]], tf.int32)
    mask = tf.cast(ids != 0, tf.int32)
    np.testing.assert_allclose(_outputs(from_safetensors, ids, mask),
                               _outputs(from_h5, ids, mask), atol=1e-6)


@pytest.mark.slow
def test_packaged_minilm_safetensors_matches_its_h5_export(tmp_path):
    """The real PyTorch-only checkpoint: convert at load time, save as h5, reload, compare."""
    from_safetensors = load_backbone("bundled:all-MiniLM-L6-v2")
    tokenizer = load_tokenizer("bundled:all-MiniLM-L6-v2")
    from_safetensors.save_pretrained(tmp_path)
    from_h5 = load_backbone(str(tmp_path))
    batch = tokenizer(["A man is playing a guitar.", "Rain."], padding=True, return_tensors="tf")
    out_a = _outputs(from_safetensors, batch["input_ids"], batch["attention_mask"])
    out_b = _outputs(from_h5, batch["input_ids"], batch["attention_mask"])
    np.testing.assert_allclose(out_a, out_b, atol=1e-6)
    assert out_a.shape[-1] == 384


def test_missing_model_dir_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        resolve_model_dir(str(tmp_path / "nope" / "model"))


def test_dir_without_weights_or_tokenizer(tmp_path, tiny_bert_dir):
    no_weights = tmp_path / "no_weights"
    shutil.copytree(tiny_bert_dir, no_weights)
    (no_weights / "tf_model.h5").unlink()
    with pytest.raises(ModelLoadError, match="neither tf_model.h5 nor model.safetensors"):
        load_backbone(str(no_weights))
    no_tokenizer = tmp_path / "no_tokenizer"
    no_tokenizer.mkdir()
    shutil.copy(tiny_bert_dir / "config.json", no_tokenizer)
    with pytest.raises(ModelLoadError, match="no usable tokenizer"):
        load_tokenizer(str(no_tokenizer))


def test_hub_name_without_network_or_cache_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelLoadError, match="could not be fetched from the hub"):
        resolve_model_dir("someone/not-cached-model")


def test_a_sentence_transformers_folder_is_encoded_as_it_declares(tmp_path, tiny_bert_dir,
                                                                   caplog):
    """ct eval / ct encode on a sentence-transformers folder use its max_seq_length and
    pooling, as SentenceTransformer does; another pooling is used with a warning."""
    import json
    import logging
    import shutil

    from ct.modeling.encoder import SentenceEncoder

    folder = tmp_path / "st-model"
    shutil.copytree(tiny_bert_dir, folder)
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 12}))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 32, "pooling_mode_cls_token": True,
         "pooling_mode_mean_tokens": False}))
    encoder = SentenceEncoder.from_pretrained(str(folder))
    assert (encoder.max_length, encoder.pooling) == (12, "cls")
    with caplog.at_level(logging.WARNING, logger="ct"):
        mean = SentenceEncoder.from_pretrained(str(folder), pooling="mean", max_length=40)
    assert (mean.max_length, mean.pooling) == (40, "mean")
    assert any("trained with cls pooling" in r.message for r in caplog.records)
