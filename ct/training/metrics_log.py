"""Where training metrics go: ``metrics.jsonl`` (one JSON object per line) and TensorBoard.

Records with ``"event": "eval"`` are evaluations (written under ``eval/`` in TensorBoard);
the others are training logs (``train/``). Every numeric field except ``step`` becomes a
TensorBoard scalar at that step.
"""

from __future__ import annotations

import json
from pathlib import Path

from ct._keras import tf

METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"


class MetricsLogger:
    """Appends records to ``DIR/metrics.jsonl`` and, optionally, ``DIR/tensorboard/``.

    Args:
        output_dir: the run directory.
        tensorboard: also write TensorBoard summaries.
    """

    def __init__(self, output_dir: str | Path, tensorboard: bool = True):
        self.path = Path(output_dir) / METRICS_FILE
        self._writer = (tf.summary.create_file_writer(str(Path(output_dir) / TENSORBOARD_DIR))
                        if tensorboard else None)

    def log(self, record: dict) -> None:
        """Writes one record (must hold ``step``)."""
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if self._writer is None:
            return
        prefix = "eval" if record.get("event") == "eval" else "train"
        with self._writer.as_default(step=int(record["step"])):
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)) and not isinstance(value,
                                                                                         bool):
                    tf.summary.scalar(f"{prefix}/{key}", value)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def read_metrics(path: str | Path) -> tuple[list[dict], list[dict]]:
    """Returns ``(training_records, evaluation_records)`` from a ``metrics.jsonl``."""
    train, evaluations = [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            (evaluations if record.get("event") == "eval" else train).append(record)
    return train, evaluations
