"""The ``tune:`` section of a ``ct tune`` config: which tuner, how many trials, the objective.

A tune config is a training config (everything ``ct train`` accepts) plus a ``tune:`` section;
``ct tune`` splits the two, so every trial's training config is built exactly as ``ct train``
builds one (``--set`` overrides apply to both parts: ``--set tune.max_trials=3``)::

    steps: 2000
    tune:
      tuner: bayesian          # random | bayesian | hyperband
      max_trials: 12
      objective: stsb_dev      # the kept model's STS-B dev Spearman (maximised)
      search:
        optimizer.learning_rate: {log_uniform: [2.0e-6, 5.0e-5]}
        num_negatives: {choice: [3, 7, 15]}

Example:
    >>> train_data, tune, where = load_tune_config("configs/tune_ct.yaml", ["tune.max_trials=3"])
    >>> tune.tuner, tune.max_trials
    ('random', 3)
"""

from __future__ import annotations

import os
from typing import Any, Optional

from ct.config import config_from_dict, parse_override, read_config_data
from ct.config.tune import TuneConfig
from ct.errors import ConfigError


def load_tune_config(path: Optional[str | os.PathLike],
                     overrides: Optional[list[str]] = None) -> tuple[dict, TuneConfig, str]:
    """Reads a tune config: the training part as plain data, and the ``tune:`` section.

    Args:
        path: the YAML file (a training config with a ``tune:`` section).
        overrides: ``--set`` values for either part (``steps=30``, ``tune.max_trials=3``);
            ``tune.search.KEY=DISTRIBUTION`` replaces one search entry, ``=null`` drops it.

    Returns:
        ``(train_data, tune, where)``: the training config as data (not yet built: each trial
        sets its own values), the validated tune settings, and the file's name for messages.

    Raises:
        ConfigError: no ``tune:`` section, unknown keys, wrong types or values.
    """
    # --set tune.search.a.b=... replaces (or with null removes) the search entry "a.b"
    # as a whole, rather than nesting it as a: {b: ...}.
    prefix = "tune.search."
    searched = [item for item in overrides or [] if item.strip().startswith(prefix)]
    data, where = read_config_data(path, [o for o in overrides or [] if o not in searched])
    section: Any = data.pop("tune", None)
    if section is None:
        raise ConfigError(f"{where} has no tune: section; ct tune needs tune.search, e.g. "
                          "search: {optimizer.learning_rate: {log_uniform: [2.0e-6, 5.0e-5]}} "
                          "(see configs/tune_ct.yaml)")
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: tune must be a mapping, got {section!r}")
    section = dict(section)
    search = section.pop("search", None)
    for item in searched:
        key, _, raw = item.strip()[len(prefix):].partition("=")
        search = dict(search) if isinstance(search, dict) else {}
        value = parse_override(raw)
        if value is None:
            search.pop(key.strip(), None)
        else:
            search[key.strip()] = value
    tune = config_from_dict(TuneConfig, section, where=where, prefix="tune.")
    tune.search = search
    tune.validate(where)
    return data, tune, where
