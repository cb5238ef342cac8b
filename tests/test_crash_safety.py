"""Runs killed at every phase that writes files finish when the same command runs again, and
every published folder is complete or absent, with ordinary permissions.

The kills are real: ``tests/kill_at.py`` runs ``ct`` and calls ``os._exit`` (no cleanup, no
``finally``) at a chosen point.
"""

import json
import os
import subprocess
import sys

import pytest

from ct.export.save import EXPORT_FILES
from ct.files import publish_folder
from helpers import REPO_ROOT, logged_losses

PAPER = str(REPO_ROOT / "configs" / "ct_paper.yaml")
KILL_AT = str(REPO_ROOT / "tests" / "kill_at.py")


def _ct(args, kill=None):
    command = [sys.executable, KILL_AT, *([kill] if kill else []), "--", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)


def _train_args(overrides, run):
    args = ["train", PAPER, "-q", "--output-dir", str(run)]
    for item in overrides:
        args += ["--set", item]
    return args


def _assert_complete(folder):
    assert folder.is_dir(), folder
    missing = [name for name in EXPORT_FILES if not (folder / name).exists()]
    assert not missing, (folder, missing)
    leftovers = [p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]
    assert not leftovers, leftovers


@pytest.fixture(scope="module")
def overrides(tiny_bert_dir, corpus_file, small_sts_file):
    return [f"model={tiny_bert_dir}", f"corpus={corpus_file}", f"sts_dev={small_sts_file}",
            "steps=6", "eval_every=2", "log_every=1", "checkpoint_every=2", "length_buckets=1",
            "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[]",
            "optimizer.lr_values=[]"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory, overrides):
    run = tmp_path_factory.mktemp("straight") / "run"
    result = _ct(_train_args(overrides, run))
    assert result.returncode == 0, result.stderr
    return run


PHASES = [
    # the first best/ (step 0) is published, nothing else yet: no checkpoint to resume from
    "ct.export.save:publish_folder:after:1",
    # final/ is published, summary.json is not written yet
    "ct.training.run_dir:RunDirectory.write_summary:before:1",
]
# (A kill mid-training or mid-checkpoint: tests/test_reliability.py.)


@pytest.mark.heavy
@pytest.mark.parametrize("kill", PHASES, ids=["after-best", "before-summary"])
def test_a_run_killed_at_any_phase_finishes_when_run_again(tmp_path, overrides, straight, kill):
    run = tmp_path / "run"
    killed = _ct(_train_args(overrides, run), kill=kill)
    assert killed.returncode == 137, killed.stderr
    assert not (run / "summary.json").exists()
    again = _ct(_train_args(overrides, run))
    assert again.returncode == 0, again.stderr
    assert json.loads((run / "summary.json").read_text())["status"] == "finished"
    _assert_complete(run / "final")
    assert logged_losses(run) == logged_losses(straight)
    assert json.loads((run / "summary.json").read_text())["kept"] == \
        json.loads((straight / "summary.json").read_text())["kept"]


@pytest.mark.heavy
def test_deleting_summary_of_a_finished_run_and_running_again_completes_it(tmp_path, overrides,
                                                                          straight):
    """Also: every file the runs publish gets ordinary permissions under the umask."""
    run = tmp_path / "run"
    previous = os.umask(0o002)
    try:
        assert _ct(_train_args(overrides, run)).returncode == 0
        (run / "summary.json").unlink()
        again = _ct(_train_args(overrides, run))
    finally:
        os.umask(previous)
    assert again.returncode == 0, again.stderr
    _assert_complete(run / "final")
    assert logged_losses(run) == logged_losses(straight)
    for folder in (run / "final", run / "best", run / "checkpoints"):
        for path in [folder, *folder.rglob("*")]:
            mode = path.stat().st_mode & 0o777
            assert mode == (0o775 if path.is_dir() else 0o664), (path, oct(mode))


@pytest.mark.heavy
@pytest.mark.parametrize("kill", ["ct.training.run_dir:RunDirectory.write_summary:before:3"],
                         ids=["before-pipeline-summary"])
def test_a_killed_pipeline_finishes_when_run_again(tmp_path, overrides, small_stsb_train, kill):
    pipeline = [*overrides, "stages=[ct, stsb]", f"stsb.train={small_stsb_train}",
                "stsb.epochs=1", "stsb.optimizer.learning_rate=1e-3"]
    run = tmp_path / "run"
    assert _ct(_train_args(pipeline, run), kill=kill).returncode == 137
    again = _ct(_train_args(pipeline, run))
    assert again.returncode == 0, again.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "finished" and [r["name"] for r in summary["stages"]] == \
        ["ct", "stsb"]
    _assert_complete(run / "final")
    assert (run / "final" / "tf_model.h5").read_bytes() == \
        (run / "stage-2-stsb" / "final" / "tf_model.h5").read_bytes()


def test_a_publish_killed_between_its_renames_leaves_no_mix(tmp_path, monkeypatch):
    """The target is moved aside, then the new folder renamed in: a death between the two
    leaves no target (never a mix); the next publish cleans up and completes."""
    from ct import files

    target = tmp_path / "final"
    publish_folder(lambda staging: (staging / "a.txt").write_text("old"), target)
    real_replace, calls = files.os.replace, {"n": 0}

    def dies_on_second(source, destination):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_replace(source, destination)

    monkeypatch.setattr(files.os, "replace", dies_on_second)
    with pytest.raises(KeyboardInterrupt):
        publish_folder(lambda staging: (staging / "a.txt").write_text("new"), target)
    monkeypatch.setattr(files.os, "replace", real_replace)
    assert not target.exists()
    publish_folder(lambda staging: (staging / "a.txt").write_text("new"), target)
    assert (target / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final"]
