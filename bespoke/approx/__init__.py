"""The approximation stage: smaller integer networks within an accuracy budget.

- ``knobs``: each approximation as a transformation of the IR (prune, round, truncate, ...).
- ``estimate``: the fast area estimator, calibrated against real synthesis.
- ``retrain``: hardware-aware retraining of the integer design.
- ``search``: the search as a whole (greedy, then NSGA-II restarts) and its Pareto front, from
  ``candidates`` (options, candidates, results), ``neighbourhood`` and ``scoring`` (the budget
  rule), ``greedy`` and ``nsga2``.
"""
from .candidates import Candidate, SearchOptions, SearchResult, pareto_front
from .estimate import AreaModel
from .greedy import RETRAINED

# the search itself is ``bespoke.approx.search.search`` (the module keeps its name here)
__all__ = ["AreaModel", "Candidate", "RETRAINED", "SearchOptions", "SearchResult",
           "pareto_front"]
