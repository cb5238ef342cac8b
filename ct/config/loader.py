"""Loading configs in layers: dataclass defaults, then a YAML file, then ``--set key=value``.

Values are checked against the schema's type hints as they are read: unknown keys (with a
"did you mean"), wrong types and removed options fail before anything heavy starts; only
lossless conversions are made (``1.0`` for an int, ``"1e-5"`` for a float). Ranges and
cross-field rules are the schema's ``validate()``.

Why a small loader of our own rather than a typed-loading library (dacite, OmegaConf,
pydantic): the messages ct promises (the file, the dotted key, the closest known key, the
removed option and its replacement, one line) would need the same amount of code around any of
them, and each would be one more pinned dependency for ~150 lines.

Example:
    >>> config = load_config("configs/ct_paper.yaml", overrides=["steps=100"])
    >>> config.steps
    100
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from pathlib import Path
from typing import Any, Literal, Optional

import yaml

from ct.config.schema import REMOVED_OPTIONS, TrainConfig
from ct.errors import ConfigError


def config_to_dict(config: Any) -> dict:
    """Returns the config as plain YAML/JSON-serialisable data."""
    return dataclasses.asdict(config)


def with_defaults(data: dict, cls: type = TrainConfig) -> dict:
    """``data`` (a saved config) with every option it lacks set to its default, and options
    that no longer exist dropped.

    A run or search saved by an older ct has no entry for options added since; their defaults
    keep the old behaviour, so comparing a saved config with today's goes through this.
    """
    defaults = config_to_dict(cls())
    data = {key: value for key, value in data.items() if key not in REMOVED_OPTIONS}
    return _merge_missing(data, defaults)


def _merge_missing(data: dict, defaults: dict) -> dict:
    merged = dict(data)
    for key, default in defaults.items():
        if key not in merged:
            merged[key] = default
        elif isinstance(merged[key], dict) and isinstance(default, dict):
            merged[key] = _merge_missing(merged[key], default)
    return merged


def config_from_dict(cls: type, data: dict, *, where: str = "config", prefix: str = "") -> Any:
    """Builds dataclass ``cls`` from ``data``, checking keys and types recursively (ranges and
    cross-field rules are ``validate()``'s job). ``prefix`` names the section in messages."""
    return _build(cls, data, prefix=prefix, where=where)


def read_config_data(path: Optional[str | os.PathLike] = None,
                     overrides: Optional[list[str]] = None) -> tuple[dict, str]:
    """The YAML file's mapping with ``key=value`` overrides applied, not yet checked.

    Args:
        path: YAML file, or None for an empty mapping (the defaults).
        overrides: ``["steps=100", "optimizer.learning_rate=2e-5"]``; values are parsed as YAML.

    Returns:
        ``(data, where)``: the plain data and the name to use in messages (the file).

    Raises:
        ConfigError: a missing or unreadable file, invalid YAML, a malformed override.
    """
    data: dict = {}
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {_one_line(exc)}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path} must hold a mapping of option: value at the top level")
        data = loaded
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        set_dotted(data, key.strip(), parse_override(raw))
    return data, where


def build_config(data: dict, cls: type = TrainConfig, where: str = "config") -> Any:
    """Builds and validates ``cls`` from plain data (e.g. from :func:`read_config_data`).

    Raises:
        ConfigError: unknown keys, wrong types or invalid values.
    """
    config = _build(cls, data, prefix="", where=where)
    if hasattr(config, "validate"):
        config.validate()
    return config


def load_config(path: Optional[str | os.PathLike] = None, overrides: Optional[list[str]] = None,
                cls: type = TrainConfig) -> Any:
    """Loads a config: dataclass defaults, then the YAML file, then ``key=value`` overrides.

    Args:
        path: YAML file, or None for the defaults alone.
        overrides: ``["steps=100", "optimizer.learning_rate=2e-5"]``; values are parsed as YAML.
        cls: the dataclass to build.

    Returns:
        A validated config instance.

    Raises:
        ConfigError: unreadable YAML, unknown keys, wrong types or invalid values.

    Example:
        >>> load_config("configs/ct_paper.yaml", ["steps=100"]).steps
        100
    """
    data, where = read_config_data(path, overrides)
    return build_config(data, cls, where)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def parse_override(raw: str) -> Any:
    """The value of a ``--set key=value``: YAML, or the text itself if it is not YAML."""
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        return raw


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Sets ``data["a"]["b"] = value`` for ``"a.b"``, creating sections as needed."""
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _build(cls: type, data: Any, prefix: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {prefix.rstrip('.') or 'config'} must be a mapping, "
                          f"got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(_unknown_key_message(str(key), list(fields), prefix, where))
        kwargs[key] = _coerce(hints[key], value, prefix + key, where)
    return cls(**kwargs)


def _unknown_key_message(key: str, known: list[str], prefix: str, where: str) -> str:
    message = f"{where}: unknown config key '{prefix}{key}'"
    if prefix + key == "tune":
        return message + ("; the tune: section is read by `ct tune` (train its result, "
                          "OUTPUT_DIR/best_config.yaml, with ct train)")
    if not prefix and key in REMOVED_OPTIONS:
        return f"{where}: {REMOVED_OPTIONS[key]}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{prefix}{close[0]}'?"
    else:
        message += f"; known keys: {', '.join(prefix + k for k in known)}"
    return message


def type_name(tp: Any) -> str:
    """How a type reads in messages and in the options reference."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {type_name(typing.get_args(tp)[0])}"
    if origin is typing.Union:
        return " or ".join(type_name(a) for a in typing.get_args(tp) if a is not type(None))
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, key: str, where: str) -> Any:
    """Checks ``value`` against type ``tp``; allows only lossless conversions."""
    origin = typing.get_origin(tp)
    bad = ConfigError(f"{where}: '{key}' must be {type_name(tp)}, got {value!r}")
    if origin is typing.Union:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, key, where)
            except ConfigError:
                continue
        raise bad
    if origin is Literal:
        if value in typing.get_args(tp):
            return value
        raise bad
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if isinstance(value, (str, int, float, dict)) and not isinstance(value, bool):
            value = [value]  # a single path, number or mapping where a list is expected
        if not isinstance(value, list):
            raise bad
        return [_coerce(item_type, v, f"{key}[{i}]", where) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, prefix=key + ".", where=where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise bad
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise bad
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-5" as a string
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if tp is str:
        if isinstance(value, str):
            return value
        raise bad
    if tp is dict:
        if isinstance(value, dict):
            return value
        raise bad
    raise bad
