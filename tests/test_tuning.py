"""ct tune: keras-tuner searches whose trials are ct train runs of the tiny model; the report;
resuming an interrupted search; the search space and its bad inputs."""

import csv
import json
import signal

import pytest

from ct.cli import main
from ct.config import load_config
from ct.errors import ConfigError
from ct.training.pipeline import TrainingPipeline
from ct.training.trainer import CTTrainer
from ct.tuning.config import load_tune_config
from ct.tuning.search import HyperparameterSearch
from ct.tuning.space import SearchSpace
from helpers import REPO_ROOT

TUNE = REPO_ROOT / "configs" / "tune_ct.yaml"
SPACE = ("tune.search={optimizer.learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}, "
         "num_negatives: {choice: [1, 3]}}")


@pytest.fixture
def tune_overrides(train_overrides):
    """Three trials of 4 CT steps on the tiny model; keep: last so that trials differ."""
    return [*train_overrides, "keep=last", "checkpoint_every=2", SPACE, "tune.max_trials=3"]


def _tune(out, overrides, *extra):
    return main(["tune", str(TUNE), "--output-dir", str(out),
                 *[arg for item in [*overrides, *extra] for arg in ("--set", item)]])


def _rows(out):
    with (out / "trials.csv").open() as handle:
        return list(csv.DictReader(handle))


def _record_runs(monkeypatch):
    """Records the folder and searched values of every trial that trains."""
    runs = []
    original = TrainingPipeline.run

    def run(self):
        runs.append((self.run_dir.name, self.config.num_negatives,
                     self.config.optimizer.learning_rate))
        return original(self)

    monkeypatch.setattr(TrainingPipeline, "run", run)
    return runs


def test_three_trials_write_the_report_and_pick_the_best(tmp_path, capsys, tune_overrides):
    out = tmp_path / "tune"
    status = _tune(out, tune_overrides)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    rows = _rows(out)
    assert [row["trial"] for row in rows] == ["trial_000", "trial_001", "trial_002"]
    assert list(rows[0])[:4] == ["trial", "optimizer.learning_rate", "num_negatives", "stsb_dev"]
    summaries = {}
    for row in rows:
        assert row["status"] == "COMPLETED" and float(row["seconds"]) > 0
        summary = json.loads((out / "trials" / row["trial"] / "summary.json").read_text())
        summaries[row["trial"]] = summary
        assert summary["status"] == "finished" and summary["steps"] == 4
        assert float(row["stsb_dev"]) == pytest.approx(summary["kept"]["stsb_dev_spearman"],
                                                       abs=1e-4)
        assert int(row["num_negatives"]) == summary["config"]["num_negatives"]
    assert len({row["stsb_dev"] for row in rows}) == 3
    best = max(rows, key=lambda row: float(row["stsb_dev"]))
    config = load_config(out / "best_config.yaml")  # what ct train does with it
    trained = summaries[best["trial"]]["config"]
    assert config.optimizer.learning_rate == trained["optimizer"]["learning_rate"] \
        == float(best["optimizer.learning_rate"])
    assert config.num_negatives == trained["num_negatives"]
    assert config.output_dir is None and config.steps == 4 and config.keep == "last"
    assert (out / "search.png").stat().st_size > 10_000
    assert "3 trials (3 completed, 3 run now)" in captured.out
    assert f"* {best['trial']}" in captured.out and "most influential:" in captured.out


def test_interrupted_search_resumes_the_trial_and_repeats_no_finished_one(
        tmp_path, monkeypatch, capsys, tune_overrides):
    runs = _record_runs(monkeypatch)
    original_boundary = CTTrainer.step_boundary

    def sigterm_in_second_trial(self, step):
        original_boundary(self, step)
        if self.run_dir.name == "trial_001" and step == 2 and len(runs) == 2:
            signal.raise_signal(signal.SIGTERM)  # the trainer saves a checkpoint and stops

    monkeypatch.setattr(CTTrainer, "step_boundary", sigterm_in_second_trial)
    out = tmp_path / "tune"
    assert _tune(out, tune_overrides) == 143
    err = capsys.readouterr().err
    assert "ct: error: interrupted by SIGTERM at step 2" in err
    assert not (out / "trials.csv").exists()
    first = (out / "trials" / "trial_000" / "summary.json").read_text()

    assert _tune(out, tune_overrides) == 0
    captured = capsys.readouterr()
    assert [run[0] for run in runs] == ["trial_000", "trial_001", "trial_001", "trial_002"]
    assert runs[1] == runs[2]  # the same values, in the same folder
    assert "resuming from the checkpoint at step 2" in captured.err
    assert (out / "trials" / "trial_000" / "summary.json").read_text() == first
    assert [row["status"] for row in _rows(out)] == ["COMPLETED"] * 3
    assert "(3 completed, 2 run now)" in captured.out

    assert _tune(out, tune_overrides) == 0  # nothing left to do
    assert len(runs) == 4 and "(3 completed, 0 run now)" in capsys.readouterr().out


