"""The examples run as documented (on a tiny model, so quickly)."""

import subprocess
import sys

from helpers import REPO_ROOT


def test_example_training_on_a_users_corpus(tmp_path, tiny_bert_dir, corpus_file):
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "ExampleTraining.py"), str(corpus_file),
         "--model", str(tiny_bert_dir), "--steps", "2", "--output", str(tmp_path / "run")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "STS-B dev after:" in result.stdout and "cosine similarities" in result.stdout
    assert (tmp_path / "run" / "final" / "tf_model.h5").exists()


def test_example_batch_inference_on_a_local_model(tmp_path, tiny_bert_dir):
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "ExampleBatchInference.py"),
         str(tiny_bert_dir)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "embeddings: (4, 32)" in result.stdout
