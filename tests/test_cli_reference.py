"""docs/cli.md is generated from the argument parser and says what the parser says."""

import argparse

from ct.cli import build_parser
from ct.cli_reference import cli_reference
from helpers import REPO_ROOT


def _subparsers(parser: argparse.ArgumentParser) -> dict:
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices


def test_docs_cli_md_is_the_generated_reference():
    assert (REPO_ROOT / "docs" / "cli.md").read_text() == cli_reference(), \
        "docs/cli.md is stale: make reference (python -m ct.cli_reference > docs/cli.md)"


def test_every_subcommand_flag_default_and_choice_is_documented():
    reference = cli_reference()
    sections = reference.split("\n## ct ")[1:]
    parsers = _subparsers(build_parser())
    assert [section.split("\n", 1)[0] for section in sections] == list(parsers)
    for section, (name, parser) in zip(sections, parsers.items()):
        rows = {line.split(" | ")[0] for line in section.splitlines() if line.startswith("| `")}
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            flags = action.option_strings or [action.metavar or action.dest]
            row = next((line for line in section.splitlines()
                        if line.startswith(f"| `{flags[0]}`")), None)
            assert row is not None, f"ct {name}: {flags[0]} is not documented ({rows})"
            for choice in action.choices or []:
                assert f"`{choice}`" in row, (name, flags[0], choice)
            if action.default not in (None, [], False, argparse.SUPPRESS):
                assert f"`{action.default}`" in row, (name, flags[0], action.default)
            if action.required and action.option_strings:
                assert "required" in row, (name, flags[0])
