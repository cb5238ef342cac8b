"""Prompt templates: ``"This is a photo of {}."`` with each sentence in place of ``{}``.

KoCLIP's authors found templates help short queries; the ``align`` stage applies one to the
student's inputs and saves it with the model, whose ``encode`` then applies it too.

Example:
    >>> fill_template("query: {}", ["a dog"])
    ['query: a dog']
"""

from __future__ import annotations

from typing import Optional, Sequence

from ct.errors import ConfigError


def check_template(template: Optional[str], key: str = "template") -> Optional[str]:
    """Returns ``template`` if it is None or holds ``{}``; raises ConfigError naming ``key``."""
    if template is not None and "{}" not in template:
        raise ConfigError(f"{key} must contain {{}} where the sentence goes, got {template!r}")
    return template


def fill_template(template: Optional[str], texts: Sequence[str]) -> list[str]:
    """``texts`` with the template filled in (unchanged without a template)."""
    if not template:
        return list(texts)
    return [template.replace("{}", text) for text in texts]
