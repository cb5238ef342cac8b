"""The options reference (``docs/config.md``), generated from the config classes.

Every key of :class:`ct.config.schema.TrainConfig` and its sections, and of the ``tune:``
section (:class:`ct.config.tune.TuneConfig`), with its type, its real default and its help
text, so the documentation cannot drift from the code (a test compares the file with this
output). A nested section's defaults are read from the default config itself, not from the
section's class: ``nli.optimizer`` documents the AdamW defaults the NLI stage really starts
from, not the CT stage's RMSprop. Regenerate with::

    python -m ct.config.reference > docs/config.md

Example:
    >>> "| `nli.optimizer.name` | one of 'rmsprop', 'adam', 'adamw', 'sgd' | `adamw` |" \\
    ...     in options_reference()
    True
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from ct.config.loader import type_name
from ct.config.schema import TrainConfig
from ct.config.tune import TuneConfig

HEADER = """# Configuration reference

Every option `ct train` (and `ct tune`, `ct sample`) accepts, in YAML or as
`--set key=value` (nested keys with dots: `--set optimizer.learning_rate=2e-5`). Generated from
the config classes in `ct/config/schema.py` and `ct/config/tune.py` by
`python -m ct.config.reference`; do not edit by hand. Defaults are the CT paper's (Carlsson et
al., ICLR 2021) where it has one; a nested section shows the defaults of that section in the
default config (the supervised stages start from Sentence-BERT's AdamW, not from CT's RMSprop).
"""

# The sections documented, in order: (title, the default instance, key prefix).
_TUNE_TITLE = "tune (ct tune only)"


def _format(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value if value else '""'
    return str(value)


def _anchor(title: str) -> str:
    """The id MkDocs gives a heading (the ``toc`` extension's slug)."""
    return "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c in "-_")


def _rows(instance: Any, prefix: str, sections: list) -> list[str]:
    """The table rows of one section; appends its subsections to ``sections``."""
    hints = typing.get_type_hints(type(instance))
    rows = []
    for field in dataclasses.fields(instance):
        tp = hints[field.name]
        key = f"{prefix}{field.name}"
        value = getattr(instance, field.name)
        help_text = field.metadata.get("help", "")
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is list else None
        if dataclasses.is_dataclass(tp):
            sections.append((key, value))
            rows.append(f"| `{key}` | section | | {help_text}: see [{key}](#{_anchor(key)}) |")
        elif item is not None and dataclasses.is_dataclass(item):
            sections.append((f"{key}[]", item()))
            rows.append(f"| `{key}` | a list of {item.__name__} | `{_format(value)}` | "
                        f"{help_text}; each item: see [{key}[]](#{_anchor(key + '[]')}) |")
        else:
            rows.append(f"| `{key}` | {type_name(tp)} | `{_format(value)}` | {help_text} |")
    return rows


def _section(title: str, instance: Any, prefix: str, sections: list) -> list[str]:
    doc = (type(instance).__doc__ or "").strip().split("\n\n")[0]
    return [f"## {title}", "", doc, "", "| key | type | default | what |", "|---|---|---|---|",
            *_rows(instance, prefix, sections), ""]


def options_reference() -> str:
    """The Markdown reference of every option (the content of ``docs/config.md``)."""
    lines = [HEADER]
    sections: list = [("", TrainConfig())]
    while sections:
        name, instance = sections.pop(0)
        nested: list = []
        prefix = f"{name.removesuffix('[]')}." if name else ""
        lines += _section(name or "top level", instance, prefix, nested)
        sections = nested + sections  # a section's subsections follow it
    lines += _section(_TUNE_TITLE, TuneConfig(), "tune.", [])
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(options_reference(), end="")
