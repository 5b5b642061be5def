"""Does the model fit its data?  Checked before any long work.

A model given the wrong data compiles into a verified, synthesized circuit of garbage: a
model fitted on features scaled outside it (no Pipeline) and given the raw CSV, a wrong
label column, a model for another dataset.  Two measurements catch these:

- **Accuracy against the majority class**: the float model's accuracy on the training
  data must be above the rate of always answering the most frequent class by more than
  two standard errors of that rate (``2 * sqrt(p * (1 - p) / n)``): a model that does not
  beat that on the data it was trained on has not learnt from *this* data.
- **Feature ranges** (where they can be seen: a scaler in the model, or ``--input-scaler``):
  the share of scaled feature values far outside the span the scaler put its training data
  in (:attr:`~.ingest.FloatMLP.trained_span`: a ``MinMaxScaler``'s ``feature_range``, three
  standard deviations about a ``StandardScaler``'s mean), more than one whole span beyond
  it; refused when most values are (:data:`FAR_SHARE`).

``--force`` goes on, with the finding as a warning in the report.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import BespokeError
from .ingest import FloatMLP

#: refused when more than this share of the feature values are far outside
FAR_SHARE = 0.5


@dataclass(frozen=True)
class FitCheck:
    accuracy: float  # the float model's, on the data checked
    majority_rate: float  # of the most frequent class there
    margin: float  # two standard errors of the majority rate
    far_share: float | None  # of feature values far outside the trained range (None: unseen)
    findings: tuple[str, ...]  # why the model does not fit; empty when it does

    def to_dict(self) -> dict:
        return {"float_accuracy": self.accuracy, "majority_class_rate": self.majority_rate,
                "required_margin": self.margin, "far_outside_share": self.far_share,
                "findings": list(self.findings)}


def check_fit(mlp: FloatMLP, X: np.ndarray, y_index: np.ndarray, source: str) -> FitCheck:
    """Measure how the float model fits ``X`` (class indices ``y_index``; see the module
    docstring); ``findings`` says what is wrong, in words."""
    n = len(y_index)
    predicted = np.asarray(mlp.predict(X))
    accuracy = float(np.mean(predicted == mlp.classes[y_index]))
    majority = float(np.bincount(y_index).max() / n)
    margin = 2 * math.sqrt(majority * (1 - majority) / n)
    findings = []
    if accuracy <= majority + margin:
        findings.append(
            f"the model's accuracy on {source} is {100 * accuracy:.1f} %, not clearly above the "
            f"{100 * majority:.1f} % of always answering its most frequent class (required: "
            f"more than {100 * (majority + margin):.1f} %)")
    far = None
    if mlp.trained_span is not None:
        low, high = mlp.trained_span
        scaled = mlp.scaled(X)
        far = float(np.mean((scaled < low - (high - low)) | (scaled > high + (high - low))))
        if far > FAR_SHARE:
            findings.append(f"{100 * far:.0f} % of the feature values of {source} lie far outside "
                            "the range the model's scaler was fitted on")
    return FitCheck(accuracy, majority, margin, far, tuple(findings))


def refuse_unless_fits(check: FitCheck, force: bool) -> None:
    """One line saying what was measured and the likely causes, unless ``force``."""
    if check.findings and not force:
        raise BespokeError(
            "; ".join(check.findings) + ": the model does not fit this data (features scaled "
            "outside the model: pass --input-scaler; a wrong --label-column; a model for "
            "another dataset); pass --force to compile it anyway")
