"""The search space of ``ct tune``: training options and the distributions they are drawn from.

Keys are training options in dotted form (``optimizer.learning_rate``, ``num_negatives``,
``batch_size``, ``max_length``, ``steps``, ``stsb.epochs``, ...), nested mappings work too
(``optimizer: {learning_rate: ...}``). Each maps to one distribution:

=========================  ==========================================  =======================
distribution               keras-tuner                                  values
=========================  ==========================================  =======================
``{choice: [a, b, ...]}``  ``hp.Choice``                                any YAML values
``{uniform: [lo, hi]}``    ``hp.Float`` (optional ``step``)             float options
``{log_uniform: [lo, hi]}`` ``hp.Float(sampling="log")``, ``lo > 0``     float options
``{int: [lo, hi]}``        ``hp.Int`` (optional ``step``, default 1)    int or float options
=========================  ==========================================  =======================

Choices that are not all numbers, all strings or all booleans (lists, ``null``, mixed types)
reach keras-tuner as JSON strings and are decoded for the trial.

Every trial's config is built and validated like ``ct train``'s. Cross-field rules (e.g.
``batch_size`` a multiple of ``num_negatives + 1``) are checked up front on every combination
of the candidate values (all choices, all values of small ``int`` ranges, the ends of other
ranges; up to 10,000 combinations): one invalid combination refuses the space. A value drawn
inside a range that still breaks a rule makes that trial fail with the reason; the search
goes on.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import itertools
import json
import typing
from typing import Any, Optional

from ct.config import TrainConfig, build_config, config_from_dict, set_dotted
from ct.errors import ConfigError

DISTRIBUTIONS = ("choice", "uniform", "log_uniform", "int")
EXAMPLE = ("{choice: [3, 7, 15]}, {uniform: [lo, hi]}, {log_uniform: [lo, hi]} or "
           "{int: [lo, hi]}")
MAX_COMBINATIONS = 10_000
_SMALL_INT_RANGE = 16  # int ranges with at most this many values are checked value by value
_NOT_SEARCHABLE = {"output_dir": "each trial writes to its own folder"}


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One searched training option.

    Args:
        key: the dotted training option, e.g. ``optimizer.learning_rate``.
        kind: ``choice``, ``uniform``, ``log_uniform`` or ``int``.
        values: the choices (decoded values).
        low, high, step: the range of the other kinds.
        encoded: choices passed to keras-tuner as JSON strings.
    """

    key: str
    kind: str
    values: tuple = ()
    low: Optional[float] = None
    high: Optional[float] = None
    step: Optional[float] = None
    encoded: bool = False

    def declare(self, hp) -> None:
        """Declares this parameter on a ``keras_tuner.HyperParameters``."""
        if self.kind == "choice":
            hp.Choice(self.key, [json.dumps(v) if self.encoded else v for v in self.values])
        elif self.kind == "int":
            hp.Int(self.key, int(self.low), int(self.high), step=int(self.step or 1))
        else:
            hp.Float(self.key, self.low, self.high, step=self.step,
                     sampling="log" if self.kind == "log_uniform" else "linear")

    def decode(self, raw: Any) -> Any:
        """The training value of a value keras-tuner drew (NumPy scalars made Python ones)."""
        if hasattr(raw, "item"):
            raw = raw.item()
        return json.loads(raw) if self.encoded else raw

    def candidates(self) -> list:
        """Values checked up front: every choice, every value of a small int range, else the
        ends of the range."""
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int":
            values = list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
            return values if len(values) <= _SMALL_INT_RANGE else [values[0], values[-1]]
        return [self.low, self.high]

    def to_dict(self) -> dict:
        """The distribution as written in a config (``{"int": [1, 9], "step": 2}``)."""
        spec: dict = {self.kind: list(self.values) if self.kind == "choice"
                      else [self.low, self.high]}
        if self.step is not None:
            spec["step"] = self.step
        return spec


