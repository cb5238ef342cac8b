"""Strategies for real on a CPU: 2-process multi-worker, refusals, strategy names.

Virtual devices must be configured before TensorFlow starts, so these runs are subprocesses.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from ct.distribute import get_strategy, is_chief
from ct.errors import ConfigError
from helpers import REPO_ROOT, logged_losses

PAPER = str(REPO_ROOT / "configs" / "ct_paper.yaml")


def _run(overrides, output_dir, env=None, wait=True):
    args = [sys.executable, "-m", "ct", "train", PAPER, "-q", "--output-dir", str(output_dir)]
    for item in overrides:
        args += ["--set", item]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})}, cwd=REPO_ROOT)
    if not wait:
        return process
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err




def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start_two_workers(overrides, output_dir):
    """Two ``ct train`` worker processes of one local multi_worker cluster (not waited for)."""
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    return [_run(overrides + ["strategy=multi_worker"], output_dir,
                 env={"TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                               "task": {"type": "worker", "index": index}})},
                 wait=False) for index in range(2)]


def test_batch_not_divisible_by_replicas_is_refused(tmp_path, tiny_bert_dir, corpus_file):
    status, _, err = _run([f"model={tiny_bert_dir}", f"corpus={corpus_file}",
                           "strategy=mirrored", "virtual_devices=2", "batch_size=8"],
                          tmp_path / "out")
    assert status == 2
    assert err.strip() == ("ct: error: batch_size 8 cannot be split over 2 replicas in whole "
                           "groups of 1 positive + 7 negatives; use a multiple of 16")


@pytest.mark.parametrize("name, kwargs, message", [
    ("tpu", {}, "strategy 'tpu' cannot start: no TPU found"),
    ("mirrored", {"require_accelerator": True}, "no GPU found"),
    ("auto", {"require_accelerator": True}, "no GPU or TPU found"),
    ("parameter_server", {}, "not supported for CT"),
    ("gpu_cluster", {}, "unknown strategy 'gpu_cluster'"),
])
def test_strategies_that_cannot_start(name, kwargs, message):
    from ct.errors import CTError

    with pytest.raises(CTError, match=message):
        get_strategy(name, **kwargs)


def test_strategy_names_and_chief():
    assert get_strategy("default").num_replicas_in_sync == 1
    assert get_strategy("auto").num_replicas_in_sync == 1  # no accelerator: default
    with pytest.raises(ConfigError, match="must be set before TensorFlow starts"):
        get_strategy("mirrored", virtual_devices=3)
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    for index, chief in ((0, True), (1, False)):
        os.environ["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                              "task": {"type": "worker", "index": index}})
        try:
            assert is_chief("multi_worker") is chief and is_chief("default")
        finally:
            del os.environ["TF_CONFIG"]


@pytest.mark.heavy
def test_two_workers_killed_and_restarted_give_the_one_device_run(tmp_path, tiny_bert_dir,
                                                                  corpus_file):
    """2 worker processes (multi_worker), length-grouped batches and length buckets, killed
    with SIGKILL after a checkpoint and started again with the same command: every worker
    resumes, and the losses are those of one device running straight through. (Each worker
    reads and groups its own share of the corpus; the global batches are still one
    device's.) 2 replicas vs 1 in one process, for every stage, option and precision: the
    configuration matrix (tests/test_config_matrix.py)."""
    overrides = [f"model={tiny_bert_dir}", f"corpus={corpus_file}", "sts_dev=null",
                 "keep=last", "steps=24", "log_every=1", "checkpoint_every=4", "length_buckets=2",
                 "group_batches=2", "optimizer.learning_rate=1e-3",
                 "optimizer.lr_boundaries=[]", "optimizer.lr_values=[]"]
    status, _, err = _run(overrides, tmp_path / "single")
    assert status == 0, err

    processes = _start_two_workers(overrides, tmp_path / "mw")
    latest = tmp_path / "mw" / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline and all(p.poll() is None for p in processes):
        if latest.exists() and json.loads(latest.read_text())["step"] >= 4:
            break
        time.sleep(0.02)
    for process in processes:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert 4 <= json.loads(latest.read_text())["step"] < 24
    assert not (tmp_path / "mw" / "summary.json").exists()

    for process in _start_two_workers(overrides, tmp_path / "mw"):  # the same command on every worker resumes
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    summary = json.loads((tmp_path / "mw" / "summary.json").read_text())
    assert summary["replicas"] == 2 and summary["strategy"] == "multi_worker"
    np.testing.assert_allclose(logged_losses(tmp_path / "mw"), logged_losses(tmp_path / "single"),
                               atol=1e-4)
