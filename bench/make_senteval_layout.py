"""Build a SentEval-layout STS folder from STS Benchmark files (no download).

STS Benchmark (Cer et al., 2017) is assembled from the STS 2012-2017 shared tasks and keeps,
per pair, the year and source file it came from with its original gold score. This script
regroups those pairs into SentEval's layout:

    OUT/STS/STS12-en-test/STS.input.MSRpar.txt + STS.gs.MSRpar.txt  (2012 test rows)
    OUT/STS/STS13-en-test/... (2013), STS14 (2014), STS15 (2015), STS16 (2016)
    OUT/STS/STSBenchmark/sts-dev.csv, sts-test.csv                  (copied)

Only the subsets that STS-B contains appear (e.g. STS12 has MSRpar and MSRvid but not
SMTeuroparl, OnWN or SMTnews), and there is no SICK, which `ct eval` reports as missing. The
numbers are therefore not comparable to published STS12-16 tables; the folder exercises the
layout with real sentences and real gold scores.

    python bench/make_senteval_layout.py --stsb-dir ../shared/data/stsbenchmark --out /tmp/senteval
"""

from __future__ import annotations

import argparse
import shutil
from collections import defaultdict
from pathlib import Path

YEAR_TO_TASK = {"2012test": "STS12", "2013": "STS13", "2014": "STS14", "2015": "STS15",
                "2016": "STS16"}


def build(stsb_dir: Path, out: Path) -> dict:
    subsets: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for split in ("sts-train.csv", "sts-dev.csv", "sts-test.csv"):
        for line in (stsb_dir / split).read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) >= 7 and fields[2] in YEAR_TO_TASK:
                subsets[(YEAR_TO_TASK[fields[2]], fields[1])].append(
                    (fields[5], fields[6], fields[4]))
    counts = {}
    for (task, subset), rows in sorted(subsets.items()):
        folder = out / "STS" / f"{task}-en-test"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"STS.input.{subset}.txt").write_text(
            "".join(f"{a}\t{b}\n" for a, b, _ in rows), encoding="utf-8")
        (folder / f"STS.gs.{subset}.txt").write_text(
            "".join(f"{score}\n" for _, _, score in rows), encoding="utf-8")
        counts[f"{task}/{subset}"] = len(rows)
    benchmark = out / "STS" / "STSBenchmark"
    benchmark.mkdir(parents=True, exist_ok=True)
    for split in ("sts-dev.csv", "sts-test.csv"):
        shutil.copy(stsb_dir / split, benchmark / split)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stsb-dir", type=Path, required=True,
                        help="folder with sts-train.csv, sts-dev.csv, sts-test.csv")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for name, count in build(args.stsb_dir, args.out).items():
        print(f"{name:28s} {count:5d} pairs")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