def _fake_run(self):
    """A finished run without training: the objective is a function of the config."""
    self.run_dir.mkdir(parents=True)
    score = 50 + 1e3 * self.config.optimizer.learning_rate + self.config.steps / 100
    summary = {"status": "finished", "steps": self.config.steps,
               "kept": {"stsb_dev_spearman": score}, "final_loss": 1.0}
    (self.run_dir / "summary.json").write_text(json.dumps(summary))
    return summary


def test_hyperband_maps_epochs_to_steps(tmp_path, monkeypatch, train_overrides):
    monkeypatch.setattr(TrainingPipeline, "run", _fake_run)
    overrides = [*train_overrides, "eval_every=5", SPACE, "tune.tuner=hyperband",
                 "tune.max_epochs=3", "tune.max_trials=0"]
    result = HyperparameterSearch.from_file(TUNE, tmp_path / "tune", overrides).run()
    steps = [trial.values["steps"] for trial in result.trials]
    assert len(steps) == 6 and set(steps) == {5, 15}  # 1 and 3 epochs of eval_every steps
    assert result.keys[-1] == "steps" and result.best.values["steps"] == 15
    assert load_config(tmp_path / "tune" / "best_config.yaml").steps == 15


def test_executions_per_trial_average_runs_with_consecutive_seeds(tmp_path, monkeypatch,
                                                                  train_overrides):
    seeds = []
    monkeypatch.setattr(TrainingPipeline, "run",
                        lambda self: seeds.append(self.config.seed) or _fake_run(self))
    overrides = [*train_overrides, SPACE, "tune.max_trials=2", "tune.executions_per_trial=2",
                 "seed=7"]
    result = HyperparameterSearch.from_file(TUNE, tmp_path / "tune", overrides).run()
    assert seeds == [7, 8, 7, 8] and len(result.trials) == 2
    for trial in result.trials:
        runs = sorted((tmp_path / "tune" / "trials" / trial.name).iterdir())
        assert [run.name for run in runs] == ["execution-1", "execution-2"]
        assert trial.objective == pytest.approx(50 + 1e3 * trial.values[
            "optimizer.learning_rate"] + 4 / 100)


def test_invalid_draw_fails_the_trial_and_the_search_goes_on(tmp_path, monkeypatch,
                                                             train_overrides):
    monkeypatch.setattr(TrainingPipeline, "run", _fake_run)
    # 8 and 40 are multiples of num_negatives + 1 = 8; most values between are not.
    overrides = [*train_overrides, "tune.search={batch_size: {int: [8, 40]}}",
                 "tune.tuner=bayesian", "tune.max_trials=4"]
    result = HyperparameterSearch.from_file(TUNE, tmp_path / "tune", overrides).run()
    assert len(result.trials) == 4
    failed = [t for t in result.trials if t.status == "FAILED"]
    assert failed and all("must be a multiple of num_negatives + 1" in t.message
                          for t in failed)
    assert all(t.values["batch_size"] % 8 == 0 for t in result.trials if t.objective)
    assert "must be a multiple" in (tmp_path / "tune" / "trials.csv").read_text()


