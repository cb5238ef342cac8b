"""Fixtures shared by the tests: tiny checkpoints (no network), toy corpora and STS files."""

from __future__ import annotations

import os
import tempfile

# The tests do not depend on the caller's environment: what changes what ct or TensorFlow
# prints or does is set here, not inherited, and the `ct` subprocesses the tests start inherit
# it. (With TF_CPP_MIN_LOG_LEVEL=2 exported, TensorFlow's CUDA probe prints an error line of
# its own before ct's one `ct: error:` line.)
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.pop("TF_CONFIG", None)  # a cluster spec would turn runs into multi-worker ones
# Corpus indexes of the tests go to a folder of their own (subprocesses inherit it), never to
# the caller's cache.
os.environ["CT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ct-test-cache-")

import pytest  # noqa: E402

from helpers import STSB_DIR, save_tiny_model, wiki_sentences  # noqa: E402


@pytest.fixture(scope="session")
def corpus_sentences():
    return wiki_sentences(400)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory, corpus_sentences):
    return save_tiny_model(tmp_path_factory.mktemp("tiny_bert"), "bert", corpus_sentences)


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory, corpus_sentences):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(corpus_sentences) + "\n")
    return path


@pytest.fixture(scope="session")
def small_sts_file(tmp_path_factory):
    """The first 60 pairs of the bundled STS-B dev set: fast evaluation for tiny models."""
    lines = (STSB_DIR / "sts-dev.csv").read_text().splitlines()
    path = tmp_path_factory.mktemp("sts") / "sts-dev-small.csv"
    path.write_text("\n".join(lines[:60]) + "\n")
    return path


@pytest.fixture(scope="session")
def small_stsb_train(tmp_path_factory):
    """64 pairs of the bundled STS-B train set: 4 batches of 16 for the STS-B stage."""
    lines = (STSB_DIR / "sts-train.csv").read_text().splitlines()
    path = tmp_path_factory.mktemp("stsb") / "sts-train-small.csv"
    path.write_text("\n".join(lines[:64]) + "\n")
    return path


@pytest.fixture
def train_overrides(tiny_bert_dir, corpus_file, small_sts_file):
    """``--set`` values for a fast CT run on the tiny model."""
    return [f"model={tiny_bert_dir}", f"corpus={corpus_file}", f"sts_dev={small_sts_file}",
            "steps=4", "eval_every=2", "log_every=1", "length_buckets=1",
            "optimizer.learning_rate=1e-3", "optimizer.lr_boundaries=[]",
            "optimizer.lr_values=[]"]
