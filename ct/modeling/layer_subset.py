"""A smaller student made of a teacher's own layers: the embeddings and a subset of its
transformer layers, copied.

Distillation works best from a student that already speaks the teacher's language: DistilBERT
(Sanh et al., 2019) initialises its student from every other layer of BERT, and a student
taken from the teacher's layers starts far above a random one of the same size. Any
BERT-family checkpoint with a TF class works (BERT, RoBERTa, XLM-R, DistilBERT, MiniLM...):
the new config has ``len(layers)`` layers, and each of its variables is copied from the
teacher's variable of the same name, with student layer ``j`` taken from teacher layer
``layers[j]``.

Example:
    >>> save_layer_subset("bundled:all-MiniLM-L6-v2", [0, 2, 4], "runs/student-init")
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from ct.errors import ConfigError, ModelLoadError
from ct.modeling.loading import load_backbone, load_tokenizer, resolve_model_dir

import transformers  # noqa: E402,I001  (after ct.modeling.loading: Keras 2 is set first)

_LAYER = re.compile(r"layer_\._(\d+)/")
# The config key that holds the number of layers, by architecture family.
_LAYER_KEYS = ("num_hidden_layers", "n_layers", "num_layers")


def _layer_key(config) -> str:
    for key in _LAYER_KEYS:
        if hasattr(config, key):
            return key
    raise ModelLoadError(f"{config.model_type}: no layer count in its config")


def _scoped_name(variable) -> str:
    """The variable's name below the model's own scope (``bert/encoder/layer_._2/...``)."""
    return variable.name.split("/", 1)[1] if "/" in variable.name else variable.name


def build_layer_subset(teacher_dir: str, layers: Sequence[int]):
    """A TF backbone holding the teacher's embeddings and ``layers`` (in that order).

    Raises:
        ConfigError: a layer index the teacher does not have, or no layers.
    """
    teacher = load_backbone(teacher_dir)
    config = teacher.config.__class__.from_dict(teacher.config.to_dict())
    key = _layer_key(config)
    depth = getattr(teacher.config, key)
    layers = [int(i) for i in layers]
    if not layers or any(not 0 <= i < depth for i in layers):
        raise ConfigError(f"align.student_layers {layers}: the model has layers 0 to "
                          f"{depth - 1}; list one or more of them")
    setattr(config, key, len(layers))
    student = transformers.TFAutoModel.from_config(config)
    student(student.dummy_inputs, training=False)
    source = {_scoped_name(v): v for v in teacher.weights}
    for variable in student.weights:
        name = _scoped_name(variable)
        match = _LAYER.search(name)
        if match:
            name = name[:match.start(1)] + str(layers[int(match.group(1))]) + \
                name[match.end(1):]
        if name not in source:
            raise ModelLoadError(f"{teacher_dir}: no teacher weight {name} for the student")
        variable.assign(source[name])
    return student


def save_layer_subset(teacher: str, layers: Sequence[int], out_dir: str | Path) -> Path:
    """Saves the student of :func:`build_layer_subset` with the teacher's tokenizer to
    ``out_dir`` (``config.json``, ``tf_model.h5``, tokenizer files)."""
    teacher_dir = str(resolve_model_dir(teacher))
    student = build_layer_subset(teacher_dir, layers)
    out_dir = Path(out_dir)
    student.save_pretrained(out_dir)
    load_tokenizer(teacher_dir).save_pretrained(out_dir)
    return out_dir
