"""The approximation stage: smaller integer networks within an accuracy budget.

- ``knobs``: each approximation as a transformation of the IR (prune, round, truncate, ...).
- ``estimate``: the fast area estimator, calibrated against real synthesis.
- ``retrain``: hardware-aware retraining of the integer design.
- ``search``: the greedy and NSGA-II searches and the Pareto front they hand on.
"""
from .estimate import AreaModel
from .search import SearchOptions, SearchResult, search, write_front

__all__ = ["AreaModel", "SearchOptions", "SearchResult", "search", "write_front"]
