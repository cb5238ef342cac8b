"""The options reference (``docs/config.md``), generated from the config classes.

Every key of :class:`ct.config.schema.TrainConfig` and its sections, with its type, default and
help text, so the documentation cannot drift from the code (a test compares the file with this
output). Regenerate with::

    python -m ct.config.reference > docs/config.md
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from ct.config.loader import type_name
from ct.config.schema import TrainConfig

HEADER = """# Configuration reference

Every option `ct train` (and `ct tune`, `ct sample`) accepts, in YAML or as
`--set key=value` (nested keys with dots: `--set optimizer.learning_rate=2e-5`). Generated from
the config classes in `ct/config/schema.py` by `python -m ct.config.reference`; do not edit by
hand. Defaults are the CT paper's (Carlsson et al., ICLR 2021) where it has one.
"""


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()


def _format(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value if value else '""'
    return str(value)


def _rows(cls: type, prefix: str, sections: list) -> list[str]:
    hints = typing.get_type_hints(cls)
    rows = []
    for field in dataclasses.fields(cls):
        tp = hints[field.name]
        key = f"{prefix}{field.name}"
        help_text = field.metadata.get("help", "")
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is list else None
        if dataclasses.is_dataclass(tp):
            sections.append((key, tp))
            rows.append(f"| `{key}` | section | | {help_text}: see [{key}](#{key.replace('.', '')}) |")
            continue
        if item is not None and dataclasses.is_dataclass(item):
            sections.append((f"{key}[]", item))
            default = _format(_default(field))
            rows.append(f"| `{key}` | a list of {item.__name__} | `{default}` | {help_text}; "
                        f"each item: see [{key}[]](#{key.replace('.', '')}) |")
            continue
        rows.append(f"| `{key}` | {type_name(tp)} | `{_format(_default(field))}` | "
                    f"{help_text} |")
    return rows


def options_reference() -> str:
    """The Markdown reference of every option."""
    lines = [HEADER]
    sections: list = [("", TrainConfig)]
    done = set()
    while sections:
        name, cls = sections.pop(0)
        if name in done:
            continue
        done.add(name)
        title = name or "top level"
        lines += [f"## {title}", "", (cls.__doc__ or "").strip().split("\n\n")[0], "",
                  "| key | type | default | what |", "|---|---|---|---|"]
        nested: list = []
        prefix = f"{name.removesuffix('[]')}." if name else ""
        lines += _rows(cls, prefix, nested)
        lines.append("")
        sections.extend(nested)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(options_reference(), end="")
