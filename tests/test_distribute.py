"""Strategies for real on a CPU: mirrored over 2 virtual devices, 2-process multi-worker.

Virtual devices must be configured before TensorFlow starts, so these runs are subprocesses.
"""

import json
import os
import socket
import subprocess
import sys

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




@pytest.fixture(scope="module")
def single_device_run(tmp_path_factory, tiny_bert_dir, corpus_file):
    overrides = [f"model={tiny_bert_dir}", f"corpus={corpus_file}", "sts_dev=null",
                 "steps=5", "log_every=1", "length_buckets=2",
                 "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[]",
                 "optimizer.lr_values=[]"]
    output_dir = tmp_path_factory.mktemp("single") / "run"
    status, _, err = _run(overrides, output_dir)
    assert status == 0, err
    return overrides, logged_losses(output_dir)


def test_mirrored_on_two_virtual_cpus_matches_one_device(tmp_path, single_device_run):
    overrides, expected = single_device_run
    status, _, err = _run(overrides + ["strategy=mirrored", "virtual_devices=2"], tmp_path / "m")
    assert status == 0, err
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["replicas"] == 2 and summary["strategy"] == "mirrored"
    np.testing.assert_allclose(logged_losses(tmp_path / "m"), expected, atol=1e-4)


def test_supervised_stage_mirrored_matches_one_device(tmp_path, tiny_bert_dir, corpus_file,
                                                      small_stsb_train):
    overrides = [f"model={tiny_bert_dir}", f"corpus={corpus_file}", "sts_dev=null",
                 "stages=[stsb]", f"stsb.train={small_stsb_train}", "stsb.epochs=1",
                 "stsb.dropout=false", "stsb.optimizer.learning_rate=1e-3", "log_every=1"]
    losses = {}
    for name, extra in (("one", []), ("mirrored", ["strategy=mirrored", "virtual_devices=2"])):
        status, _, err = _run(overrides + extra, tmp_path / name)
        assert status == 0, err
        losses[name] = logged_losses(tmp_path / name)
    assert len(losses["one"]) == 4
    np.testing.assert_allclose(losses["mirrored"], losses["one"], atol=1e-4)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _run_two_workers(overrides, output_dir):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(_run(overrides + ["strategy=multi_worker"], output_dir,
                              env={"TF_CONFIG": json.dumps(tf_config)}, wait=False))
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    summary = json.loads((output_dir / "summary.json").read_text())
    assert summary["replicas"] == 2 and summary["strategy"] == "multi_worker"
    return logged_losses(output_dir)


def test_two_process_multi_worker_matches_one_device(tmp_path, single_device_run):
    overrides, expected = single_device_run
    np.testing.assert_allclose(_run_two_workers(overrides, tmp_path / "mw"), expected,
                               atol=1e-4)


def test_length_grouped_batches_on_two_workers_match_one_device(tmp_path, single_device_run):
    """Each worker groups its windows by token count on its own: the global batches, and so
    the losses, are still those of one device."""
    overrides = [*single_device_run[0], "group_batches=2", "length_buckets=1"]
    status, _, err = _run(overrides, tmp_path / "one")
    assert status == 0, err
    expected = logged_losses(tmp_path / "one")
    assert len(expected) == 5 and not np.allclose(expected, single_device_run[1], atol=1e-4)
    np.testing.assert_allclose(_run_two_workers(overrides, tmp_path / "mw"), expected,
                               atol=1e-4)


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


def test_multi_worker_run_killed_and_restarted_resumes_on_every_worker(tmp_path, tiny_bert_dir,
                                                                        corpus_file):
    overrides = [f"model={tiny_bert_dir}", f"corpus={corpus_file}", "sts_dev=null",
                 "keep=last", "steps=24", "log_every=1", "checkpoint_every=4", "length_buckets=1",
                 "optimizer.learning_rate=1e-3",
                 "optimizer.lr_boundaries=[]", "optimizer.lr_values=[]"]
    status, _, err = _run(overrides, tmp_path / "single")
    assert status == 0, err

    def start_workers():
        workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
        return [_run(overrides + ["strategy=multi_worker"], tmp_path / "mw",
                     env={"TF_CONFIG": json.dumps({"cluster": {"worker": workers},
                                                   "task": {"type": "worker", "index": i}})},
                     wait=False) for i in range(2)]

    import signal
    import time

    processes = start_workers()
    latest = tmp_path / "mw" / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline and all(p.poll() is None for p in processes):
        if latest.exists() and json.loads(latest.read_text())["step"] >= 8:
            break
        time.sleep(0.02)
    for process in processes:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert 8 <= json.loads(latest.read_text())["step"] < 24
    assert not (tmp_path / "mw" / "summary.json").exists()

    for process in start_workers():  # the same command on every worker resumes
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    np.testing.assert_allclose(logged_losses(tmp_path / "mw"), logged_losses(tmp_path / "single"),
                               atol=1e-4)


def test_ct_ibn_mirrored_matches_one_device(tmp_path, single_device_run):
    """In-batch negatives come from the global batch (all-gathered embeddings): 2 replicas
    give the single-device losses."""
    overrides, _ = single_device_run
    overrides = overrides + ["objective=ct_ibn", "batch_size=8"]
    losses = {}
    for name, extra in (("one", []), ("mirrored", ["strategy=mirrored", "virtual_devices=2"])):
        status, _, err = _run(overrides + extra, tmp_path / name)
        assert status == 0, err
        losses[name] = logged_losses(tmp_path / name)
    assert len(losses["one"]) == 5 and losses["one"][-1] < losses["one"][0]
    np.testing.assert_allclose(losses["mirrored"], losses["one"], atol=1e-4)
