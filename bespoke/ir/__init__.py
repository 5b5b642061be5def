"""The integer IR and its bit-exact interpreter: the reference every other stage agrees with.

- ``network``: neurons, layers and networks of integers, every value with its exact interval,
  so every width is derived here and nowhere else.
- ``emulate``: the vectorized numpy interpreter of the IR (the golden model of the RTL).
"""
from .emulate import decision_table, predict_codes, trace
from .network import (TABLE_MAX_BITS, ClampActivation, Interval, Layer, Network, Neuron, Term,
                      ThresholdActivation, analyze_layer, csd_digits, table_inputs,
                      trailing_zeros)

__all__ = ["TABLE_MAX_BITS", "ClampActivation", "Interval", "Layer", "Network", "Neuron", "Term",
           "ThresholdActivation", "analyze_layer", "csd_digits", "table_inputs", "trailing_zeros",
           "decision_table", "predict_codes", "trace"]
