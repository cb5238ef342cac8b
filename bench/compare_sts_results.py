"""Compare `ct eval --json` results with the PyTorch reference, per subset/file.

    python bench/compare_sts_results.py ct.json torch.json --tolerance 0.2

Exits 1 if any task differs by more than the tolerance (Spearman x100 points).
"""

from __future__ import annotations

import argparse
import json
import sys


def flatten(ct_results: dict) -> dict[str, float]:
    flat = {}
    for task, result in ct_results["tasks"].items():
        if "subsets" in result:
            for subset, r in result["subsets"].items():
                flat[f"{task}/{subset}"] = r["spearman"]
        else:
            flat[task] = result["spearman"]
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ct_json")
    parser.add_argument("reference_json")
    parser.add_argument("--tolerance", type=float, default=0.2)
    args = parser.parse_args()
    ours = flatten(json.load(open(args.ct_json)))
    reference = json.load(open(args.reference_json))
    worst, failed = 0.0, False
    print(f"{'task':28s} {'ct':>7s} {'pytorch':>8s} {'diff':>6s}")
    for name in sorted(reference):
        if name not in ours:
            print(f"{name:28s} missing from ct results")
            failed = True
            continue
        diff = abs(ours[name] - reference[name])
        worst = max(worst, diff)
        failed |= diff > args.tolerance
        print(f"{name:28s} {ours[name]:7.2f} {reference[name]:8.2f} {diff:6.3f}")
    print(f"largest difference: {worst:.4f} points (tolerance {args.tolerance})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
