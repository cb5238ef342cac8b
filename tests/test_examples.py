"""The examples run as documented (on a tiny model, so quickly)."""

import os
import subprocess
import sys

from helpers import REPO_ROOT


def test_example_training_on_a_users_corpus(tmp_path, tiny_bert_dir, corpus_file):
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "ExampleTraining.py"), str(corpus_file),
         "--model", str(tiny_bert_dir), "--steps", "2", "--output", str(tmp_path / "run")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        # TensorFlow's log level as a user who never set it has it: quieting is ct's job here
        env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert result.returncode == 0, result.stderr
    assert "STS-B dev after:" in result.stdout and "cosine similarities" in result.stdout
    # logging is set up as the CLI does it: ct's lines are ct's, TensorFlow's INFO is quiet
    assert "[ct] corpus:" in result.stderr
    for tensorflow_info in ("oneDNN custom operations", "cpu_feature_guard", "cuda drivers"):
        assert tensorflow_info not in result.stderr
    assert (tmp_path / "run" / "final" / "tf_model.h5").exists()


def test_example_batch_inference_on_a_local_model(tmp_path, tiny_bert_dir):
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "ExampleBatchInference.py"),
         str(tiny_bert_dir)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "embeddings: (4, 32)" in result.stdout


def test_example_align_student(tmp_path, tiny_bert_dir, corpus_file, small_sts_file):
    """A random student (MiniLM's tokenizer, 1 layer x 64) aligned to a tiny teacher."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "ExampleAlignStudent.py"),
         "--out", str(tmp_path / "student"), "--run", str(tmp_path / "run"), "--layers", "1",
         "--hidden", "64", "--set", f"align.teacher={tiny_bert_dir}",
         "--set", f"align.train={corpus_file}", "--set", f"sts_dev={small_sts_file}",
         "--set", "align.epochs=1"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "random student:" in result.stdout and "STS-B dev: student before" in result.stdout
    assert (tmp_path / "run" / "final" / "2_Dense" / "config.json").exists()  # 64 -> 32
