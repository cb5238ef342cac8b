"""Multi-stage pipelines: stages chained through their kept models, resume, bad input."""

import json

import numpy as np
import pytest

from ct.cli import main
from ct.config import load_config
from ct.errors import RunInterrupted
from ct.modeling.encoder import SentenceEncoder
from ct.training import trainer as trainer_module
from ct.training.pipeline import TrainingPipeline
from helpers import REPO_ROOT, TEST_DATA

CT_STSB = REPO_ROOT / "configs" / "ct_stsb.yaml"
SNLI = TEST_DATA / "snli_1.0_dev_sample.jsonl"


@pytest.fixture
def pipeline_overrides(train_overrides, small_stsb_train):
    """Three short stages on the tiny model; keep: last so each stage passes on trained
    weights, and learning rates large enough to move them."""
    return [*train_overrides, "stages=[nli, ct, stsb]", "keep=last", "checkpoint_every=2",
            f"nli.train={SNLI}", "nli.steps=3", "nli.batch_size=8", "nli.eval_every=3",
            "nli.optimizer.learning_rate=1e-3", f"stsb.train={small_stsb_train}",
            "stsb.epochs=1", "stsb.optimizer.learning_rate=1e-3"]


def _weights(encoder) -> list[np.ndarray]:
    return [w.numpy() for w in encoder.backbone.weights]


def _record_start_weights(monkeypatch) -> list[list[list[np.ndarray]]]:
    """Records each stage's model weights right after they are loaded."""
    starts = []
    original = trainer_module.CTTrainer.build_model

    def build_model(self):
        model = original(self)
        starts.append([_weights(encoder) for encoder in model.encoders])
        return model

    monkeypatch.setattr(trainer_module.CTTrainer, "build_model", build_model)
    return starts


def test_three_stages_pass_each_kept_model_to_the_next(tmp_path, monkeypatch,
                                                        pipeline_overrides):
    starts = _record_start_weights(monkeypatch)
    run = tmp_path / "run"
    summary = TrainingPipeline(load_config(CT_STSB, pipeline_overrides), run).run()

    folders = [run / "stage-1-nli", run / "stage-2-ct", run / "stage-3-stsb"]
    assert [row["name"] for row in summary["stages"]] == ["nli", "ct", "stsb"]
    assert [row["steps"] for row in summary["stages"]] == [3, 4, 4]  # 64 pairs / 16
    assert len(starts) == 3 and [len(s) for s in starts] == [1, 2, 1]
    for index in (1, 2):
        kept = SentenceEncoder.from_pretrained(str(folders[index - 1] / "final"))
        for start in starts[index]:  # CT loads the kept model into both encoders
            for expected, actual in zip(_weights(kept), start):
                np.testing.assert_array_equal(actual, expected)
    # Training moved the weights: the NLI stage's kept model is not the initial checkpoint.
    assert any(not np.array_equal(a, b) for a, b in zip(starts[0][0], starts[1][0]))
    # Same weights, same score: each stage starts where the previous one ended.
    rows = summary["stages"]
    for previous, current in zip(rows, rows[1:]):
        assert current["stsb_dev_before"] == pytest.approx(previous["stsb_dev_after"], abs=1e-9)
        assert current["start_model"] == previous["final_model"]
    for folder, row in zip(folders, rows):
        stage_summary = json.loads((folder / "summary.json").read_text())
        assert stage_summary["status"] == "finished" and stage_summary["stage"] == row["name"]
        assert (folder / "curves.png").exists() and (folder / "final" / "tf_model.h5").exists()
    nli = json.loads((folders[0] / "summary.json").read_text())
    assert nli["data"]["skipped_no_gold_label"] == 4 and nli["data"]["pairs"] == 296
    assert "accuracy" in (folders[0] / "metrics.jsonl").read_text()
    assert (run / "final" / "tf_model.h5").read_bytes() == \
        (folders[2] / "final" / "tf_model.h5").read_bytes()
    assert json.loads((run / "summary.json").read_text()) == summary
    assert summary["stsb_dev"] == {"before": rows[0]["stsb_dev_before"],
                                   "after": rows[2]["stsb_dev_after"]}
    # The pipeline's model card and training record describe all three stages.
    record = json.loads((run / "final" / "ct_training.json").read_text())
    assert [stage["name"] for stage in record["stages"]] == ["nli", "ct", "stsb"]
    assert [stage["stsb_dev_after"] for stage in record["stages"]] == \
        [row["stsb_dev_after"] for row in rows]
    card = (run / "final" / "README.md").read_text()
    for name, row in zip(("nli", "ct", "stsb"), rows):
        assert f"| {row['stage']}. {name} | {row['stsb_dev_before']:.2f} | " \
               f"{row['stsb_dev_after']:.2f} |" in card
    assert "snli_1.0_dev_sample.jsonl (296 pairs)" in card


