"""A Griffe extension for the API pages: ct's docstrings head their doctests ``Example:`` (the
Google style guide's spelling), which Griffe would render as a note with the ``>>>`` lines read
as Markdown quotes; renamed ``Examples:``, they render as code. Loaded by mkdocs.yml."""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.M)


class ExampleSections(griffe.Extension):
    """Renames ``Example:`` sections of every docstring to ``Examples:``."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE_HEADING.sub(r"\1Examples:", obj.docstring.value)
