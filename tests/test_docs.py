"""The documentation: the site builds in strict mode, and every command of the README's code
blocks runs (the long ones with tiny settings) or is excluded here with the reason.

The generated reference pages are compared with the code in ``test_config.py``
(``docs/config.md``) and ``test_cli_reference.py`` (``docs/cli.md``)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import yaml

from ct.cli import main
from helpers import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"

# README commands no test runs, and why.
NOT_RUN = {
    "make venv": "builds the environment the tests run in (needs PyPI)",
    ". .venv/bin/activate": "changes the calling shell only",
    "pip install -r requirements.txt": "needs PyPI; the tests run in the environment it builds",
    "pip install --no-deps -r requirements-model.txt": "needs PyPI (as above)",
    "pip install --no-deps -e .": "installs the clone the tests run from",
    'pip install "tensorflow[and-cuda]==2.20.0"': "needs PyPI and an NVIDIA GPU",
    "make demo": "5 minutes on the packaged MiniLM; the same job runs short in "
                 "test_cli.py::test_default_job_on_packaged_minilm_and_bundled_corpus",
    "make test": "the test suite itself",
}


def readme_blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``."""
    pattern = re.compile(rf"^```{language}\n(.*?)^```", re.S | re.M)
    return pattern.findall(README.read_text(encoding="utf-8"))


def readme_commands() -> list[str]:
    """Every shell command of the README: continuation lines joined, comments dropped."""
    commands = []
    for block in readme_blocks("bash"):
        for command in block.replace("\\\n", " ").splitlines():
            command = " ".join(command.split("  #")[0].split())
            if command:
                commands.append(command)
    return commands


def nav_pages(nav) -> list[str]:
    """The Markdown files the mkdocs.yml nav lists."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return [page for item in nav for page in nav_pages(item)]


def test_every_readme_command_is_run_or_excluded_with_a_reason():
    commands = readme_commands()
    ct_commands = [c for c in commands if c.startswith("ct ")]
    assert set(commands) == set(NOT_RUN) | set(ct_commands), \
        "a README command is neither run by test_readme_ct_commands_run nor in NOT_RUN"
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 150


def test_every_docs_page_is_in_the_nav_and_every_readme_link_exists():
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text())
    pages = set(nav_pages(config["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk <= pages, f"pages missing from the nav: {sorted(on_disk - pages)}"
    assert {"config.md", "cli.md", "api.md", "benchmarks.md"} <= pages
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    assert links and all((REPO_ROOT / link).is_file() for link in links), \
        [link for link in links if not (REPO_ROOT / link).is_file()]


def test_the_site_builds_in_strict_mode(tmp_path):
    """mkdocs build --strict: a missing page, a broken link or anchor, or a docstring the API
    page cannot render fails the build (what `make docs` runs)."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("CTTrainer", "SentenceEncoder", "load_config", "export_model"):
        assert name in api, name
    assert 'id="tune-ct-tune-only"' in (tmp_path / "config" / "index.html").read_text()


@pytest.fixture
def users_folder(tmp_path, corpus_file, small_sts_file, monkeypatch):
    """The working directory as the quick start expects it: the repo's configs, the user's
    text (tickets.txt) and scored pairs (dev_pairs.tsv, score<TAB>s1<TAB>s2)."""
    (tmp_path / "configs").symlink_to(REPO_ROOT / "configs")
    (tmp_path / "tickets.txt").write_text(corpus_file.read_text())
    rows = [line.split("\t") for line in small_sts_file.read_text().splitlines()]
    (tmp_path / "dev_pairs.tsv").write_text(
        "".join(f"{row[4]}\t{row[5]}\t{row[6]}\n" for row in rows))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _tiny(tiny_bert_dir) -> list[str]:
    """Overrides that make a README training run take seconds: the tiny model, 2 steps."""
    return [f"model={tiny_bert_dir}", "steps=2", "eval_every=2", "log_every=1",
            "length_buckets=1"]


@pytest.mark.slow  # about 30 s of CPU: a tiny training run, its export, eval and encode
def test_readme_ct_commands_run(users_folder, tiny_bert_dir, capsys):
    """The quick start in README order, in-process through the CLI's entry point (what the
    `ct` script calls): train on tickets.txt with dev_pairs.tsv as the dev set for 2 steps of
    the tiny model, score the kept model, embed the text; and the --help lines."""
    commands = [c for c in readme_commands() if c.startswith("ct ")]
    assert commands[0].startswith("ct train configs/ct_paper.yaml --output-dir runs/tickets")
    for command in commands:
        args = shlex.split(command)[1:]
        if "--help" in args:
            with pytest.raises(SystemExit) as exit_status:
                main(args)
            assert exit_status.value.code == 0 and "usage: ct" in capsys.readouterr().out
            continue
        if args[0] == "train":
            args += [item for value in _tiny(tiny_bert_dir) for item in ("--set", value)]
        assert main(args) == 0, f"{command}: {capsys.readouterr().err[-2000:]}"
    summary = json.loads((users_folder / "runs" / "tickets" / "summary.json").read_text())
    assert summary["config"]["sts_dev"] == "dev_pairs.tsv"
    vectors = np.load(users_folder / "vectors.npy")
    assert vectors.shape[0] == len((users_folder / "tickets.txt").read_text().splitlines())
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow  # a tiny training run and its export
def test_readme_python_example_runs(users_folder, tiny_bert_dir):
    """The README's Python block, with the tiny overrides added to its own."""
    (block,) = readme_blocks("python")
    original = '"steps=2000"]'
    assert original in block
    tiny = ", ".join(f'"{value}"' for value in [*_tiny(tiny_bert_dir), "sts_dev=dev_pairs.tsv"])
    namespace: dict = {}
    exec(compile(block.replace(original, f'"steps=2000", {tiny}]'), "README.md", "exec"),
         namespace)
    assert namespace["vectors"].shape == (1, 32)
    assert (users_folder / "runs" / "tickets" / "final" / "tf_model.h5").is_file()
