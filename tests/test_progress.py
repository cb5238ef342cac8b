"""Progress of long jobs: a bar on a terminal, plain lines elsewhere, nothing with -q."""

import logging

from ct.cli import main
from ct.progress import Progress, format_duration, resolve_mode
from helpers import REPO_ROOT

PAPER = str(REPO_ROOT / "configs" / "ct_paper.yaml")


class _Terminal:
    def isatty(self):
        return True


def test_auto_mode_is_a_bar_only_on_a_terminal():
    assert resolve_mode("auto", _Terminal()) == "bar"
    assert resolve_mode("auto", object()) == "lines"
    assert resolve_mode("off") == "off" and format_duration(3725) == "1h02m"


def test_lines_mode_writes_a_line_every_n_units_with_figures_and_eta(caplog):
    with caplog.at_level(logging.INFO, logger="ct"):
        progress = Progress("CT", total=30, mode="lines", every=10)
        for step in range(1, 31):
            progress.update(step, {"loss": 0.5, "pairs/s": 20.0 if step > 10 else 3.99412})
            if step == 10:
                progress.phase("evaluating STS-B dev")
        progress.close()
    lines = [r.message for r in caplog.records]
    # losses with four decimals, rates with one (also below 10)
    assert lines[0].startswith("CT step 10/30 (33%): loss 0.5000, pairs/s 4.0, elapsed ")
    assert "ETA" in lines[0] and lines[1] == "CT step 10/30 (33%): evaluating STS-B dev"
    assert len(lines) == 4 and lines[-1].startswith("CT step 30/30 (100%)")
    assert "ETA" not in lines[-1]


def test_bar_mode_draws_a_bar(capsys):
    progress = Progress("CT", total=4, mode="bar")
    for step in range(1, 5):
        progress.update(step, {"loss": 0.25})
    progress.close()
    err = capsys.readouterr().err
    assert "CT" in err and "4/4" in err and "loss=0.2500" in err


def test_training_off_a_terminal_prints_plain_progress_lines_and_q_silences_them(
        tmp_path, capsys, train_overrides):
    args = [arg for item in [*train_overrides, "log_every=2", "checkpoint_every=0"]
            for arg in ("--set", item)]
    assert main(["train", PAPER, *args, "--output-dir", str(tmp_path / "a")]) == 0
    captured = capsys.readouterr()
    assert "[ct] CT step 2/4 (50%): loss " in captured.err and "pairs/s" in captured.err
    assert "[ct] CT step 2/4 (50%): evaluating STS-B dev" in captured.err
    assert "disk: about" in captured.err  # the start-up line estimates the disk a run uses
    assert "\r" not in captured.err  # no bar redraws in a log file
    assert main(["train", PAPER, *args, "--output-dir", str(tmp_path / "b"), "-q"]) == 0
    quiet = capsys.readouterr()
    assert "step 2/4" not in quiet.err and "[ct]" not in quiet.err
