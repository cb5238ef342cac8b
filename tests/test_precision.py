"""bfloat16 as a first-class precision: every stage trains in mixed_bfloat16 (bfloat16
compute, float32 weights and loss) and exports a float32 model."""

import json

import numpy as np
import pytest

from ct.config import load_config
from ct.modeling.encoder import SentenceEncoder
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, TEST_DATA, logged_losses

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"


@pytest.fixture
def targets_file(tmp_path, corpus_sentences):
    """Lines and precomputed target vectors for the align stage."""
    lines = tmp_path / "align.txt"
    lines.write_text("\n".join(corpus_sentences[:64]) + "\n")
    vectors = tmp_path / "targets.npy"
    np.save(vectors, np.random.default_rng(0).normal(size=(64, 32)).astype(np.float32))
    return lines, vectors


STAGES = {
    "ct": [],
    "nli": ["stages=[nli]", f"nli.train={TEST_DATA / 'snli_1.0_dev_sample.jsonl'}",
            "nli.steps=3", "nli.batch_size=8", "nli.optimizer.learning_rate=1e-3"],
    "stsb": ["stages=[stsb]", "stsb.steps=3", "stsb.optimizer.learning_rate=1e-3"],
    "align": ["stages=[align]", "align.steps=3", "align.batch_size=8",
              "align.optimizer.learning_rate=1e-3"],
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_stage_trains_in_mixed_bfloat16(tmp_path, train_overrides, small_stsb_train,
                                              targets_file, stage):
    extra = list(STAGES[stage])
    if stage == "stsb":
        extra.append(f"stsb.train={small_stsb_train}")
    if stage == "align":
        extra += [f"align.train={targets_file[0]}", f"align.targets={targets_file[1]}"]
    config = load_config(PAPER, [*train_overrides, "precision=mixed_bfloat16", "steps=3",
                                 "sts_dev=null", *extra])
    trainer = CTTrainer(config, tmp_path / "run")
    summary = trainer.train()
    assert summary["status"] == "finished" and summary["precision"] == "mixed_bfloat16"
    losses = logged_losses(tmp_path / "run")
    assert len(losses) == 3 and np.isfinite(losses).all()
    for encoder in trainer.model.encoders:
        assert encoder.backbone.compute_dtype == "bfloat16"
        assert encoder.backbone.variable_dtype == "float32"
    # The exported model is float32: computed in float32 from the trained float32 weights, it
    # is the reference for the bfloat16 computation the run trained and scored with.
    final = SentenceEncoder.from_pretrained(str(tmp_path / "run" / "final"))
    assert final.backbone.compute_dtype == "float32"
    texts = ["a short sentence", "another one, a little longer than the first",
             "the third sentence of this test is the longest of the three by far"]
    exported = final.encode(texts)
    kept = trainer.model.encoders[trainer.selection.best["model"] - 1]
    in_bfloat16 = kept.encode(texts)
    assert exported.dtype == np.float32 and np.isfinite(exported).all()
    cosines = (exported * in_bfloat16).sum(axis=1) / (
        np.linalg.norm(exported, axis=1) * np.linalg.norm(in_bfloat16, axis=1))
    assert cosines.min() > 0.999, cosines
    np.testing.assert_allclose(in_bfloat16, exported, rtol=0.05, atol=0.05)
    assert not np.allclose(in_bfloat16, exported, rtol=1e-6, atol=1e-6)  # really bfloat16
    assert "overflow_skips" not in json.loads((tmp_path / "run" / "summary.json").read_text())
