"""``bespoke sweep``: every combination of a sweep specification, compiled as one job each
on Dask distributed.

A specification (TOML, format in README.md, "Sweeps") lists model sources, fitted model
files or datasets and topologies to train, and compile options, each a value or a list of
values to vary; every source x option combination is one job, one :func:`bespoke.flow.
run_compile`.  Jobs run on a Dask ``LocalCluster`` of this machine, or on an existing
cluster (``scheduler`` address).

- Inputs travel with the job (model, data and liberty bytes) and the compiled folder comes
  back as bytes, so workers need no shared file system; only this process writes to the
  output folder, and each job's folder is moved into place whole.
- A job that fails (bad input, tool crash, worker lost) is recorded with its error and
  submitted once more; the other jobs go on.
- Each job is keyed by a hash of its model, data, options and the tool versions (bespoke's
  own source included); a rerun of the same sweep skips jobs whose folder holds that key.

Modules: :mod:`.spec` reads the specification, :mod:`.jobs` turns it into keyed jobs,
:mod:`.run` runs them on Dask and :mod:`.results` writes the tables and the plot.
"""
from .jobs import Job, plan, tool_versions
from .results import JobResult, SweepSummary, pareto
from .run import run_job, run_sweep
from .spec import Source, SweepSpec, load_spec

__all__ = ["SweepSpec", "Source", "Job", "JobResult", "SweepSummary", "load_spec", "plan",
           "run_sweep", "run_job", "tool_versions", "pareto"]
