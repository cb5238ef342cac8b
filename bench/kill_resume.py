"""Kill-and-resume on a real model: a run SIGKILLed halfway and resumed must reproduce an
uninterrupted run step for step.

Runs `ct train` twice with the same config: straight through, and once killed with SIGKILL
after its checkpoint at (about) half the steps, then started again with the same command
(which resumes automatically). Prints the largest difference in per-step loss (expected 0)
and in the final weights of both encoders.

    python bench/kill_resume.py --model bundled:all-MiniLM-L6-v2 --steps 40
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def command(args, output_dir: Path) -> list[str]:
    settings = [f"model={args.model}", f"corpus={args.corpus}", f"steps={args.steps}",
                "sts_dev=null", "keep=last", "log_every=1",
                f"checkpoint_every={args.checkpoint_every}"]
    return [sys.executable, "-m", "ct", "train", str(REPO / "configs" / "ct_paper.yaml"), "-q",
            "--output-dir", str(output_dir), *[x for s in settings for x in ("--set", s)]]


def losses(run: Path) -> list[float]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in records if "loss" in r]


def final_tensors(run: Path) -> dict:
    from ct._keras import tf

    latest = json.loads((run / "checkpoints" / "latest.json").read_text())
    reader = tf.train.load_checkpoint(str(run / "checkpoints" / latest["path"] / "ckpt"))
    return {n: reader.get_tensor(n) for n in reader.get_variable_to_shape_map()
            if "OBJECT_GRAPH" not in n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--corpus", default="bundled:wiki_sentences")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--checkpoint-every", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ct-kill-resume-"))

    started = time.time()
    subprocess.run(command(args, work / "straight"), check=True)
    print(f"uninterrupted run: {args.steps} steps in {time.time() - started:.0f} s")

    run = work / "killed"
    process = subprocess.Popen(command(args, run))
    latest = run / "checkpoints" / "latest.json"
    while process.poll() is None:
        if latest.exists() and json.loads(latest.read_text())["step"] >= args.steps // 2:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    process.wait()
    killed_at = json.loads(latest.read_text())["step"]
    print(f"killed with SIGKILL; latest checkpoint at step {killed_at}; "
          f"{len(losses(run))} loss lines were written before the kill")
    subprocess.run(command(args, run), check=True)  # the same command resumes

    straight, resumed = losses(work / "straight"), losses(run)
    assert len(straight) == len(resumed) == args.steps
    loss_difference = max(abs(a - b) for a, b in zip(straight, resumed))
    a, b = final_tensors(work / "straight"), final_tensors(run)
    weight_difference = max(float(np.max(np.abs(a[n] - b[n]))) for n in a)
    print(f"largest per-step loss difference: {loss_difference:.3g} (over {args.steps} steps)")
    print(f"largest final-checkpoint difference (both encoders, optimizer): "
          f"{weight_difference:.3g} over {len(a)} tensors")


if __name__ == "__main__":
    main()
