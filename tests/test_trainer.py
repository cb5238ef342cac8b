import json

import numpy as np

from ct.config import load_config
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, logged_losses

PAPER = REPO_ROOT / "configs" / "ct_paper.yaml"




def test_run_writes_metrics_summary_and_loadable_final(tmp_path, train_overrides):
    config = load_config(PAPER, train_overrides)
    summary = CTTrainer(config, tmp_path / "run").train()
    run = tmp_path / "run"
    assert len(logged_losses(run)) == 4
    assert (run / "curves.png").stat().st_size > 10_000
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    written = json.loads((run / "summary.json").read_text())
    assert written == summary
    assert summary["steps"] == 4 and summary["seed"] == 42 and summary["pairs_per_s"] > 0
    assert set(summary["stsb_dev"]["before"]) == {"model_1", "model_2"}
    assert [e["step"] for e in summary["stsb_dev"]["evaluations"]] == [0, 2, 4]
    kept = summary["kept"]
    best_score = max(max(e["stsb_dev_model_1"], e["stsb_dev_model_2"])
                     for e in summary["stsb_dev"]["evaluations"])
    assert kept["stsb_dev_spearman"] == best_score and kept["model"] in (1, 2)

    import transformers

    backbone = transformers.TFAutoModel.from_pretrained(run / "final", use_safetensors=False)
    tokenizer = transformers.AutoTokenizer.from_pretrained(run / "final")
    assert backbone.config.hidden_size == 32 and tokenizer("a test")["input_ids"]


def test_same_seed_same_loss_curve(tmp_path, train_overrides):
    curves = []
    for name in ("a", "b"):
        CTTrainer(load_config(PAPER, train_overrides + ["sts_dev=null"]), tmp_path / name).train()
        curves.append(logged_losses(tmp_path / name))
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-6)
    CTTrainer(load_config(PAPER, train_overrides + ["sts_dev=null", "seed=7"]),
              tmp_path / "c").train()
    assert not np.allclose(logged_losses(tmp_path / "c"), curves[0])


def test_a_few_steps_lower_the_loss(tmp_path, train_overrides):
    overrides = train_overrides + ["sts_dev=null", "steps=40", "log_every=10"]
    CTTrainer(load_config(PAPER, overrides), tmp_path / "run").train()
    losses = logged_losses(tmp_path / "run")
    assert losses[-1] < 0.7 * losses[0], losses


def test_a_run_that_keeps_the_starting_model_says_so(tmp_path, capsys, train_overrides):
    """A learning rate that only makes the models worse: step 0 wins, and the summary, the
    end of the run and the command's table say it in words."""
    from ct.cli import main

    args = [arg for item in [*train_overrides, "optimizer.learning_rate=0.5"]
            for arg in ("--set", item)] + ["-q"]
    assert main(["train", str(PAPER), *args, "--output-dir", str(tmp_path / "run")]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["kept"]["step"] == 0 and summary["kept_is_starting_model"] is True
    assert summary["stages"][0]["kept_is_starting_model"] is True
    assert "the untouched starting model" in capsys.readouterr().out