class SearchSpace:
    """The parameters of a search, in declaration order.

    Example:
        >>> space = SearchSpace.parse({"num_negatives": {"choice": [3, 7]}})
        >>> space.keys
        ['num_negatives']
    """

    def __init__(self, parameters: list[Parameter]):
        self.parameters = parameters
        self.by_key = {p.key: p for p in parameters}

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    @classmethod
    def parse(cls, search: Any) -> "SearchSpace":
        """Parses ``tune.search``, checking each key against :class:`ct.config.TrainConfig`.

        Raises:
            ConfigError: an empty or malformed space, a key no training option has (with a
                suggestion), a distribution that does not fit the option's type.
        """
        if search is None or search == {}:
            raise ConfigError("tune.search is empty: declare at least one training option, "
                              "e.g. optimizer.learning_rate: {log_uniform: [2.0e-6, 5.0e-5]}")
        if not isinstance(search, dict):
            raise ConfigError(f"tune.search must map training options to distributions, "
                              f"got {search!r}")
        options, sections = option_types(TrainConfig)
        parameters = []
        for key, spec in _flatten(search, "", sections):
            if key in {p.key for p in parameters}:
                raise ConfigError(f"tune.search names {key} twice")
            parameters.append(_parse_parameter(key, spec, options, sections))
        return cls(parameters)

    def values_of(self, drawn: dict) -> dict:
        """``{key: training value}`` of a trial's keras-tuner values (``tuner/*`` left out)."""
        return {p.key: p.decode(drawn[p.key]) for p in self.parameters}

    def to_dict(self) -> dict:
        return {p.key: p.to_dict() for p in self.parameters}

    def check(self, train_data: dict, where: str,
              fixed: Optional[dict[str, list]] = None) -> TrainConfig:
        """Checks every value's type, then every combination of the candidate values.

        Args:
            train_data: the training config as plain data.
            where: the config file, for messages.
            fixed: values the tuner itself sets (Hyperband's ``steps``), with candidates.

        Returns:
            The training config of the first combination (for the checks before the search).

        Raises:
            ConfigError: a value of the wrong type, or a combination that gives an invalid
                training config (naming the combination and the rule).
        """
        config_from_dict(TrainConfig, train_data, where=where)  # the file's own types first
        for parameter in self.parameters:
            for value in parameter.candidates():
                data = copy.deepcopy(train_data)
                set_dotted(data, parameter.key, value)
                config_from_dict(TrainConfig, data, where="tune.search")
        base_error = _validation_error(train_data, where)
        grid = {p.key: p.candidates() for p in self.parameters}
        grid.update(fixed or {})
        first = None
        for combination in itertools.islice(itertools.product(*grid.values()),
                                            MAX_COMBINATIONS):
            values = dict(zip(grid, combination))
            try:
                config = build_config(trial_data(train_data, values), where=where)
            except ConfigError as exc:
                if base_error and str(exc) == base_error:
                    raise  # the searched values have nothing to do with it
                shown = ", ".join(f"{k}={v!r}" for k, v in values.items() if k in self.by_key)
                raise ConfigError(f"tune.search: {shown} gives an invalid training config: "
                                  f"{exc}; narrow the search space so that every combination "
                                  "is valid") from None
            first = first or config
        return first


def trial_data(train_data: dict, values: dict) -> dict:
    """A copy of the training data with ``values`` (dotted keys) set."""
    data = copy.deepcopy(train_data)
    for key, value in values.items():
        set_dotted(data, key, value)
    return data


def option_types(cls: type, prefix: str = "") -> tuple[dict[str, Any], set[str]]:
    """``({"optimizer.learning_rate": float, ...}, {"optimizer", ...})``: every option of a
    config dataclass in dotted form with its type, and the sections."""
    options: dict[str, Any] = {}
    sections: set[str] = set()
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        key, tp = prefix + field.name, hints[field.name]
        if dataclasses.is_dataclass(tp):
            sections.add(key)
            inner, inner_sections = option_types(tp, key + ".")
            options.update(inner)
            sections |= inner_sections
        else:
            options[key] = tp
    return options, sections


def _validation_error(train_data: dict, where: str) -> Optional[str]:
    try:
        build_config(copy.deepcopy(train_data), where=where)
    except ConfigError as exc:
        return str(exc)
    return None


def _flatten(search: dict, prefix: str, sections: set[str]):
    """Yields ``(dotted key, distribution)``; nested mappings under a section are walked."""
    for name, spec in search.items():
        key = prefix + str(name)
        if key in sections and isinstance(spec, dict) and not set(spec) & set(DISTRIBUTIONS):
            yield from _flatten(spec, key + ".", sections)
        else:
            yield key, spec


def _unknown_option(key: str, options: list[str]) -> str:
    message = f"tune.search: '{key}' is not a training option"
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
    if not close:  # e.g. learning_rate -> optimizer.learning_rate
        leaves = {}
        for option in sorted(options, key=lambda o: o.count(".")):
            leaves.setdefault(option.rsplit(".", 1)[-1], option)
        match = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(leaves), n=1,
                                          cutoff=0.6)
        close = [leaves[match[0]]] if match else []
    if close:
        return message + f"; did you mean '{close[0]}'?"
    return message + "; see ct train --help and configs/ct_paper.yaml for the options"


