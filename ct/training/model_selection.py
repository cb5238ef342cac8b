"""Model selection on STS-B dev, or the user's own ``selection_metric``: which model, at which
step, is the one a run keeps.

CT trains two models and the paper reports the better one (Carlsson et al., ICLR 2021); the
original code evaluates between epochs. Every evaluation scores each model; ``keep: best``
keeps the best score seen (the starting model, step 0, included: a run that only made the
model worse says so and keeps the untouched model), ``keep: last`` the better model at the
end. A tie goes to the later model (CT's model 2, which the paper finds usually better).

The figure compared is the selection metric's (:mod:`ct.training.dev_evaluation`): STS-B dev
Spearman by default (logged as ``stsb_dev_model_<i>``), or a ``TASK:METRIC`` of the user's
dev sets (``retrieval:ndcg@10_model_<i>``). The kept model's record names the metric and its
score (and, for STS-B dev, ``stsb_dev_spearman`` as before).

Example:
    >>> selection = ModelSelection(keep="best")
    >>> improved = selection.record(step=500, scores={1: 86.9, 2: 87.1})
    >>> selection.best["model"], selection.best["step"], selection.best["score"]
    (2, 500, 87.1)
"""

from __future__ import annotations

from typing import Optional

from ct.training.dev_evaluation import DEFAULT_SELECTION_METRIC, STSB_KEY, selection_key


def scores_of(record: dict, key: str = STSB_KEY) -> dict:
    """``{"model_1": score, ...}`` of an evaluation record, for the figure ``key``."""
    prefix = f"{key}_model_"
    return {name[len(key) + 1:]: value for name, value in record.items()
            if name.startswith(prefix) and name[len(prefix):].isdigit()}


def better_model(record: dict, key: str = STSB_KEY) -> int:
    """The (1-based) model with the highest score in an evaluation record; the later one on a
    tie."""
    scores = [(value, int(name.rsplit("_", 1)[1])) for name, value in scores_of(record,
                                                                                 key).items()]
    return max(scores)[1]


class ModelSelection:
    """The evaluations of a run and the model it keeps.

    Args:
        keep: ``"best"`` or ``"last"``.
        metric: the selection metric (``TASK:METRIC``; default STS-B dev Spearman).
    """

    def __init__(self, keep: str = "best", metric: str = DEFAULT_SELECTION_METRIC):
        self.keep = keep
        self.metric = metric
        self.key = selection_key(metric)
        self.evaluations: list[dict] = []
        self.best: Optional[dict] = None

    def _kept(self, model: int, step: int, score: Optional[float]) -> dict:
        kept = {"model": model, "step": step, "selection_metric": self.metric, "score": score}
        if self.metric == DEFAULT_SELECTION_METRIC:
            kept["stsb_dev_spearman"] = score
        return kept

    def evaluated(self, step: int) -> bool:
        """True if the models were already scored at ``step``."""
        return bool(self.evaluations) and self.evaluations[-1]["step"] == step

    def record(self, step: int, scores: dict[int, float | dict]) -> Optional[int]:
        """Adds an evaluation; returns the model (1-based) that became the best so far, or
        None if the best did not change.

        Args:
            step: the step evaluated.
            scores: per model (1-based), its selection score, or every figure it was scored
                on (``{"stsb_dev": ..., "retrieval:ndcg@10": ...}``, which holds the
                selection metric's).
        """
        record = {"event": "eval", "step": step}
        for index, figures in scores.items():
            figures = figures if isinstance(figures, dict) else {self.key: figures}
            record.update({f"{key}_model_{index}": value for key, value in figures.items()})
        self.evaluations.append(record)
        model = better_model(record, self.key)
        score = record[f"{self.key}_model_{model}"]
        if self.best is None or score > self.best["score"]:
            self.best = self._kept(model, step, score)
            return model
        return None

    def selection_scores(self, record: Optional[dict] = None) -> dict:
        """``{1: score, 2: score}``: each model's selection score in ``record`` (default: the
        last evaluation)."""
        record = self.last_record if record is None else record
        return {int(name.rsplit("_", 1)[1]): value
                for name, value in scores_of(record, self.key).items()}

    @property
    def last_record(self) -> dict:
        return self.evaluations[-1] if self.evaluations else {}

    def keep_at_end(self, step: int, num_models: int) -> dict:
        """The kept model when ``keep: last`` (or nothing was scored): the better model at the
        end; without scores, the last model (CT's model 2, usually better per the paper)."""
        last = self.last_record
        model = better_model(last, self.key) if last else num_models
        self.best = self._kept(model, step, last.get(f"{self.key}_model_{model}"))
        return self.best

    def kept_is_untouched(self) -> bool:
        """True if the kept model is the starting model (step 0 scored best)."""
        return bool(self.best) and self.best["step"] == 0

    def before_after(self) -> Optional[dict]:
        """``{"before", "after", "evaluations"}`` of STS-B dev for the summary, or None without
        scores."""
        if not self.evaluations:
            return None
        return {"before": scores_of(self.evaluations[0]),
                "after": scores_of(self.evaluations[-1]), "evaluations": self.evaluations}

    def selection_before_after(self) -> Optional[dict]:
        """``{"metric", "before", "after"}``: the selection metric per model at the first and
        last evaluation, or None without scores."""
        if not self.evaluations:
            return None
        return {"metric": self.metric, "before": scores_of(self.evaluations[0], self.key),
                "after": scores_of(self.evaluations[-1], self.key)}

    def state(self) -> dict:
        return {"evaluations": self.evaluations, "best": self.best}

    def load_state(self, state: dict) -> None:
        self.evaluations, self.best = state["evaluations"], state["best"]
        if self.best and "score" not in self.best:  # saved before selection_metric existed
            self.best = self._kept(self.best["model"], self.best["step"],
                                   self.best.get("stsb_dev_spearman"))
