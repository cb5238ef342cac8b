"""What the speed options do to quality: STS-B dev after 300 CT steps, two seeds each.

Runs ``ct train`` on the packaged MiniLM and the bundled Wikipedia sample for each variant
(the paper config; bfloat16; length grouping; configs/ct_fast.yaml) and seed, evaluating
STS-B dev every 100 steps, and prints the kept model's STS-B dev and the run's pairs/s.

    python bench/speed_quality.py --out /tmp/speed-quality
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {
    "paper": ("configs/ct_paper.yaml", []),
    "bfloat16": ("configs/ct_paper.yaml", ["precision=mixed_bfloat16"]),
    "length grouping": ("configs/ct_paper.yaml", ["group_batches=64", "length_buckets=1"]),
    "ct_fast": ("configs/ct_fast.yaml", []),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                        help="which variants to run (default: all)")
    args = parser.parse_args()
    rows = []
    for name in args.variants:
        config, extra = VARIANTS[name]
        for seed in args.seeds:
            run = Path(args.out) / f"{name.replace(' ', '_')}-{seed}"
            if not (run / "summary.json").exists():
                overrides = [f"steps={args.steps}", "eval_every=100", f"seed={seed}", *extra]
                command = [sys.executable, "-m", "ct", "train", str(REPO / config), "-q",
                           "--output-dir", str(run)]
                for item in overrides:
                    command += ["--set", item]
                subprocess.run(command, check=True)
            summary = json.loads((run / "summary.json").read_text())
            rows.append((name, seed, summary["kept"]["stsb_dev_spearman"],
                         summary["pairs_per_s"]))
            print(f"{name:<16} seed {seed}: STS-B dev {rows[-1][2]:.2f}, "
                  f"{rows[-1][3]:.1f} pairs/s", flush=True)
    print()
    for name in args.variants:
        scores = [r[2] for r in rows if r[0] == name]
        speed = [r[3] for r in rows if r[0] == name]
        print(f"{name:<16} STS-B dev {' / '.join(f'{s:.2f}' for s in scores)} "
              f"(mean {sum(scores) / len(scores):.2f}); {sum(speed) / len(speed):.1f} pairs/s")


if __name__ == "__main__":
    main()
