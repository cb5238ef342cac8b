"""Model selection on STS-B dev: which model, at which step, is the one a run keeps.

CT trains two models and the paper reports the better one (Carlsson et al., ICLR 2021); the
original code evaluates between epochs. Every evaluation scores each model; ``keep: best``
keeps the best score seen (the starting model, step 0, included: a run that only made the
model worse says so and keeps the untouched model), ``keep: last`` the better model at the
end. A tie goes to the later model (CT's model 2, which the paper finds usually better).

Example:
    >>> selection = ModelSelection(keep="best")
    >>> improved = selection.record(step=500, scores={1: 86.9, 2: 87.1})
    >>> selection.best
    {'model': 2, 'step': 500, 'stsb_dev_spearman': 87.1}
"""

from __future__ import annotations

from typing import Optional


def scores_of(record: dict) -> dict:
    """``{"model_1": score, ...}`` of an evaluation record."""
    return {key[len("stsb_dev_"):]: value for key, value in record.items()
            if key.startswith("stsb_dev_model_")}


def better_model(record: dict) -> int:
    """The (1-based) model with the highest score in an evaluation record; the later one on a
    tie."""
    scores = [(record[key], int(key.rsplit("_", 1)[1])) for key in record
              if key.startswith("stsb_dev_model_")]
    return max(scores)[1]


class ModelSelection:
    """The evaluations of a run and the model it keeps.

    Args:
        keep: ``"best"`` or ``"last"``.
    """

    def __init__(self, keep: str = "best"):
        self.keep = keep
        self.evaluations: list[dict] = []
        self.best: Optional[dict] = None

    def evaluated(self, step: int) -> bool:
        """True if the models were already scored at ``step``."""
        return bool(self.evaluations) and self.evaluations[-1]["step"] == step

    def record(self, step: int, scores: dict[int, float]) -> Optional[int]:
        """Adds an evaluation; returns the model (1-based) that became the best so far, or
        None if the best did not change."""
        record = {"event": "eval", "step": step,
                  **{f"stsb_dev_model_{index}": score for index, score in scores.items()}}
        self.evaluations.append(record)
        model = better_model(record)
        score = record[f"stsb_dev_model_{model}"]
        if self.best is None or score > self.best["stsb_dev_spearman"]:
            self.best = {"model": model, "step": step, "stsb_dev_spearman": score}
            return model
        return None

    @property
    def last_record(self) -> dict:
        return self.evaluations[-1] if self.evaluations else {}

    def keep_at_end(self, step: int, num_models: int) -> dict:
        """The kept model when ``keep: last`` (or nothing was scored): the better model at the
        end; without scores, the last model (CT's model 2, usually better per the paper)."""
        last = self.last_record
        model = better_model(last) if last else num_models
        self.best = {"model": model, "step": step,
                     "stsb_dev_spearman": last.get(f"stsb_dev_model_{model}")}
        return self.best

    def kept_is_untouched(self) -> bool:
        """True if the kept model is the starting model (step 0 scored best)."""
        return bool(self.best) and self.best["step"] == 0

    def before_after(self) -> Optional[dict]:
        """``{"before", "after", "evaluations"}`` for the summary, or None without scores."""
        if not self.evaluations:
            return None
        return {"before": scores_of(self.evaluations[0]),
                "after": scores_of(self.evaluations[-1]), "evaluations": self.evaluations}

    def state(self) -> dict:
        return {"evaluations": self.evaluations, "best": self.best}

    def load_state(self, state: dict) -> None:
        self.evaluations, self.best = state["evaluations"], state["best"]
