"""cpu_parallelism: the thread pools a training process gets (set before TensorFlow starts)."""

import json
import os
import subprocess
import sys

import pytest

from helpers import REPO_ROOT

SCRIPT = """
import json, sys
from ct._keras import tf
from ct.training.execution import configure_cpu_parallelism
said = configure_cpu_parallelism(sys.argv[1], int(sys.argv[2]))
tf.constant(1.0) + 1.0  # TensorFlow starts
print(json.dumps({"said": said,
                  "intra": tf.config.threading.get_intra_op_parallelism_threads(),
                  "inter": tf.config.threading.get_inter_op_parallelism_threads()}))
"""


def _run(mode, passes):
    result = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(passes)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=300,
                            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_models_gives_each_encoder_pass_its_share_of_the_cores():
    figures = _run("models", 2)
    assert figures["inter"] == 2
    assert figures["intra"] == max((os.cpu_count() or 1) // 2, 1)
    assert figures["said"] == f"2 encoder passes side by side, {figures['intra']} thread(s) each"


@pytest.mark.parametrize("mode, passes", [("ops", 2), ("models", 1)])
def test_ops_or_a_single_pass_keeps_tensorflows_defaults(mode, passes):
    figures = _run(mode, passes)
    assert (figures["intra"], figures["inter"]) == (0, 0)
    assert figures["said"] == "TensorFlow's thread defaults"
