"""Runs that survive: exact resume after SIGKILL, safe checkpoints, numeric guards, signals.

(A resume with dropout on, in every stage and with every option: the configuration matrix,
tests/test_config_matrix.py.)"""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ct._keras import tf
from ct.cli import main
from ct.config import load_config
from ct.errors import NonFiniteLossError
from ct.modeling.ct_model import ContrastiveTensionModel
from ct.training import checkpointing
from ct.training.checkpointing import RunCheckpointer
from ct.training.trainer import CTTrainer
from helpers import REPO_ROOT, logged_losses

PAPER = str(REPO_ROOT / "configs" / "ct_paper.yaml")


def _command(overrides, output_dir):
    args = [sys.executable, "-m", "ct", "train", PAPER, "-q", "--output-dir", str(output_dir)]
    for item in overrides:
        args += ["--set", item]
    return args


def _checkpoint_tensors(run_dir):
    latest = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints" / latest["path"] / "ckpt"))
    names = [n for n in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in n]
    return latest["step"], {name: reader.get_tensor(name) for name in names}


@pytest.fixture
def reliable_overrides(tiny_bert_dir, corpus_file):
    return [f"model={tiny_bert_dir}", f"corpus={corpus_file}", "sts_dev=null", "keep=last",
            "steps=60", "log_every=1", "checkpoint_every=5", "length_buckets=1",
            "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[20, 40]",
            "optimizer.lr_values=[5e-4, 2e-4]"]


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, reliable_overrides):
    straight = tmp_path / "straight"
    subprocess.run(_command(reliable_overrides, straight), check=True, capture_output=True)

    resumed = tmp_path / "resumed"
    process = subprocess.Popen(_command(reliable_overrides, resumed), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    latest = resumed / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        if latest.exists() and json.loads(latest.read_text())["step"] >= 20:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = json.loads(latest.read_text())["step"]
    assert 20 <= killed_at < 60 and not (resumed / "summary.json").exists()

    # the same command again resumes automatically from the latest checkpoint
    result = subprocess.run(_command(reliable_overrides, resumed), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert logged_losses(resumed) == logged_losses(straight)  # bit-identical
    assert len(logged_losses(straight)) == 60
    step_a, tensors_a = _checkpoint_tensors(straight)
    step_b, tensors_b = _checkpoint_tensors(resumed)
    assert step_a == step_b == 60 and tensors_a.keys() == tensors_b.keys()
    for name in tensors_a:
        np.testing.assert_array_equal(tensors_a[name], tensors_b[name], err_msg=name)


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path, reliable_overrides):
    overrides = reliable_overrides + ["steps=400", "checkpoint_every=1000"]
    run = tmp_path / "run"
    process = subprocess.Popen(_command(overrides, run), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    metrics = run / "metrics.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and not (metrics.exists() and len(logged_losses(run)) >= 3):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert "interrupted by SIGTERM at step" in err and "checkpoint saved" in err
    assert "Traceback" not in err
    step = json.loads((run / "checkpoints" / "latest.json").read_text())["step"]
    assert 3 <= step < 400 and len(logged_losses(run)) == step


def test_checkpoint_write_failing_midway_keeps_the_previous_one(tmp_path, tiny_bert_dir,
                                                                monkeypatch):
    model = ContrastiveTensionModel.from_pretrained(str(tiny_bert_dir))
    model.compile(optimizer=_sgd())
    checkpointer = RunCheckpointer(tmp_path / "checkpoints", model, keep_last=2)
    model.update_guard.steps.assign(7)
    checkpointer.save(7, {"note": "good"})
    good = [v.numpy().copy() for v in model.variables]

    for v in model.variables:
        v.assign(tf.zeros_like(v))
    model.update_guard.steps.assign(9)
    real_write = checkpointing.write_json_atomically

    def crash_on_state(path, data):
        if path.name == "state.json":  # the tf checkpoint is written, then the crash
            raise OSError("disk died")
        real_write(path, data)

    monkeypatch.setattr(checkpointing, "write_json_atomically", crash_on_state)
    with pytest.raises(OSError):
        checkpointer.save(9, {"note": "lost"})
    monkeypatch.setattr(checkpointing, "write_json_atomically", real_write)

    assert checkpointer.latest() == {"step": 7, "path": "step-00000007"}
    step, state = checkpointer.restore_latest()
    assert step == 7 and state["note"] == "good" and model.steps_taken == 7
    for before, variable in zip(good, model.variables):
        np.testing.assert_array_equal(before, variable.numpy())
    checkpointer.save(11, {})  # the next save clears the half-written leftovers
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == \
        ["latest.json", "step-00000007", "step-00000011"]


def _sgd():
    from ct._keras import keras

    return keras.optimizers.SGD(learning_rate=0.1)


def _inject_nan_at(monkeypatch, bad_step):
    original = ContrastiveTensionModel._loss_and_gradients

    def poisoned(self, features, labels):
        per_pair, loss, gradients = original(self, features, labels)
        poison = tf.where(self.update_guard.steps + 1 == bad_step, np.nan, 1.0)
        return per_pair * poison, loss * poison, [g * poison if g is not None else None
                                                  for g in gradients]

    monkeypatch.setattr(ContrastiveTensionModel, "_loss_and_gradients", poisoned)


def test_injected_nan_stops_the_run_and_keeps_the_last_good_checkpoint(
        tmp_path, monkeypatch, reliable_overrides):
    _inject_nan_at(monkeypatch, bad_step=4)
    config = load_config(PAPER, reliable_overrides + ["steps=8", "checkpoint_every=2"])
    trainer = CTTrainer(config, tmp_path / "run")
    with pytest.raises(NonFiniteLossError, match="non-finite loss or gradient at step 4"):
        trainer.train()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "stopped" and "step 4" in summary["reason"]
    assert summary["nonfinite_steps"] == [4]
    latest = json.loads((tmp_path / "run" / "checkpoints" / "latest.json").read_text())
    assert latest["step"] == 2
    assert all(np.isfinite(v.numpy()).all() for v in trainer.model.trainable_variables)


def test_injected_nan_is_skipped_and_counted(tmp_path, monkeypatch, reliable_overrides):
    _inject_nan_at(monkeypatch, bad_step=3)
    config = load_config(PAPER, reliable_overrides + ["steps=6", "on_nonfinite=skip"])
    trainer = CTTrainer(config, tmp_path / "run")
    summary = trainer.train()
    assert summary["status"] == "finished" and summary["nonfinite_steps"] == [3]
    losses = logged_losses(tmp_path / "run")
    assert len(losses) == 5 and np.isfinite(losses).all()
    assert all(np.isfinite(v.numpy()).all() for v in trainer.model.trainable_variables)


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


def test_bad_inputs_table(tmp_path, capsys, tiny_bert_dir, corpus_file, monkeypatch):
    base = ["train", PAPER, "--set", f"model={tiny_bert_dir}", "--set", f"corpus={corpus_file}"]
    started = tmp_path / "started"
    started.mkdir()
    (started / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n')
    config = load_config(PAPER, [f"model={tiny_bert_dir}", f"corpus={corpus_file}"])
    config.output_dir = str(started)
    import yaml

    from ct.config import config_to_dict

    (started / "config.yaml").write_text(yaml.safe_dump(config_to_dict(config)))
    noisy = _write(tmp_path / "noisy.txt", b"".join(
        f"sentence number {i}\n".encode() for i in range(40)) + b"\xff\xfe bad\n" * 5)
    cases = [
        (["--set", "keep_last=0"], "keep_last must be >= 1, got 0"),
        (["--set", "checkpoint_every=-5"], "checkpoint_every must be >= 0 (0: off), got -5"),
        (["--set", "on_nonfinite=ignore"], "'on_nonfinite' must be one of 'stop', 'skip'"),
        (["--set", "strategy=gpu"], "'strategy' must be one of 'auto', 'default'"),
        (["--set", "max_bad_line_share=2"], "max_bad_line_share must be between 0 and 1"),
        (["--set", "eval_evry=3"], "unknown config key 'eval_evry'; did you mean 'eval_every'?"),
        (["--output-dir", str(tmp_path / "nothing"), "--resume"],
         f"--resume: {tmp_path / 'nothing'} holds no unfinished run"),
        (["--output-dir", str(started), "--set", "steps=7"],
         f"output directory {started} holds an unfinished run with a different config "
         "(steps: 5000 -> 7); resume with the same config or choose another --output-dir"),
        (["--set", f"corpus={noisy}", "--set", "on_bad_line=skip"],
         "5 of 45 lines (11.1%) are undecodable or malformed, more than "
         "max_bad_line_share=0.01"),
        (["--set", f"corpus={noisy}"], "noisy.txt:41: undecodable bytes (not UTF-8) at byte 0"),
    ]
    for extra, message in cases:
        status = main([*base, *extra])
        err = capsys.readouterr().err
        assert status == 2, (extra, err)
        assert err.startswith("ct: error: ") and message in err, (extra, err)
        assert err.count("\n") == 1

    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 9, 1))
    status = main([*base, "--output-dir", str(tmp_path / "full")])
    err = capsys.readouterr().err
    assert status == 2 and "not enough free space" in err and "GB free" in err


def test_bad_lines_can_be_skipped_and_are_reported(tmp_path, reliable_overrides):
    noisy = _write(tmp_path / "noisy.txt", b"".join(
        f"sentence number {i} of the noisy corpus\n".encode() for i in range(300))
        + b"\xff\xfe bad\n")
    config = load_config(PAPER, reliable_overrides + [f"corpus={noisy}", "on_bad_line=skip",
                                                      "steps=2"])
    summary = CTTrainer(config, tmp_path / "run").train()
    assert summary["corpus_bad_lines_skipped"] == 1 and summary["corpus"]["sentences"] == 300


def _save_at(checkpointer, model, step):
    model.update_guard.steps.assign(step)
    return checkpointer.save(step, {"note": f"step {step}"})


def test_saving_the_same_step_again_never_leaves_no_checkpoint(tmp_path, tiny_bert_dir,
                                                              monkeypatch):
    """A SIGTERM on a checkpoint step saves that step again: killed while the old copy is
    moved aside, the run still resumes from a complete checkpoint (the old copy of the step)."""
    model = ContrastiveTensionModel.from_pretrained(str(tiny_bert_dir))
    model.compile(optimizer=_sgd())
    directory = tmp_path / "checkpoints"
    checkpointer = RunCheckpointer(directory, model, keep_last=3)
    _save_at(checkpointer, model, 4)
    _save_at(checkpointer, model, 6)
    real_replace = checkpointing.os.replace
    calls = []

    def die_after_moving_aside(source, target):
        real_replace(source, target)
        calls.append(target)
        if str(target).endswith(".old"):
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(checkpointing.os, "replace", die_after_moving_aside)
    with pytest.raises(KeyboardInterrupt):
        _save_at(checkpointer, model, 6)
    monkeypatch.setattr(checkpointing.os, "replace", real_replace)
    assert not (directory / "step-00000006").exists()  # the window the old code left open
    fresh = RunCheckpointer(directory, model, keep_last=3)
    assert fresh.latest() == {"step": 6, "path": ".step-00000006.old"}
    model.update_guard.steps.assign(0)
    step, state = fresh.restore_latest()
    assert step == 6 and state["note"] == "step 6" and model.steps_taken == 6
    # the next save puts everything in order again
    _save_at(fresh, model, 8)
    assert sorted(p.name for p in directory.iterdir()) == \
        ["latest.json", "step-00000004", "step-00000008"]


def test_latest_falls_back_to_the_newest_complete_checkpoint(tmp_path, tiny_bert_dir):
    model = ContrastiveTensionModel.from_pretrained(str(tiny_bert_dir))
    model.compile(optimizer=_sgd())
    directory = tmp_path / "checkpoints"
    checkpointer = RunCheckpointer(directory, model, keep_last=3)
    for step in (2, 4):
        _save_at(checkpointer, model, step)
    (directory / "step-00000004" / "state.json").unlink()  # latest.json names a broken one
    assert checkpointer.latest() == {"step": 2, "path": "step-00000002"}

