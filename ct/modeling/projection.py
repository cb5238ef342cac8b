"""A linear projection after pooling, stored as a sentence-transformers ``Dense`` module.

The ``align`` stage can map a student's pooled output onto a teacher's (or an image encoder's)
dimension, as Multilingual-CLIP does with a linear layer on top of its text encoder. The layer
is part of the encoder: ``encode`` applies it, and it is saved in ``2_Dense/`` in
sentence-transformers' layout (``config.json`` and ``model.safetensors`` with ``linear.weight``
``[out, in]`` and ``linear.bias``), so ``SentenceTransformer(DIR)`` applies it too.

Example:
    >>> projection = build_projection(384, 512)
    >>> save_projection(projection, "runs/align/final")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np

from ct._keras import keras
from ct.errors import ModelLoadError

DENSE_FOLDER = "2_Dense"
DENSE_MODULE = {"path": DENSE_FOLDER, "type": "sentence_transformers.models.Dense"}
_IDENTITY = "torch.nn.modules.linear.Identity"


def build_projection(in_features: int, out_features: int) -> keras.layers.Dense:
    """A float32 linear layer (with bias, no activation), built for ``in_features`` inputs."""
    layer = keras.layers.Dense(out_features, name="projection", dtype="float32")
    layer.build([None, in_features])
    return layer


def save_projection(layer: keras.layers.Dense, directory: str | Path) -> dict:
    """Writes ``2_Dense/`` into ``directory``; returns its ``modules.json`` entry."""
    from safetensors.numpy import save_file

    kernel, bias = (w.numpy() for w in layer.weights)
    folder = Path(directory) / DENSE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(
        {"in_features": int(kernel.shape[0]), "out_features": int(kernel.shape[1]),
         "bias": True, "activation_function": _IDENTITY}, indent=2) + "\n")
    save_file({"linear.weight": np.ascontiguousarray(kernel.T),
               "linear.bias": np.ascontiguousarray(bias)}, str(folder / "model.safetensors"),
              metadata={"format": "pt"})
    return dict(DENSE_MODULE)


def projection_dim(directory: str | Path) -> Optional[int]:
    """The output size of the projection saved in ``directory``, or None if it has none."""
    config = Path(directory) / DENSE_FOLDER / "config.json"
    return int(json.loads(config.read_text())["out_features"]) if config.exists() else None


def load_projection(directory: str | Path) -> Optional[keras.layers.Dense]:
    """The projection saved in ``directory/2_Dense``, or None if there is none.

    Raises:
        ModelLoadError: the module is not a plain linear layer ct can apply.
    """
    folder = Path(directory) / DENSE_FOLDER
    if not (folder / "config.json").exists():
        return None
    from safetensors.numpy import load_file

    config = json.loads((folder / "config.json").read_text())
    if config.get("activation_function", _IDENTITY) != _IDENTITY:
        raise ModelLoadError(f"{folder}: only linear projections (activation Identity) are "
                             f"supported, found {config['activation_function']}")
    try:
        weights = load_file(str(folder / "model.safetensors"))
    except Exception as exc:
        raise ModelLoadError(f"cannot read {folder / 'model.safetensors'}: {exc}") from None
    layer = build_projection(config["in_features"], config["out_features"])
    bias = weights.get("linear.bias", np.zeros(config["out_features"], np.float32))
    layer.set_weights([weights["linear.weight"].T, bias])
    return layer
