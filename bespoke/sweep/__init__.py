"""``bespoke sweep``: every combination of a sweep specification compiled as one job on Dask."""
from .run import load_spec, pareto, plan, run_sweep

__all__ = ["load_spec", "pareto", "plan", "run_sweep"]
