"""Loading Hugging Face checkpoints into TensorFlow, with no PyTorch needed.

A checkpoint directory may hold TF weights (``tf_model.h5``) or only PyTorch-layout
``model.safetensors`` (one file or shards with an index). The latter is read with
``safetensors.numpy`` and mapped onto the TF variables by transformers' own name converter,
which is what ``from_pretrained(..., from_pt=True)`` does, minus the torch import.

Example:
    >>> backbone = load_backbone("bundled:all-MiniLM-L6-v2")
    >>> tokenizer = load_tokenizer("bundled:all-MiniLM-L6-v2")
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from ct._keras import keras, tf  # noqa: F401  (sets the Keras environment first)
from ct.errors import ModelLoadError
from ct.modeling.projection import projection_dim
from ct.resources import resolve_path

logger = logging.getLogger(__name__)

TF_WEIGHTS = "tf_model.h5"
SAFETENSORS_WEIGHTS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
# A hub id is "name" or "namespace/name"; anything else can only be a local path.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
_HUB_PATTERNS = ["*.json", "*.txt", "*.model", TF_WEIGHTS, "*.safetensors", "merges.txt"]


def _quiet_transformers():
    import transformers

    transformers.logging.set_verbosity_error()
    return transformers


def resolve_model_dir(name_or_path: str) -> Path:
    """Returns a local directory for a model path, ``bundled:`` name or hub name.

    Hub names are fetched (or read from the local cache) with ``huggingface_hub``; with no
    network and no cache this fails with a clear message.

    Raises:
        ModelLoadError: the path does not exist and the name cannot be fetched.
    """
    resolved = resolve_path(name_or_path)
    path = Path(resolved).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ModelLoadError(f"model path {name_or_path} is a file; give the checkpoint directory")
    if not _HUB_ID.fullmatch(resolved):
        raise ModelLoadError(f"model directory not found: {name_or_path}")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(resolved, allow_patterns=_HUB_PATTERNS))
    except Exception as exc:  # network, auth or unknown-repo errors all end here
        raise ModelLoadError(
            f"model {name_or_path!r} is not a local directory and could not be fetched from the "
            f"hub ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None


def load_backbone(name_or_path: str):
    """Loads a ``TFAutoModel`` backbone from a checkpoint directory or hub name.

    Args:
        name_or_path: directory with ``config.json`` plus ``tf_model.h5`` or
            ``model.safetensors``; a hub name; or ``bundled:all-MiniLM-L6-v2``.

    Returns:
        A built transformers TF model (a tf-keras model) with the checkpoint's weights.

    Raises:
        ModelLoadError: no config, no usable weights, or an architecture without a TF class.
    """
    transformers = _quiet_transformers()
    model_dir = resolve_model_dir(name_or_path)
    if not (model_dir / "config.json").exists():
        raise ModelLoadError(f"{model_dir} has no config.json: not a Hugging Face checkpoint")
    try:
        config = transformers.AutoConfig.from_pretrained(model_dir)
    except Exception as exc:
        raise ModelLoadError(f"cannot read {model_dir / 'config.json'}: {exc}") from None
    if (model_dir / TF_WEIGHTS).exists():
        try:
            # use_safetensors=False: read tf_model.h5 even when PyTorch-layout
            # model.safetensors sits beside it (an export), whose conversion needs torch.
            return transformers.TFAutoModel.from_pretrained(model_dir, config=config,
                                                            use_safetensors=False)
        except Exception as exc:
            raise ModelLoadError(f"cannot load {model_dir / TF_WEIGHTS}: {exc}") from None
    state_dict = _read_safetensors(model_dir)
    if state_dict is None:
        found = ", ".join(sorted(p.name for p in model_dir.iterdir())) or "nothing"
        raise ModelLoadError(
            f"{model_dir} has neither {TF_WEIGHTS} nor {SAFETENSORS_WEIGHTS} (found: {found}); "
            "PyTorch .bin checkpoints need torch to convert")
    return backbone_from_state_dict(config, state_dict, source=str(model_dir))


def backbone_from_config(config, source: str = "config"):
    """A built (variables created, randomly initialised) TF backbone of ``config``."""
    transformers = _quiet_transformers()
    try:
        model = transformers.TFAutoModel.from_config(config)
    except ValueError as exc:
        raise ModelLoadError(f"{source}: architecture {config.model_type!r} has no TensorFlow "
                             f"model in transformers ({exc})") from None
    model(model.dummy_inputs, training=False)  # create the variables
    return model


def backbone_from_state_dict(config, state_dict: dict, source: str = "state dict"):
    """Builds a TF backbone from ``config`` and fills it from a PyTorch-layout NumPy state dict."""
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model

    model = backbone_from_config(config, source)
    _, info = load_pytorch_state_dict_in_tf2_model(
        model, state_dict, allow_missing_keys=True, output_loading_info=True)
    missing = [k for k in info["missing_keys"] if "pooler" not in k]
    if missing:
        raise ModelLoadError(f"{source}: {len(missing)} weights missing from the safetensors "
                             f"checkpoint, e.g. {missing[:3]}")
    if info["missing_keys"]:
        logger.info("%s: no pooler weights (unused by sentence pooling)", source)
    return model


def _read_safetensors(model_dir: Path) -> dict | None:
    from safetensors.numpy import load_file

    single = model_dir / SAFETENSORS_WEIGHTS
    index = model_dir / SAFETENSORS_INDEX
    try:
        if single.exists():
            return load_file(str(single))
        if index.exists():
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            state: dict = {}
            for shard in shards:
                state.update(load_file(str(model_dir / shard)))
            return state
    except Exception as exc:
        raise ModelLoadError(f"cannot read safetensors weights in {model_dir}: {exc}") from None
    return None


def load_tokenizer(name_or_path: str):
    """Loads the tokenizer that lives beside a checkpoint, set to pad on the right.

    ct pads every batch on the right (:func:`ct.data.tokenization.tokenize_batch`); the
    tokenizer is set to do the same so that a model ct saves pads alike in ``transformers``
    and ``sentence-transformers`` and gives ct's vectors there too.

    Raises:
        ModelLoadError: the directory holds no tokenizer files.
    """
    transformers = _quiet_transformers()
    model_dir = resolve_model_dir(name_or_path)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    except Exception as exc:
        raise ModelLoadError(f"no usable tokenizer in {model_dir} ({type(exc).__name__}: "
                             f"{' '.join(str(exc).split())[:200]})") from None
    tokenizer.padding_side = "right"
    return tokenizer


def embedding_dim_of(name_or_path: str, missing_ok: bool = False) -> int:
    """The size of the vectors a checkpoint's encoder gives, read from its files (its
    projection's output if it has one, else the backbone's hidden size); no weights load.

    Args:
        missing_ok: return 0 for a local folder that does not exist yet (a later pipeline
            stage's start model) instead of raising.

    Raises:
        ModelLoadError: the checkpoint cannot be found or has no readable config.json.
    """
    if missing_ok and not Path(resolve_path(name_or_path)).expanduser().exists() \
            and not _HUB_ID.fullmatch(name_or_path):
        return 0
    model_dir = resolve_model_dir(name_or_path)
    projected = projection_dim(model_dir)
    if projected:
        return projected
    config_file = model_dir / "config.json"
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{model_dir} has no readable config.json ({exc}): not a Hugging "
                             "Face checkpoint") from None
    for key in ("hidden_size", "dim", "d_model"):
        if key in config:
            return int(config[key])
    raise ModelLoadError(f"{config_file} names no hidden size (hidden_size, dim or d_model)")


def layer_count_of(name_or_path: str, missing_ok: bool = False) -> int:
    """The number of transformer layers a checkpoint's ``config.json`` declares (0 for a
    local folder that does not exist yet, with ``missing_ok``)."""
    if missing_ok and not Path(resolve_path(name_or_path)).expanduser().exists() \
            and not _HUB_ID.fullmatch(name_or_path):
        return 0
    config = json.loads((resolve_model_dir(name_or_path) / "config.json").read_text())
    for key in ("num_hidden_layers", "n_layers", "num_layers"):
        if key in config:
            return int(config[key])
    return 0


def save_random_checkpoint(base: str, out_dir: str | Path, seed: int = 0,
                           **config_overrides) -> Path:
    """Saves a randomly initialised model with ``base``'s architecture family and tokenizer.

    For students trained from scratch by the ``align`` stage (e.g. a 4-layer, 256-wide BERT
    that learns a larger teacher's space).

    Args:
        base: a checkpoint whose config and tokenizer are reused.
        out_dir: where the new checkpoint goes (``tf_model.h5``, config, tokenizer).
        seed: the initialisation's seed.
        **config_overrides: config values to change, e.g. ``num_hidden_layers=4,
            hidden_size=256, num_attention_heads=4, intermediate_size=1024``.

    Example:
        >>> save_random_checkpoint("bundled:all-MiniLM-L6-v2", "runs/student",
        ...                        num_hidden_layers=4, hidden_size=256,
        ...                        num_attention_heads=4, intermediate_size=1024)
    """
    transformers = _quiet_transformers()
    model_dir = resolve_model_dir(base)
    config = transformers.AutoConfig.from_pretrained(model_dir)
    for key, value in config_overrides.items():
        if not hasattr(config, key):
            raise ModelLoadError(f"{base}: its {config.model_type} config has no {key!r}")
        setattr(config, key, value)
    keras.utils.set_random_seed(seed)
    model = transformers.TFAutoModel.from_config(config)
    model(model.dummy_inputs, training=False)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    load_tokenizer(str(model_dir)).save_pretrained(out_dir)
    return out_dir
