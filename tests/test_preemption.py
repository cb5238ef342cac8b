"""Clusters that survive a lost worker (2 local worker processes), and GPUs TensorFlow cannot
see (a fake ``nvidia-smi`` on PATH)."""

import json
import logging
import os
import signal
import stat
import time

import numpy as np
import pytest

from ct.devices import check_gpus, AcceleratorError
from ct.training.preemption import lost_tasks
from helpers import logged_losses
from test_distribute import _free_ports, _run

LIMIT = 120  # seconds every worker has to exit once one is signalled


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch):
    """An ``nvidia-smi`` that lists one GPU, first on PATH (TensorFlow here has no CUDA)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "nvidia-smi"
    script.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA A100-SXM4-40GB "
                      "(UUID: GPU-1b2c3d4e-0000-0000-0000-000000000000)'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_a_gpu_tensorflow_cannot_see_is_reported_in_one_line(fake_nvidia_smi, caplog):
    with caplog.at_level(logging.WARNING, logger="ct.devices"):
        check_gpus(require_accelerator=False)
    [record] = caplog.records
    assert record.getMessage().startswith(
        "nvidia-smi lists 1 GPU(s) (NVIDIA A100-SXM4-40GB) but TensorFlow ")
    assert "pip install -e .[gpu]" in record.getMessage()
    with pytest.raises(AcceleratorError, match="require_accelerator: true"):
        check_gpus(require_accelerator=True)


def test_no_nvidia_smi_no_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="ct.devices"):
        check_gpus(require_accelerator=True)
    assert not caplog.records


def test_ct_train_with_an_invisible_gpu_and_require_accelerator_exits_2(
        fake_nvidia_smi, tmp_path, tiny_bert_dir, corpus_file):
    status, _, err = _run([f"model={tiny_bert_dir}", f"corpus={corpus_file}", "sts_dev=null",
                           "require_accelerator=true"], tmp_path / "run")
    assert status == 2
    [line] = err.strip().splitlines()[-1:]
    assert line.startswith("ct: error: nvidia-smi lists 1 GPU(s) (NVIDIA A100-SXM4-40GB) "
                           "but TensorFlow") and "Traceback" not in err


def test_lost_tasks_are_named_from_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({
        "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
        "task": {"type": "worker", "index": 0}}))
    message = ("Collective ops is aborted by: Error reported from /job:worker/task:1: The "
               "following tasks are unhealthy (stopped sending heartbeats):\n"
               "/job:worker/replica:0/task:1\n/job:worker/replica:0/task:0")
    assert lost_tasks(message) == ["worker 1 (10.0.0.2:2222)"]


OVERRIDES = ["sts_dev=null", "keep=last", "steps=30", "log_every=2", "checkpoint_every=4",
             "length_buckets=1", "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[]",
             "optimizer.lr_values=[]"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_bert_dir, corpus_file):
    overrides = [f"model={tiny_bert_dir}", f"corpus={corpus_file}", *OVERRIDES]
    output_dir = tmp_path_factory.mktemp("one") / "run"
    status, _, err = _run(overrides, output_dir)
    assert status == 0, err
    return overrides, logged_losses(output_dir)


def _start_workers(overrides, output_dir):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    return [_run(overrides + ["strategy=multi_worker"], output_dir,
                 env={"TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                               "task": {"type": "worker", "index": i}})},
                 wait=False) for i in range(2)], workers


def _wait_for_checkpoint(output_dir, processes, step=4):
    latest = output_dir / "checkpoints" / "latest.json"
    deadline = time.time() + 300
    while time.time() < deadline and all(p.poll() is None for p in processes):
        if latest.exists() and json.loads(latest.read_text())["step"] >= step:
            return
        time.sleep(0.05)
    raise AssertionError("the workers saved no checkpoint in time")


def _exits_within(processes, limit):
    start = time.time()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=max(limit - (time.time() - start), 1))
        results.append((process.returncode, err))
    return results, time.time() - start


def _resume_and_compare(overrides, output_dir, expected):
    processes, _ = _start_workers(overrides, output_dir)  # the same command on every worker
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    np.testing.assert_allclose(logged_losses(output_dir), expected, atol=1e-4)


@pytest.mark.heavy
def test_sigterm_to_one_worker_stops_every_worker_at_the_same_saved_step(tmp_path,
                                                                         uninterrupted):
    overrides, expected = uninterrupted
    output_dir = tmp_path / "mw"
    processes, workers = _start_workers(overrides, output_dir)
    _wait_for_checkpoint(output_dir, processes)
    processes[1].send_signal(signal.SIGTERM)
    results, seconds = _exits_within(processes, LIMIT)
    print(f"SIGTERM to worker 1: both workers exited {seconds:.1f} s later")
    assert seconds < LIMIT
    saved = json.loads((output_dir / "checkpoints" / "latest.json").read_text())["step"]
    for status, err in results:
        assert status == 128 + signal.SIGTERM, err
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            f"ct: error: worker 1 ({workers[1]}) received a stop signal: every worker stopped "
            f"at step {saved}; checkpoint saved; run the same command on every worker to "
            "resume")
    assert saved < 30 and not (output_dir / "summary.json").exists()
    _resume_and_compare(overrides, output_dir, expected)


@pytest.mark.heavy
def test_a_killed_worker_stops_the_other_with_one_error_line(tmp_path, uninterrupted):
    overrides, expected = uninterrupted
    output_dir = tmp_path / "mw"
    processes, workers = _start_workers(overrides, output_dir)
    _wait_for_checkpoint(output_dir, processes)
    processes[1].send_signal(signal.SIGKILL)
    processes[1].wait()
    [(status, err)], seconds = _exits_within(processes[:1], LIMIT)
    print(f"SIGKILL to worker 1: worker 0 exited {seconds:.1f} s later")
    assert seconds < LIMIT
    assert status == 75, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"ct: error: worker 1 ({workers[1]}) of the cluster stopped "
                           "responding (killed or lost) after step "), err
    assert not (output_dir / "summary.json").exists()
    _resume_and_compare(overrides, output_dir, expected)
