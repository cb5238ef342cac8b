"""Trains one configuration-matrix cell and checks its invariants; prints a JSON report.

    python tests/run_matrix_cell.py CELL_JSON DATA_JSON WORK_DIR

In one process with two logical CPU devices (so that 1- and 2-replica runs can both run here):

1. **validation**: the config is loaded and the pipeline checked; a refusal is reported with
   its one-line message (``{"refused": ...}``) and nothing trains;
2. **uninterrupted**: the cell trains to its end;
3. **killed and resumed**: the run folder as a kill right after the checkpoint at step
   ``CHECKPOINT_AT`` of the last stage leaves it (the uninterrupted run's folder, a copy kept
   aside, without what came later: later checkpoints, ``final/``, summaries; earlier stages
   are finished), then the same command again: every variable of every stage's last checkpoint
   (weights, optimizer slots, step, loss scale) must equal the uninterrupted run's bit for
   bit, and so must the logged losses (real kills at every phase: test_crash_safety.py and
   test_reliability.py);
4. **replicas** (2-replica cells without dropout): the same cell on one device must log the
   same losses (1e-4 in float32);
5. **kept score**: the STS-B dev score the run kept must be the score of ``final/``,
   re-evaluated from disk.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from config_matrix import CHECKPOINT_AT, cell_overrides  # noqa: E402

from ct.distribute import configure_virtual_devices  # noqa: E402

configure_virtual_devices(2)

import numpy as np  # noqa: E402

from ct._keras import tf  # noqa: E402
from ct.config import load_config  # noqa: E402
from ct.errors import CTError  # noqa: E402
from ct.evaluation.sts import STSEvaluator  # noqa: E402
from ct.modeling.encoder import SentenceEncoder  # noqa: E402
from ct.training.pipeline import TrainingPipeline  # noqa: E402


def stage_dirs(run: Path, stages: list) -> list[Path]:
    if len(stages) == 1:
        return [run]
    return [run / f"stage-{i}-{name}" for i, name in enumerate(stages, start=1)]


def losses(folder: Path) -> list[float]:
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [record["loss"] for record in records if "loss" in record]


def last_checkpoint(folder: Path) -> dict:
    checkpoints = folder / "checkpoints"
    latest = json.loads((checkpoints / "latest.json").read_text())
    reader = tf.train.load_checkpoint(str(checkpoints / latest["path"] / "ckpt"))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if not name.startswith("_CHECKPOINTABLE_OBJECT_GRAPH")}


SECONDS: dict = {}  # seconds per run, in the report


def train(overrides: list, run: Path, label: str):
    start = time.time()
    config = load_config(None, overrides)
    summary = TrainingPipeline(config, run, progress="off").run()
    SECONDS[label] = round(time.time() - start, 1)
    return summary


def killed_after_checkpoint(run: Path, stages: list, step: int) -> None:
    """Turns the finished ``run`` into the folder a kill right after the last stage's
    checkpoint at ``step`` would have left: later checkpoints, summaries and final models are
    not there yet. (In place: a pipeline's later stages name the earlier stages' folders.)"""
    for path in [run / "summary.json", run / "final"]:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    last = stage_dirs(run, stages)[-1]
    for path in [last / "summary.json", last / "final"]:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    checkpoints = last / "checkpoints"
    for folder in checkpoints.glob("step-*"):
        if int(folder.name.split("-")[1]) > step:
            shutil.rmtree(folder)
    name = f"step-{step:08d}"
    (checkpoints / "latest.json").write_text(json.dumps({"step": step, "path": name}))


def main() -> dict:
    cell = json.loads(sys.argv[1])
    data = json.loads(sys.argv[2])
    work = Path(sys.argv[3])
    overrides = cell_overrides(cell, data)
    report = {"cell": cell}
    try:
        config = load_config(None, overrides)
        TrainingPipeline(config, work / "check", progress="off")
    except CTError as exc:
        report["refused"] = str(exc)
        return report
    stages = config.stages
    summary = train(overrides, work / "run", "uninterrupted")
    shutil.copytree(work / "run", work / "straight")  # the uninterrupted run, kept
    straight = stage_dirs(work / "straight", stages)
    report["losses"] = {str(d.name): losses(d) for d in straight}
    report["finite"] = all(math.isfinite(v) for values in report["losses"].values()
                           for v in values)

    # killed after a checkpoint of the last stage, then the same command again
    killed_after_checkpoint(work / "run", stages, CHECKPOINT_AT)
    train(overrides, work / "run", "resumed")
    resumed = stage_dirs(work / "run", stages)
    mismatches = []
    for a, b in zip(straight, resumed):
        first, second = last_checkpoint(a), last_checkpoint(b)
        if sorted(first) != sorted(second):
            mismatches.append(f"{a.name}: different variables")
            continue
        mismatches += [f"{a.name}: {name}" for name in sorted(first)
                       if not np.array_equal(first[name], second[name])]
    report["resume_mismatches"] = mismatches
    report["resume_losses_equal"] = all(losses(a) == losses(b)
                                        for a, b in zip(straight, resumed))

    if cell["replicas"] == 2 and not cell["dropout"]:
        one = [item for item in overrides
               if not item.startswith(("strategy=", "virtual_devices="))]
        train(one + ["strategy=default", "virtual_devices=0"], work / "one", "one_device")
        one_device = stage_dirs(work / "one", stages)
        report["replica_max_difference"] = max(
            abs(x - y) / max(abs(y), 1.0)
            for a, b in zip(straight, one_device) for x, y in zip(losses(a), losses(b)))

    last_summary = json.loads((straight[-1] / "summary.json").read_text())
    kept = last_summary["kept"]
    report["replicas"] = last_summary.get("replicas")
    report["kept_step"] = kept["step"]
    report["kept_is_starting_model"] = last_summary.get("kept_is_starting_model")
    encoder = SentenceEncoder.from_pretrained(str(work / "straight" / "final"))
    rescored = STSEvaluator.from_file(data["sts"])(encoder)["spearman"]
    report["kept_score"] = kept["stsb_dev_spearman"]
    report["final_score"] = rescored
    report["summary_status"] = summary["status"]
    report["seconds"] = SECONDS
    return report


if __name__ == "__main__":
    result = main()
    print("MATRIX-REPORT " + json.dumps(result))
