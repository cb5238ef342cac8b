"""TF backbone variables -> PyTorch-layout state dict, with NumPy only (no torch).

Names are mapped by transformers' own converter (the inverse of what loading from PyTorch
does); dense kernels are transposed to PyTorch's ``[out, in]`` layout. The result is what a
PyTorch ``AutoModel`` of the same architecture holds, so it can be written as
``model.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def pytorch_state_dict(backbone) -> dict[str, np.ndarray]:
    """Returns ``{pytorch_name: array}`` for a transformers TF base model.

    Example:
        >>> from safetensors.numpy import save_file
        >>> save_file(pytorch_state_dict(encoder.backbone), "model.safetensors")
    """
    from transformers.modeling_tf_pytorch_utils import (
        TransposeType, convert_tf_weight_name_to_pt_weight_name)

    prefix = backbone.base_model_prefix + "."
    state = {}
    for variable in backbone.weights:
        name, transpose = convert_tf_weight_name_to_pt_weight_name(
            variable.name, start_prefix_to_remove=prefix, tf_weight_shape=variable.shape)
        value = variable.numpy()
        if transpose is TransposeType.SIMPLE:
            value = value.T
        elif transpose is not TransposeType.NO:
            raise NotImplementedError(f"{variable.name}: {transpose} weights are not supported")
        state[name] = np.ascontiguousarray(value)
    return state


def save_safetensors(backbone, directory: str | Path, write_config: bool = True) -> Path:
    """Writes ``model.safetensors`` (PyTorch layout) and, unless ``write_config`` is False,
    ``config.json`` into ``directory``: what PyTorch ``AutoModel.from_pretrained`` loads."""
    from safetensors.numpy import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if write_config:
        backbone.config.save_pretrained(directory)
    path = directory / "model.safetensors"
    save_file(pytorch_state_dict(backbone), str(path), metadata={"format": "pt"})
    return path