def test_interrupted_pipeline_resumes_without_rerunning_finished_stages(
        tmp_path, monkeypatch, train_overrides, small_stsb_train):
    overrides = [*train_overrides, "stages=[ct, stsb]", f"stsb.train={small_stsb_train}",
                 "stsb.epochs=1", "checkpoint_every=2"]
    config = load_config(CT_STSB, overrides)
    run = tmp_path / "run"
    original = trainer_module.CTTrainer.train
    trained = []

    def interrupt_second_stage(self, callbacks=None):
        trained.append(self.stage.name)
        if self.stage.name == "stsb":
            raise RunInterrupted("simulated SIGTERM", 15)
        return original(self, callbacks)

    monkeypatch.setattr(trainer_module.CTTrainer, "train", interrupt_second_stage)
    with pytest.raises(RunInterrupted):
        TrainingPipeline(config, run).run()
    first_stage = (run / "stage-1-ct" / "summary.json").read_text()
    assert not (run / "summary.json").exists()

    monkeypatch.setattr(trainer_module.CTTrainer, "train",
                        lambda self, callbacks=None: trained.append(self.stage.name)
                        or original(self, callbacks))
    summary = TrainingPipeline(config, run).run()
    assert trained == ["ct", "stsb", "stsb"]  # stage 1 ran once
    assert (run / "stage-1-ct" / "summary.json").read_text() == first_stage
    assert [row["name"] for row in summary["stages"]] == ["ct", "stsb"]


