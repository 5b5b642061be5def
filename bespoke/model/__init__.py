"""The model stage: what the user gives and its integer form.

- ``ingest``: a fitted scikit-learn ``MLPClassifier`` (or scaler + MLP pipeline) from a file,
  loaded safely, as a :class:`FloatMLP`.
- ``data``: CSV files, label alignment and the flow's stratified split.
- ``quantize``: the float model to the integer IR (input codes, weights, activations).
- ``spec``: integer specifications (JSON) straight to the IR, for weights from elsewhere.
"""
from .data import Dataset, align_labels, read_csv, split
from .ingest import FloatMLP, UntrustedModelError, from_estimator, load_model
from .quantize import InputQuantizer, QuantizeOptions, quantize
from .spec import load_integer_spec, network_from_spec

__all__ = ["Dataset", "align_labels", "read_csv", "split", "FloatMLP", "UntrustedModelError",
           "from_estimator", "load_model", "InputQuantizer", "QuantizeOptions", "quantize",
           "load_integer_spec", "network_from_spec"]