BAD_SEARCHES = [
    ("empty space", ["tune.search={}"], "tune.search is empty"),
    ("no tune section", ["tune=null"], "has no tune: section"),
    ("malformed distribution", ["tune.search={num_negatives: {choise: [3, 7]}}"],
     "unknown distribution 'choise' (did you mean 'choice'?)"),
    ("not a distribution", ["tune.search={num_negatives: [3, 7]}"], "must be a distribution"),
    ("bad range", ["tune.search={optimizer.learning_rate: {log_uniform: [1.0e-3, 1.0e-5]}}"],
     "needs low < high"),
    ("unknown option", ["tune.search={learning_rate: {log_uniform: [1.0e-6, 1.0e-4]}}"],
     "'learning_rate' is not a training option; did you mean 'optimizer.learning_rate'?"),
    ("wrong value type", ["tune.search={num_negatives: {choice: [3, many]}}"],
     "'num_negatives' must be int"),
    ("float range on an int", ["tune.search={max_length: {uniform: [16, 64]}}"],
     "'max_length' takes whole numbers; use int: [16, 64]"),
    ("invalid combination", ["tune.search={batch_size: {choice: [12, 16]}}"],
     "batch_size=12 gives an invalid training config"),
    ("unknown objective", [SPACE, "tune.objective=stsb"],
     "tune.objective 'stsb' is not a figure ct runs log; did you mean 'stsb_dev'?"),
    ("objective never logged", [SPACE, "sts_dev=null"], "needs STS-B dev evaluation"),
    ("unknown tune key", [SPACE, "tune.max_trial=3"], "did you mean 'tune.max_trials'?"),
]


@pytest.mark.parametrize("name, extra, message", BAD_SEARCHES, ids=[b[0] for b in BAD_SEARCHES])
def test_bad_search_is_one_line_and_exit_2(tmp_path, capsys, train_overrides, name, extra,
                                           message):
    status = _tune(tmp_path / "out", train_overrides, *extra)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("ct: error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_different_search_in_the_same_folder_is_refused(tmp_path, capsys, monkeypatch,
                                                          train_overrides):
    monkeypatch.setattr(TrainingPipeline, "run", _fake_run)
    out = tmp_path / "tune"
    assert _tune(out, train_overrides, SPACE, "tune.max_trials=1") == 0
    assert _tune(out, train_overrides, SPACE, "tune.max_trials=2") == 0  # a longer search
    capsys.readouterr()
    assert _tune(out, train_overrides, SPACE, "tune.max_trials=2", "steps=5") == 2
    assert "holds a search with other settings (train.steps: 4 -> 5)" in \
        capsys.readouterr().err
    assert len(_rows(out)) == 2


def test_search_space_forms():
    space = SearchSpace.parse({
        "optimizer": {"learning_rate": {"log_uniform": ["2e-6", "5e-5"]}},  # YAML 1.1 strings
        "stages": {"choice": [["ct"], ["ct", "stsb"]]},
        "max_length": {"int": [16, 64], "step": 16},
        "optimizer.clipnorm": {"choice": [None, 1.0]}})
    assert space.keys == ["optimizer.learning_rate", "stages", "max_length",
                          "optimizer.clipnorm"]
    lr, stages, length, clipnorm = space.parameters
    assert (lr.low, lr.high) == (2e-6, 5e-5) and not lr.encoded
    assert stages.encoded and stages.decode('["ct", "stsb"]') == ["ct", "stsb"]
    assert length.candidates() == [16, 32, 48, 64] and clipnorm.encoded
    with pytest.raises(ConfigError, match="names optimizer.learning_rate twice"):
        SearchSpace.parse({"optimizer": {"learning_rate": {"uniform": [0.1, 1]}},
                           "optimizer.learning_rate": {"uniform": [0.1, 1]}})


def test_ct_train_points_a_tune_config_to_ct_tune(capsys):
    assert main(["train", str(TUNE), "--output-dir", "/nonexistent/never"]) == 2
    assert "the tune: section is read by `ct tune`" in capsys.readouterr().err


def test_set_replaces_or_drops_one_search_entry():
    _, tune, _ = load_tune_config(TUNE, [
        "tune.search.optimizer.learning_rate={uniform: [1.0e-5, 2.0e-5]}",
        "tune.search.max_length=null", "tune.max_trials=3"])
    assert tune.search["optimizer.learning_rate"] == {"uniform": [1.0e-5, 2.0e-5]}
    assert "max_length" not in tune.search and "num_negatives" in tune.search
    assert tune.max_trials == 3
