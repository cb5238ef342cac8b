"""Small STS files in each layout `ct eval` reads, written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SENTENCES = [f"sentence number {word}" for word in
             "one two three four five six seven eight nine ten eleven twelve".split()]


def gold_for(i: int) -> float:
    return float((i * 7) % 11) / 2.0


def pairs(start: int, count: int):
    return [(SENTENCES[(start + i) % 12], SENTENCES[(start + 2 * i + 1) % 12], gold_for(start + i))
            for i in range(count)]


def write_stsb(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"main-news\theadlines\t2015\t{i:04d}\t{g}\t{a}\t{b}\n"
                            for i, (a, b, g) in enumerate(rows)))
    return path


def write_sick(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n"
    path.write_text(header + "".join(f"{i}\t{a}\t{b}\t{g}\tNEUTRAL\n"
                                     for i, (a, b, g) in enumerate(rows)))
    return path


def write_plain(path: Path, rows) -> Path:
    path.write_text("".join(f"{g}\t{a}\t{b}\n" for a, b, g in rows))
    return path


def write_senteval_subset(folder: Path, name: str, rows, no_gold=()) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"STS.input.{name}.txt").write_text("".join(f"{a}\t{b}\n" for a, b, _ in rows))
    (folder / f"STS.gs.{name}.txt").write_text(
        "".join("\n" if i in no_gold else f"{g}\n" for i, (_, _, g) in enumerate(rows)))


def write_senteval_layout(root: Path) -> Path:
    """STS12 with two subsets (one pair without gold), STS14 with one, STS-B test, SICK.

    STS13, STS15, STS16 and STS-B dev are absent on purpose.
    """
    write_senteval_subset(root / "STS" / "STS12-en-test", "MSRpar", pairs(0, 9), no_gold={3})
    write_senteval_subset(root / "STS" / "STS12-en-test", "MSRvid", pairs(4, 8))
    write_senteval_subset(root / "STS" / "STS14-en-test", "images", pairs(2, 10))
    write_stsb(root / "STS" / "STSBenchmark" / "sts-test.csv", pairs(5, 11))
    write_sick(root / "SICK" / "SICK_test_annotated.txt", pairs(1, 12))
    return root


class LookupEncoder:
    """A stand-in encoder with fixed random vectors per sentence."""

    def __init__(self, seed: int = 0, dim: int = 6):
        rng = np.random.default_rng(seed)
        self.vectors = {s: rng.normal(size=dim) for s in SENTENCES}

    def encode(self, texts, batch_size=64, **kwargs):
        return np.stack([self.vectors[t] for t in texts])
