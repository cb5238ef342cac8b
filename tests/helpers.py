"""Test helpers: tiny random models saved as real checkpoints, and the test data locations.

Tests read only what the repository holds: the data bundled in ``ct/resources`` and the small
fixtures in ``tests/data`` (a user's clone has nothing beside it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# RoBERTa's layout (<s>=0, <pad>=1, </s>=2, <unk>=3): TF RoBERTa hard-codes padding_idx=1 for
# its position ids, so a RoBERTa whose pad id is not 1 computes differently in TF and PyTorch.
ROBERTA_SPECIAL_TOKENS = ["[CLS]", "[PAD]", "[SEP]", "[UNK]", "[MASK]"]


TEST_DATA = REPO_ROOT / "tests" / "data"  # small fixtures (an SNLI sample)
RESOURCES = REPO_ROOT / "ct" / "resources"  # the bundled STS-B files and Wikipedia sample
STSB_DIR = RESOURCES / "stsbenchmark"
WIKI_SENTENCES = RESOURCES / "corpus" / "wiki_sentences.txt"


def build_vocab(texts, size: int = 600, specials=SPECIAL_TOKENS) -> list[str]:
    """A WordPiece vocab: special tokens, characters (plain and ##) and frequent words."""
    chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789.,;:'\"!?()-"))
    counts: dict[str, int] = {}
    for text in texts:
        for word in re.findall(r"[a-z]+", text.lower()):
            counts[word] = counts.get(word, 0) + 1
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1]) if len(w) > 1]
    vocab = list(specials) + chars + ["##" + c for c in chars]
    return vocab + words[: max(0, size - len(vocab))]


def save_tiny_model(directory: Path, architecture: str = "bert", texts=None, seed: int = 0,
                    hidden_size: int = 32):
    """Saves a tiny randomly initialised TF model + BERT WordPiece tokenizer to ``directory``.

    Args:
        architecture: ``"bert"``, ``"roberta"`` or ``"distilbert"``.
        texts: sentences to build the vocabulary from.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import ct._keras  # noqa: F401
    import transformers

    transformers.logging.set_verbosity_error()
    import tf_keras

    tf_keras.utils.set_random_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    specials = ROBERTA_SPECIAL_TOKENS if architecture == "roberta" else SPECIAL_TOKENS
    vocab = build_vocab(texts or ["a tiny test sentence"], specials=specials)
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(directory / "vocab.txt"),
                                               do_lower_case=True)
    common = dict(vocab_size=len(vocab), max_position_embeddings=128)
    if architecture == "bert":
        config = transformers.BertConfig(hidden_size=hidden_size, num_hidden_layers=2,
                                         num_attention_heads=2, intermediate_size=64, **common)
    elif architecture == "roberta":
        config = transformers.RobertaConfig(hidden_size=32, num_hidden_layers=2,
                                            num_attention_heads=2, intermediate_size=64,
                                            pad_token_id=1, bos_token_id=0, eos_token_id=2,
                                            **{**common, "max_position_embeddings": 130})
    elif architecture == "distilbert":
        config = transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                                               pad_token_id=0, **common)
    else:
        raise ValueError(architecture)
    model = transformers.TFAutoModel.from_config(config)
    model(model.dummy_inputs)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def wiki_sentences(limit: int = 400) -> list[str]:
    """The first ``limit`` non-empty sentences of the bundled Wikipedia sample."""
    lines = WIKI_SENTENCES.read_text().splitlines()
    return [line.strip() for line in lines if line.strip()][:limit]


def logged_losses(run_dir: Path) -> list[float]:
    """The ``loss`` of every training line of a run's ``metrics.jsonl``."""
    import json

    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [record["loss"] for record in records if "loss" in record]


def torch_python() -> Path:
    """The PyTorch environment's interpreter (``make torch-venv``), or ``$CT_TORCH_PYTHON``.

    The interoperability tests need it: missing, they fail (``make test`` builds it).
    """
    path = Path(os.environ.get("CT_TORCH_PYTHON", REPO_ROOT / ".venv-torch" / "bin" / "python"))
    if not path.exists():
        raise FileNotFoundError(f"PyTorch environment not found at {path}: run `make torch-venv` "
                                "(or set CT_TORCH_PYTHON)")
    return path


def run_in_torch_env(*args: str) -> str:
    """Runs ``bench/pytorch_interop.py ARGS`` in the PyTorch environment; returns stdout."""
    import subprocess

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    env.pop("TF_USE_LEGACY_KERAS", None)
    result = subprocess.run([str(torch_python()), str(REPO_ROOT / "bench" / "pytorch_interop.py"),
                             *args], capture_output=True, text=True, env=env, timeout=600)
    if result.returncode:
        raise AssertionError(f"PyTorch side failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout
