"""The command-line reference (``docs/cli.md``), generated from the ``ct`` argument parser.

Every subcommand of :func:`ct.cli.build_parser` with its description, a table of its arguments
(flag, value, default, help) and its examples, so the documentation cannot drift from the
parser (a test compares the file with this output). Regenerate with::

    python -m ct.cli_reference > docs/cli.md

Example:
    >>> "## ct train" in cli_reference()
    True
"""

from __future__ import annotations

import argparse

from ct.cli import build_parser

HEADER = """# Command-line reference

Every `ct` subcommand and flag. Generated from the argument parser in `ct/cli.py` by
`python -m ct.cli_reference`; do not edit by hand. `ct COMMAND --help` prints the same on a
terminal. Configuration keys (what `--set KEY=VALUE` accepts) are in the
[configuration reference](config.md). User mistakes print one line `ct: error: ...` and exit
with status 2.
"""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _value(action: argparse.Action) -> str:
    if action.nargs == 0 or not action.option_strings and not action.choices:
        return ""
    if action.choices:
        return " \\| ".join(f"`{choice}`" for choice in action.choices)
    name = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    return f"`{name}`"


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, [], argparse.SUPPRESS):
        return ""
    return f"`{action.default}`"


def _argument(action: argparse.Action) -> str:
    if not action.option_strings:
        name = action.metavar or action.dest
        return f"`{name}`" + (" (optional)" if action.nargs == "?" else "")
    flags = ", ".join(f"`{flag}`" for flag in action.option_strings)
    notes = [note for note, applies in (("required", action.required),
                                        ("repeatable", isinstance(action, argparse._AppendAction)))
             if applies]
    return flags + (f" ({', '.join(notes)})" if notes else "")


def _command(name: str, parser: argparse.ArgumentParser, summary: str) -> list[str]:
    summary = _cell(summary)
    lines = [f"## ct {name}", "", summary[:1].upper() + summary[1:] + ".", ""]
    if parser.description:
        lines += [parser.description.strip(), ""]
    lines += ["| argument | value | default | what |", "|---|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        lines.append(f"| {_argument(action)} | {_value(action)} | {_default(action)} | "
                     f"{_cell(action.help or '')} |")
    lines.append("")
    if parser.epilog:
        lines += ["```text", parser.epilog.rstrip(), "```", ""]
    return lines


def cli_reference() -> str:
    """The Markdown reference of every subcommand and flag (the content of ``docs/cli.md``)."""
    parser = build_parser()
    commands = next(action for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction))
    summaries = {choice.dest: choice.help for choice in commands._choices_actions}
    lines = [HEADER, "| command | what |", "|---|---|"]
    lines += [f"| [`ct {name}`](#ct-{name}) | {_cell(summaries[name])} |"
              for name in commands.choices]
    lines.append("")
    for name, subparser in commands.choices.items():
        lines += _command(name, subparser, summaries[name])
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(cli_reference(), end="")
