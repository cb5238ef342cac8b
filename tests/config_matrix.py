"""The configuration matrix: generated cells of option values, pairwise-covering.

Every pair of values of any two options appears in at least one cell (a greedy AETG-style
covering array, seeded, so the cells are the same on every run). ``cell_overrides`` turns a
cell into ``--set`` values of a tiny run; ``tests/run_matrix_cell.py`` trains it and checks
the invariants; ``tests/test_config_matrix.py`` runs every cell.
"""

from __future__ import annotations

import itertools
import random

# Each stage setting: the stages that run, and the objective of the NLI/CT stages.
STAGE_SETTINGS = {
    "ct": {"stages": ["ct"]},
    "ct_ibn": {"stages": ["ct"], "objective": "ct_ibn"},
    "nli": {"stages": ["nli"], "nli.objective": "in_batch_negatives"},
    "stsb": {"stages": ["stsb"]},
    "align": {"stages": ["align"]},
    "nli_ct": {"stages": ["nli", "ct"], "nli.objective": "softmax"},
    "ct_stsb": {"stages": ["ct", "stsb"]},
}

FACTORS = {
    "stage": list(STAGE_SETTINGS),
    "optimizer": ["rmsprop", "adam", "adamw", "sgd"],
    "precision": ["float32", "mixed_bfloat16", "mixed_float16"],
    "driver": ["loop", "fit"],
    "replicas": [1, 2],
    "jit_compile": [False, True],
    "padding": ["longest", "max_length"],
    "length_buckets": [1, 4],
    "group_batches": [0, 3],
    "dropout": [False, True],
    "keep": ["best", "last"],
}

STEPS = 4          # per stage
CHECKPOINT_AT = 2  # the kill comes right after this step's checkpoint, in the last stage
SUPERVISED = ("nli", "stsb", "align")


def _pairs_of(cell: dict) -> set:
    items = sorted(cell.items())
    return {(a, b) for a, b in itertools.combinations(items, 2)}


def pairwise_cells(factors: dict = FACTORS, seed: int = 0, candidates: int = 60) -> list[dict]:
    """Cells covering every pair of values of every two factors.

    Each new cell is the best of ``candidates`` random completions of a cell that starts with
    an uncovered pair (the one covering the most uncovered pairs wins), until none is left.
    """
    rng = random.Random(seed)
    names = list(factors)
    uncovered = set()
    for a, b in itertools.combinations(names, 2):
        for value_a in factors[a]:
            for value_b in factors[b]:
                uncovered.add(tuple(sorted([(a, value_a), (b, value_b)])))
    cells = []
    while uncovered:
        (a, value_a), (b, value_b) = sorted(uncovered, key=repr)[0]
        best, best_gain = None, -1
        for _ in range(candidates):
            cell = {name: rng.choice(factors[name]) for name in names}
            cell[a], cell[b] = value_a, value_b
            gain = len(_pairs_of(cell) & uncovered)
            if gain > best_gain:
                best, best_gain = cell, gain
        uncovered -= _pairs_of(best)
        cells.append(best)
    return cells


def cell_id(cell: dict) -> str:
    """A readable test id, e.g.
    ``ct_ibn-adam-mixed_bfloat16-fit-r2-xla-max_length-b4-g3-do-best``."""
    return "-".join([cell["stage"], cell["optimizer"], cell["precision"], cell["driver"],
                     f"r{cell['replicas']}", "xla" if cell["jit_compile"] else "noxla",
                     cell["padding"], f"b{cell['length_buckets']}",
                     f"g{cell['group_batches']}", "do" if cell["dropout"] else "nodo",
                     cell["keep"]])


def cell_overrides(cell: dict, data: dict) -> list[str]:
    """``--set`` values that train ``cell`` on the tiny model and data in ``data`` (keys
    ``model``, ``corpus``, ``sts``, ``nli``, ``stsb``, ``align_targets``)."""
    settings = dict(STAGE_SETTINGS[cell["stage"]])
    stages = settings.pop("stages")
    values = {
        "stages": "[" + ", ".join(stages) + "]",
        "model": data["model"], "sts_dev": data["sts"], "corpus": data["corpus"],
        "max_length": 24, "log_every": 1, "checkpoint_every": CHECKPOINT_AT,
        "keep": cell["keep"],
        "tensorboard": "false", "eval_batch_size": 32,
        "driver": cell["driver"], "precision": cell["precision"],
        "jit_compile": str(cell["jit_compile"]).lower(), "padding": cell["padding"],
        "length_buckets": cell["length_buckets"], "group_batches": cell["group_batches"],
        "strategy": "mirrored" if cell["replicas"] == 2 else "default",
        "virtual_devices": 2 if cell["replicas"] == 2 else 0,
        # the CT stage (top level)
        "steps": STEPS, "eval_every": CHECKPOINT_AT, "batch_size": 8, "num_negatives": 3,
        "dropout": str(cell["dropout"]).lower(), "optimizer.name": cell["optimizer"],
        "optimizer.learning_rate": 1e-3, "optimizer.lr_boundaries": "[]",
        "optimizer.lr_values": "[]",
        # the supervised stages
        "nli.train": f"[{data['nli']}]", "stsb.train": f"[{data['stsb']}]",
        "align.train": f"[{data['corpus']}]", "align.targets": data["align_targets"],
        **settings,
    }
    for name in SUPERVISED:
        values.update({f"{name}.steps": STEPS, f"{name}.batch_size": 8,
                       f"{name}.eval_every": CHECKPOINT_AT,
                       f"{name}.dropout": str(cell["dropout"]).lower(),
                       f"{name}.optimizer.name": cell["optimizer"],
                       f"{name}.optimizer.learning_rate": 1e-3})
    return [f"{key}={value}" for key, value in values.items()]