def test_in_batch_negatives_nli_stage_trains(tmp_path, train_overrides, tiny_bert_dir):
    """The first step's loss is the multiple-negatives ranking loss of the first batch,
    computed here in NumPy from the starting model's hidden states: 20 x cosine of each
    premise with every entailed and every contradicting hypothesis of the batch,
    cross-entropy against its own entailed one."""
    from ct.data.pair_dataset import build_pair_dataset
    from ct.modeling.loading import load_tokenizer
    from ct.training.stages.supervised import NLIStage

    overrides = [*train_overrides, "stages=[nli]", f"nli.train={SNLI}",
                 "nli.objective=in_batch_negatives", "nli.steps=3", "nli.batch_size=8",
                 "nli.optimizer.learning_rate=1e-3", "nli.dropout=false"]
    config = load_config(CT_STSB, overrides)
    summary = TrainingPipeline(config, tmp_path / "run").run()
    assert summary["stage"] == "nli" and summary["steps"] == 3
    assert summary["data"]["triplets"] > 50
    assert len(summary["stages"]) == 1 and (tmp_path / "run" / "final").exists()

    stage = NLIStage(config)
    stage.load_examples()
    features, _ = next(iter(build_pair_dataset(
        stage.columns, stage.labels, load_tokenizer(str(tiny_bert_dir)), batch_size=8,
        max_length=config.max_length, seed=config.seed)))
    backbone = SentenceEncoder.from_pretrained(str(tiny_bert_dir)).backbone

    def unit_mean_pooled(column):
        mask = features[f"attention_mask_{column}"]
        hidden = backbone(input_ids=features[f"input_ids_{column}"], attention_mask=mask,
                          training=False).last_hidden_state.numpy().astype(np.float64)
        mask = mask.numpy().astype(np.float64)[..., np.newaxis]
        pooled = (hidden * mask).sum(axis=1) / mask.sum(axis=1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    anchors = unit_mean_pooled(1)
    candidates = np.concatenate([unit_mean_pooled(2), unit_mean_pooled(3)])
    logits = 20.0 * anchors @ candidates.T
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected = np.mean(np.log(np.exp(shifted).sum(axis=1)) - np.diag(shifted[:, :8]))
    records = [json.loads(line) for line in
               (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    first = [r for r in records if "loss" in r and r.get("step") == 1]
    assert len(first) == 1 and first[0]["loss"] == pytest.approx(expected, rel=1e-4)


def test_supervised_stage_fit_driver_matches_loop(tmp_path, train_overrides, small_stsb_train):
    losses = {}
    for driver in ("loop", "fit"):
        overrides = [*train_overrides, "stages=[stsb]", f"stsb.train={small_stsb_train}",
                     "stsb.epochs=2", "stsb.eval_every=4", f"driver={driver}",
                     "stsb.dropout=false"]
        run = tmp_path / driver
        TrainingPipeline(load_config(CT_STSB, overrides), run).run()
        losses[driver] = [json.loads(line)["loss"] for line in
                          (run / "metrics.jsonl").read_text().splitlines() if '"loss"' in line]
    assert len(losses["loop"]) == 8
    np.testing.assert_allclose(losses["fit"], losses["loop"], rtol=1e-5)


def _train(capsys, *args):
    status = main(["train", str(CT_STSB), *args])
    return status, capsys.readouterr().err


def _bad_nli_file(tmp_path):
    path = tmp_path / "nli.jsonl"
    path.write_text(json.dumps({"sentence1": "A man.", "sentence2": "A person.",
                                "gold_label": "entailment"}) + "\n" +
                    json.dumps({"sentence1": "A dog.", "sentence2": "A cat.",
                                "gold_label": "maybe"}) + "\n")
    return path


BAD_PIPELINES = [
    ("unknown stage", lambda t: ["--set", "stages=[ct, stbs]"],
     "unknown stage 'stbs' in stages; known stages: ct, nli, stsb, align (did you mean 'stsb'?)"),
    ("stage twice", lambda t: ["--set", "stages=[ct, ct]"], "names a stage twice"),
    ("stage without data", lambda t: ["--set", "stages=[nli, ct]"],
     "stage 'nli' has no training data"),
    ("unknown NLI label", lambda t: ["--set", "stages=[nli, ct]",
                                     "--set", f"nli.train={_bad_nli_file(t)}"],
     "nli.jsonl:2: unknown NLI label 'maybe'"),
    ("missing STS-B train", lambda t: ["--set", f"stsb.train={t}/none.csv"], "none.csv"),
    ("stage key typo", lambda t: ["--set", "stsb.epoch=1"],
     "unknown config key 'stsb.epoch'; did you mean 'stsb.epochs'?"),
]


@pytest.mark.parametrize("name, make_args, message", BAD_PIPELINES,
                         ids=[b[0] for b in BAD_PIPELINES])
def test_bad_pipeline_is_one_line_and_exit_2(tmp_path, capsys, corpus_file, name, make_args,
                                             message):
    status, err = _train(capsys, "--set", f"corpus={corpus_file}", *make_args(tmp_path),
                         "--output-dir", str(tmp_path / "out"))
    assert status == 2
    assert err.startswith("ct: error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list((tmp_path / "out").glob("stage-*"))


def test_pipeline_summary_on_the_command_line(tmp_path, capsys, train_overrides,
                                              small_stsb_train):
    overrides = [*train_overrides, "stages=[ct, stsb]", f"stsb.train={small_stsb_train}",
                 "stsb.epochs=1"]
    args = [arg for item in overrides for arg in ("--set", item)]
    status = main(["train", str(CT_STSB), *args, "--output-dir", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert status == 0
    assert "pipeline finished: 2 stages" in out
    assert "1. ct" in out and "2. stsb" in out and "exported model:" in out