def _number(value: Any) -> Optional[float]:
    """A YAML number (YAML 1.1 reads ``2e-6`` as a string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _base_type(tp: Any) -> Any:
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _parse_parameter(key: str, spec: Any, options: dict[str, Any],
                     sections: set[str]) -> Parameter:
    name = f"tune.search.{key}"
    if key in sections:
        inside = sorted(o for o in options if o.startswith(key + "."))[:3]
        raise ConfigError(f"tune.search: '{key}' is a section; search its options, e.g. "
                          + ", ".join(inside))
    if key not in options:
        raise ConfigError(_unknown_option(key, list(options)))
    if key in _NOT_SEARCHABLE:
        raise ConfigError(f"tune.search: '{key}' cannot be searched: {_NOT_SEARCHABLE[key]}")
    if not isinstance(spec, dict):
        raise ConfigError(f"{name} must be a distribution, one of {EXAMPLE}; got {spec!r}")
    unknown = [str(k) for k in spec if k not in DISTRIBUTIONS and k != "step"]
    if unknown:
        close = difflib.get_close_matches(unknown[0], DISTRIBUTIONS, n=1, cutoff=0.5)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"{name}: unknown distribution '{unknown[0]}'{hint}; use one of "
                          + ", ".join(DISTRIBUTIONS))
    kinds = [k for k in spec if k in DISTRIBUTIONS]
    if len(kinds) != 1:
        raise ConfigError(f"{name} needs exactly one of {', '.join(DISTRIBUTIONS)}; got "
                          f"{spec!r}")
    kind, argument, step = kinds[0], spec[kinds[0]], spec.get("step")
    option_type = _base_type(options[key])
    if kind == "choice":
        return _parse_choice(name, key, argument, step, option_type)
    return _parse_range(name, key, kind, argument, step, option_type)


def _parse_choice(name: str, key: str, values: Any, step: Any, option_type: Any) -> Parameter:
    if step is not None:
        raise ConfigError(f"{name}: step applies to int and uniform, not choice")
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{name}: choice needs a non-empty list of values, got {values!r}")
    if option_type is float:  # 1e-5 (a string to YAML 1.1) or 3 for a float option
        values = [float(_number(v)) if _number(v) is not None else v for v in values]
    elif option_type is int:
        values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    encoded_values = [json.dumps(v, sort_keys=True) for v in values]
    if len(set(encoded_values)) != len(values):
        raise ConfigError(f"{name}: choice lists a value twice: {values!r}")
    types = {type(v) for v in values}
    plain = len(types) == 1 and types <= {int, float, str, bool}
    return Parameter(key, "choice", values=tuple(values), encoded=not plain)


def _parse_range(name: str, key: str, kind: str, bounds: Any, step: Any,
                 option_type: Any) -> Parameter:
    numbers = [_number(b) for b in bounds] if isinstance(bounds, list) else []
    if len(numbers) != 2 or None in numbers:
        raise ConfigError(f"{name}: {kind} needs [low, high] (two numbers), got {bounds!r}")
    low, high = numbers
    if not low < high:
        raise ConfigError(f"{name}: {kind} needs low < high, got [{low}, {high}]")
    if option_type not in (int, float):
        raise ConfigError(f"{name}: '{key}' is not a number; use choice: [...]")
    if kind == "int":
        if not all(float(b).is_integer() for b in numbers):
            raise ConfigError(f"{name}: int needs whole numbers, got {bounds!r}")
        low, high = int(low), int(high)
    elif option_type is int:
        raise ConfigError(f"{name}: '{key}' takes whole numbers; use int: [{low}, {high}]")
    else:
        low, high = float(low), float(high)
    if kind == "log_uniform" and low <= 0:
        raise ConfigError(f"{name}: log_uniform needs low > 0, got {low}")
    if step is not None:
        number = _number(step)
        if kind == "log_uniform" or number is None or number <= 0 or (
                kind == "int" and not float(number).is_integer()):
            raise ConfigError(f"{name}: step must be a positive number (a whole number for "
                              f"int; no step for log_uniform), got {step!r}")
        step = int(number) if kind == "int" else float(number)
    return Parameter(key, kind, low=low, high=high, step=step)
