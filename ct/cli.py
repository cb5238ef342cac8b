"""The ``ct`` command line. Each subcommand parses, builds a config and calls the library.

User mistakes (a :class:`ct.errors.CTError`) print one line ``ct: error: ...`` and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Optional, Sequence

from ct.errors import CTError

logger = logging.getLogger("ct")

TRAIN_EPILOG = """\
examples:
  ct train configs/ct_paper.yaml --output-dir runs/ct
  ct train configs/ct_paper.yaml --set model=path/to/checkpoint --set corpus=data/*.txt \\
      --set steps=2000 --set optimizer.learning_rate=2e-5

Any config key can be set with --set KEY=VALUE (nested keys with dots); values are YAML.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ct", description="Contrastive Tension (Carlsson et al., ICLR 2021) for TensorFlow.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train", help="train a sentence encoder with Contrastive Tension",
        description="Train two copies of an encoder with the CT objective; evaluate on STS-B "
                    "dev; keep the better model in OUTPUT_DIR/final.",
        epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("config", nargs="?", help="YAML config (default: the paper's defaults)")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="KEY=VALUE", help="override a config value (repeatable)")
    train.add_argument("--output-dir", help="where the run is written (default: runs/ct-TIME)")
    train.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    return parser


def _train(args: argparse.Namespace) -> int:
    from ct.config import load_config

    config = load_config(args.config, args.overrides)
    output_dir = args.output_dir or config.output_dir or time.strftime("runs/ct-%Y%m%d-%H%M%S")
    config.output_dir = str(output_dir)

    from ct.training.trainer import CTTrainer

    trainer = CTTrainer(config, output_dir)
    summary = trainer.train()
    print(format_summary(summary))
    return 0


def format_summary(summary: dict) -> str:
    """A short human-readable table of a finished run."""
    lines = [f"CT run finished: {summary['steps']} steps in {summary['wall_time_s']:.0f} s "
             f"({summary['pairs_per_s']:.1f} pairs/s, {summary['tokens_per_s']:.0f} tokens/s)"]
    stsb = summary.get("stsb_dev")
    if stsb:
        lines += ["", "STS-B dev Spearman x100   before    after",
                  f"  model 1                  {stsb['before']['model_1']:6.2f}   "
                  f"{stsb['after']['model_1']:6.2f}",
                  f"  model 2                  {stsb['before']['model_2']:6.2f}   "
                  f"{stsb['after']['model_2']:6.2f}"]
    kept = summary.get("kept") or {}
    if kept:
        score = kept.get("stsb_dev_spearman")
        score_text = f", STS-B dev {score:.2f}" if score is not None else ""
        lines += ["", f"kept: model {kept['model']} at step {kept['step']}{score_text}"]
    lines.append(f"exported model: {summary['final_model']}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``ct`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
                        format="[ct] %(message)s")
    try:
        return {"train": _train}[args.command](args)
    except CTError as exc:
        print(f"ct: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ct: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
